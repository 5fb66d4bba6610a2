import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { createMemoryRateLimiter, createRedisRateLimiter } from './rate-limiter.js'

describe('createMemoryRateLimiter', () => {
  it('allows up to the limit in a window, then refuses with the seconds left', async () => {
    let clock = 1_000_000
    const limiter = createMemoryRateLimiter({ now: () => clock })
    const rule = { limit: 2, windowS: 10 }
    assert.equal((await limiter.hit('ip:1', rule)).allowed, true)
    assert.equal((await limiter.hit('ip:1', rule)).allowed, true)
    clock += 3_000
    assert.deepEqual(await limiter.hit('ip:1', rule), { allowed: false, retryAfterS: 7 })
    assert.equal((await limiter.hit('ip:2', rule)).allowed, true, 'keys are independent')
    clock += 7_000
    assert.equal((await limiter.hit('ip:1', rule)).allowed, true, 'a new window starts')
  })

  it('keeps at most maxWindows windows, dropping the oldest', async () => {
    const clock = 1_000_000
    const limiter = createMemoryRateLimiter({ now: () => clock, maxWindows: 2 })
    const rule = { limit: 1, windowS: 60 }
    assert.equal((await limiter.hit('a', rule)).allowed, true)
    assert.equal((await limiter.hit('a', rule)).allowed, false)
    await limiter.hit('b', rule)
    await limiter.hit('c', rule)
    assert.equal((await limiter.hit('a', rule)).allowed, true, "a's window was the oldest: dropped")
    assert.equal((await limiter.hit('c', rule)).allowed, false, "c's is kept")
  })

  it('keeps windows of different lengths apart, each expiring on its own', async () => {
    let clock = 1_000_000
    const limiter = createMemoryRateLimiter({ now: () => clock })
    const minute = { limit: 1, windowS: 60 }
    const hour = { limit: 1, windowS: 3600 }
    await limiter.hit('m', minute)
    await limiter.hit('h', hour)
    clock += 61_000
    assert.equal((await limiter.hit('m', minute)).allowed, true)
    assert.equal((await limiter.hit('h', hour)).allowed, false)
  })
})

describe('createRedisRateLimiter', () => {
  it('counts hits in Redis so every instance shares the window', async (t) => {
    const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    })
    try {
      await redis.connect()
    } catch (error) {
      t.skip(`Redis not reachable: ${String(error)}`)
      redis.disconnect()
      return
    }
    try {
      const prefix = `wxgate:test:${randomBytes(6).toString('hex')}:`
      const a = createRedisRateLimiter(redis, { prefix })
      const b = createRedisRateLimiter(redis, { prefix })
      const rule = { limit: 2, windowS: 30 }
      assert.equal((await a.hit('k', rule)).allowed, true)
      assert.equal((await b.hit('k', rule)).allowed, true)
      const third = await a.hit('k', rule)
      assert.equal(third.allowed, false)
      assert.ok(third.retryAfterS >= 1 && third.retryAfterS <= 30)
      await redis.del(`${prefix}k`)
    } finally {
      redis.disconnect()
    }
  })
})
