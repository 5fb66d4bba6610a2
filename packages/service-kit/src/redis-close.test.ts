import assert from 'node:assert/strict'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { closeRedisClient } from './redis-close.js'
import { closedPort } from './testing.js'

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

describe('closeRedisClient', () => {
  it('quits a connected client', async () => {
    const redis = new Redis(REDIS_URL, { lazyConnect: true })
    await redis.connect()
    const ended = once(redis, 'end')
    await closeRedisClient(redis)
    await ended
    assert.equal(redis.status, 'end')
  })

  for (const enableOfflineQueue of [false, true]) {
    it(`stops a client whose Redis is away, without throwing (offline queue ${enableOfflineQueue ? 'on' : 'off'})`, async () => {
      const redis = new Redis(`redis://127.0.0.1:${await closedPort()}`, {
        enableOfflineQueue,
        maxRetriesPerRequest: 1,
      })
      redis.on('error', () => undefined)
      await new Promise((resolve) => redis.once('reconnecting', resolve))
      // quit() here throws (queue off) or waits for a reconnection that never comes (queue on).
      await closeRedisClient(redis)
      let attempts = 0
      redis.on('reconnecting', () => (attempts += 1))
      await sleep(500)
      assert.equal(attempts, 0, 'no reconnection after close (it would keep the process alive)')
    })
  }
})
