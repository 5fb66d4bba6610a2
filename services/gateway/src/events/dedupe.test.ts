import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { createMemoryDedupeStore, createRedisDedupeStore } from './dedupe.js'

describe('in-process dedupe store', () => {
  it('lets only the first claim of a key through until it expires', async () => {
    let now = 1_000_000
    const store = createMemoryDedupeStore({ now: () => now })
    assert.equal(await store.claim('msg:1', 60), true)
    assert.equal(await store.claim('msg:1', 60), false)
    now += 59_000
    assert.equal(await store.claim('msg:1', 60), false)
    now += 2_000
    assert.equal(await store.claim('msg:1', 60), true)
  })

  it('holds a claim for longer once asked to', async () => {
    let now = 1_000_000
    const store = createMemoryDedupeStore({ now: () => now })
    assert.equal(await store.claim('evt:1', 3), true)
    await store.hold('evt:1', 3600)
    now += 60_000
    assert.equal(await store.claim('evt:1', 3), false)
    assert.equal(await store.claim('evt:2', 3), true)
    now += 4_000
    assert.equal(await store.claim('evt:2', 3), true, 'a claim never held lapses')
  })

  it('tells whether a claim is held, without claiming', async () => {
    let now = 1_000_000
    const store = createMemoryDedupeStore({ now: () => now })
    assert.equal(await store.isHeld('q:1'), false)
    assert.equal(await store.isHeld('q:1'), false, 'asking claimed nothing')
    await store.claim('q:1', 60)
    assert.equal(await store.isHeld('q:1'), true)
    now += 61_000
    assert.equal(await store.isHeld('q:1'), false, 'expired')
  })

  it('lets a released key be claimed again', async () => {
    const store = createMemoryDedupeStore()
    assert.equal(await store.claim('evt:o1:1', 60), true)
    await store.release('evt:o1:1')
    assert.equal(await store.claim('evt:o1:1', 60), true)
  })

  it('beyond its size, drops the keys that expire soonest', async () => {
    const store = createMemoryDedupeStore({ maxEntries: 2, now: () => 1_000_000 })
    await store.hold('long', 3600)
    await store.claim('short', 60)
    await store.claim('c', 600)
    assert.equal(await store.isHeld('short'), false, 'expired first: dropped')
    assert.equal(await store.isHeld('long'), true)
    assert.equal(await store.isHeld('c'), true)
  })

  it('keeps its queues to the live keys when one key is held again and again (a replayed push)', async () => {
    let now = 1_000_000
    const store = createMemoryDedupeStore({ now: () => now })
    for (let i = 0; i < 100_000; i += 1) {
      if (i % 100 === 0) now += 1
      await store.hold(`query-aes:${i % 10}`, 601)
    }
    assert.equal(store.size(), 10)
    assert.ok(store.queued() <= 2 * 10 + 1024, `${store.queued()} queue entries for 10 keys`)
    now += 602_000
    assert.equal(store.size(), 0)
    assert.equal(store.queued(), 0)
  })

  it('lets expired keys go, so it shrinks back as time passes', async () => {
    let now = 1_000_000
    const store = createMemoryDedupeStore({ now: () => now })
    for (let i = 0; i < 50_000; i += 1) await store.hold(`query-aes:${i}`.padEnd(60, 'x'), 601)
    for (let i = 0; i < 20_000; i += 1) await store.claim(`evt:${i}`, 3)
    await store.hold('evt:0', 3600)
    assert.equal(await store.isHeld('query-aes:1'.padEnd(60, 'x')), true)
    now += 602_000
    assert.equal(await store.isHeld('query-aes:1'.padEnd(60, 'x')), false)
    assert.equal(await store.isHeld('evt:0'), true, 'held for its hour, not its first 3 s')
    assert.equal(store.size(), 1, 'only the event held for an hour is left')
  })
})

describe('Redis dedupe store', async () => {
  const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  })
  let available = true
  try {
    await redis.connect()
  } catch {
    available = false
  }
  after(async () => {
    if (available) await redis.quit()
    else redis.disconnect()
  })
  const prefix = `wxgate:test:${randomUUID()}:`

  it('shares claims between two stores on the same Redis', { skip: !available }, async () => {
    const first = createRedisDedupeStore({ redis, keyPrefix: prefix })
    const second = createRedisDedupeStore({ redis, keyPrefix: prefix })
    assert.equal(await first.claim('msg:42', 30), true)
    assert.equal(await second.claim('msg:42', 30), false)
    assert.equal(await second.isHeld('msg:42'), true)
    assert.equal(await second.isHeld('msg:43'), false)
    const ttl = await redis.ttl(`${prefix}msg:42`)
    assert.ok(ttl > 0 && ttl <= 30, `ttl ${ttl}`)
    await first.hold('msg:42', 3600)
    const held = await redis.ttl(`${prefix}msg:42`)
    assert.ok(held > 30 && held <= 3600, `ttl after hold ${held}`)
    await first.release('msg:42')
    assert.equal(await second.claim('msg:42', 30), true)
    await redis.del(`${prefix}msg:42`)
  })
})
