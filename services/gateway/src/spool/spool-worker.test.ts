import { afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSpool } from './spool.js'
import type { Spool, SpoolEntry } from './spool.js'
import { createSpoolWorker } from './spool-worker.js'
import type { DeliveryOutcome, SpoolWorker } from './spool-worker.js'

interface Item {
  n: number
}
const isItem = (value: unknown): value is Item =>
  typeof value === 'object' && value !== null && typeof (value as { n?: unknown }).n === 'number'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function setup(
  deliver: (entry: SpoolEntry<Item>) => Promise<DeliveryOutcome>,
  dir?: string,
): Promise<{ spool: Spool<Item>; worker: SpoolWorker<Item>; dir: string; depths: number[] }> {
  const spoolDir = dir ?? (await mkdtemp(join(tmpdir(), 'gateway-worker-')))
  if (dir === undefined) cleanups.push(() => rm(spoolDir, { recursive: true, force: true }))
  const spool = await openSpool({ dir: spoolDir, isPayload: isItem })
  const depths: number[] = []
  const worker = createSpoolWorker({
    spool,
    deliver,
    backoff: { initialMs: 5, maxMs: 20 },
    onDepth: (d) => depths.push(d),
  })
  cleanups.push(() => worker.stop())
  return { spool, worker, dir: spoolDir, depths }
}

function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const tick = (): void => {
      if (check()) resolve()
      else if (Date.now() - started > timeoutMs) reject(new Error('condition not met in time'))
      else setTimeout(tick, 2)
    }
    tick()
  })
}

describe('spool worker', () => {
  it('retries with backoff until delivery succeeds, keeping each key in order', async () => {
    const delivered: string[] = []
    let failuresLeft = 3
    const { worker, depths } = await setup((entry) => {
      if (entry.key === 'u1' && failuresLeft > 0) {
        failuresLeft -= 1
        return Promise.resolve('retry')
      }
      delivered.push(`${entry.key}:${entry.payload.n}`)
      return Promise.resolve('done')
    })
    worker.start()
    for (const n of [1, 2, 3]) await worker.enqueue('u1', { n })
    await worker.enqueue('u2', { n: 9 })
    await until(() => worker.depth() === 0)
    assert.deepEqual(
      delivered.filter((d) => d.startsWith('u1')),
      ['u1:1', 'u1:2', 'u1:3'],
    )
    assert.ok(delivered.includes('u2:9'))
    assert.equal(failuresLeft, 0)
    assert.equal(depths.at(-1), 0)
  })

  it('removes an entry that is refused for good and goes on with the next', async () => {
    const seen: number[] = []
    const { worker } = await setup((entry) => {
      seen.push(entry.payload.n)
      return Promise.resolve(entry.payload.n === 1 ? 'drop' : 'done')
    })
    worker.start()
    await worker.enqueue('u1', { n: 1 })
    await worker.enqueue('u1', { n: 2 })
    await until(() => worker.depth() === 0)
    assert.deepEqual(seen, [1, 2])
  })

  it('treats a delivery that throws as one to retry', async () => {
    let calls = 0
    const { worker } = await setup(() => {
      calls += 1
      if (calls === 1) return Promise.reject(new Error('boom'))
      return Promise.resolve('done')
    })
    worker.start()
    await worker.enqueue('u1', { n: 1 })
    await until(() => worker.depth() === 0)
    assert.equal(calls, 2)
  })

  it('delivers what an earlier process left once started, and nothing before', async () => {
    const first = await setup(() => Promise.resolve('retry' as const))
    await first.worker.enqueue('u1', { n: 1 })
    await first.worker.enqueue('u1', { n: 2 })
    await first.worker.stop()
    const seen: number[] = []
    const second = await setup((entry) => {
      seen.push(entry.payload.n)
      return Promise.resolve('done')
    }, first.dir)
    assert.equal(second.worker.hasPending('u1'), true)
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.deepEqual(seen, [], 'nothing is delivered before start()')
    second.worker.start()
    await until(() => second.worker.depth() === 0)
    assert.deepEqual(seen, [1, 2])
    assert.equal(second.worker.hasPending('u1'), false)
  })

  it('while app turns deliveries away, lets one key probe for all; once one is taken, delivers every key', async () => {
    let appUp = false
    let attempts = 0
    const delivered: string[] = []
    const { worker } = await setup((entry) => {
      attempts += 1
      if (!appUp) return Promise.resolve('retry')
      delivered.push(entry.key)
      return Promise.resolve('done')
    })
    worker.start()
    for (let i = 0; i < 40; i += 1) await worker.enqueue(`u${i}`, { n: i })
    await new Promise((resolve) => setTimeout(resolve, 300))
    // A timer per key made each of the 40 try every ≤ 20 ms: ~600 attempts in 300 ms.
    assert.ok(attempts < 100, `${attempts} attempts while app was away`)
    appUp = true
    await until(() => worker.depth() === 0)
    assert.equal(new Set(delivered).size, 40)
  })

  it('stops retrying once stopped', async () => {
    let calls = 0
    const { worker } = await setup(() => {
      calls += 1
      return Promise.resolve('retry')
    })
    worker.start()
    await worker.enqueue('u1', { n: 1 })
    await until(() => calls >= 1)
    await worker.stop()
    const after = calls
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.equal(calls, after)
    assert.equal(worker.depth(), 1, 'the entry stays on disk for the next start')
  })
})
