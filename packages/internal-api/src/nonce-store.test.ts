// Tests for the memory nonce store: replay refusal, expiry and the size bound.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMemoryNonceStore } from './nonce-store.js'

describe('createMemoryNonceStore', () => {
  it('claims a nonce once and refuses a replay within its TTL', async () => {
    let now = 1_000_000
    const store = createMemoryNonceStore({ now: () => now })
    assert.equal(await store.claim('n1', 600), true)
    assert.equal(await store.claim('n1', 600), false)
    now += 599_999
    assert.equal(await store.claim('n1', 600), false)
    assert.equal(await store.claim('n2', 600), true)
  })

  it('frees a nonce once its TTL has passed and forgets expired entries', async () => {
    let now = 0
    const store = createMemoryNonceStore({ now: () => now })
    for (let i = 0; i < 10; i += 1) await store.claim(`old${i}`, 60)
    assert.equal(store.size, 10)
    now += 60_000
    assert.equal(await store.claim('fresh', 60), true)
    assert.equal(store.size, 1)
    assert.equal(await store.claim('old3', 60), true)
  })

  it('stays within maxEntries by forgetting the oldest nonce', async () => {
    const store = createMemoryNonceStore({ maxEntries: 3, now: () => 0 })
    for (const n of ['a', 'b', 'c', 'd']) assert.equal(await store.claim(n, 600), true)
    assert.equal(store.size, 3)
    assert.equal(await store.claim('d', 600), false)
    assert.equal(await store.claim('b', 600), false)
  })

  it('says when the bound forces out a nonce still inside its TTL, and for how long it was kept', async () => {
    let clock = 0
    const forgotten: number[] = []
    const store = createMemoryNonceStore({
      maxEntries: 2,
      now: () => clock,
      onForgetUnexpired: (keptForS) => forgotten.push(keptForS),
    })
    await store.claim('a', 600)
    clock = 10_000
    await store.claim('b', 600)
    assert.deepEqual(forgotten, [])
    clock = 20_000
    await store.claim('c', 600)
    assert.deepEqual(forgotten, [20])
    // Expired entries are swept, not forced out: no call.
    clock = 1_000_000
    await store.claim('d', 600)
    await store.claim('e', 600)
    assert.deepEqual(forgotten, [20])
  })

  it('rejects a nonsensical size bound', () => {
    assert.throws(() => createMemoryNonceStore({ maxEntries: 0 }), RangeError)
  })
})
