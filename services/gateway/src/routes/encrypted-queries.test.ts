import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { FastifyBaseLogger } from 'fastify'
import { createMemoryDedupeStore, type DedupeStore } from '../events/dedupe.js'
import { createEncryptedQueryMarks } from './encrypted-queries.js'

const silent = { warn: () => undefined } as unknown as FastifyBaseLogger

/** A shared store (as Redis) that can be taken away and brought back. */
function flakyStore(now: () => number) {
  const store = createMemoryDedupeStore({ now })
  let down = false
  const guard = <T>(run: () => Promise<T>): Promise<T> =>
    down ? Promise.reject(new Error('redis away')) : run()
  const shared: DedupeStore = {
    claim: (key, ttlS) => guard(() => store.claim(key, ttlS)),
    hold: (key, ttlS) => guard(() => store.hold(key, ttlS)),
    isHeld: (key) => guard(() => store.isHeld(key)),
    release: (key) => guard(() => store.release(key)),
    close: () => store.close(),
  }
  return {
    shared,
    setDown: (value: boolean) => {
      down = value
    },
  }
}

/** One gateway's marks: its own store, over the shared one. */
function gatewayMarks(shared: DedupeStore, now: () => number, failClosed = true) {
  return createEncryptedQueryMarks({
    local: createMemoryDedupeStore({ now }),
    shared,
    failClosed,
    log: silent,
    now,
  })
}

describe('encrypted query marks', () => {
  it('shares a mark with every gateway through the shared store', async () => {
    const now = () => 1_000_000
    const { shared } = flakyStore(now)
    const one = gatewayMarks(shared, now)
    const two = gatewayMarks(shared, now)
    await one.mark('sig-a', 601)
    assert.equal(await two.wasMarked('sig-a'), true)
    assert.equal(await two.wasMarked('sig-b'), false)
  })

  it('while the shared store is away: its own marks still hold, and an unknown query is refused (503)', async () => {
    const now = () => 1_000_000
    const flaky = flakyStore(now)
    const marks = gatewayMarks(flaky.shared, now)
    flaky.setDown(true)
    await marks.mark('sig-a', 601)
    assert.equal(await marks.wasMarked('sig-a'), true)
    await assert.rejects(
      marks.wasMarked('sig-other'),
      (error: { code?: string; statusCode?: number }) =>
        error.code === 'PUSH_CHECK_UNAVAILABLE' && error.statusCode === 503,
    )
  })

  it('without decryption (plaintext mode) a query the store cannot vouch for is taken', async () => {
    const now = () => 1_000_000
    const flaky = flakyStore(now)
    const marks = gatewayMarks(flaky.shared, now, false)
    flaky.setDown(true)
    assert.equal(await marks.wasMarked('sig-other'), false)
  })

  it('shares the marks the store missed once it answers again, with the time they have left', async () => {
    let clock = 1_000_000
    const now = () => clock
    const flaky = flakyStore(now)
    const one = gatewayMarks(flaky.shared, now)
    const two = gatewayMarks(flaky.shared, now)
    flaky.setDown(true)
    await one.mark('sig-missed', 601)
    await one.mark('sig-gone', 2)
    clock += 5_000
    flaky.setDown(false)
    await one.mark('sig-next', 601)
    // Sharing runs beside the push that found the store back; let it finish.
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(await two.wasMarked('sig-missed'), true)
    assert.equal(await two.wasMarked('sig-gone'), false, 'expired while the store was away')
    clock += 597_000
    assert.equal(await two.wasMarked('sig-missed'), false, 'held for what was left of its 601 s')
  })
})
