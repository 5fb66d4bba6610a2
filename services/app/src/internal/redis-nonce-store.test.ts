import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { createRedisNonceStore } from './redis-nonce-store.js'

describe('createRedisNonceStore', () => {
  it('lets a nonce be claimed once across every instance sharing Redis', async (t) => {
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
      const a = createRedisNonceStore(redis, { prefix })
      const b = createRedisNonceStore(redis, { prefix })
      const nonce = randomBytes(12).toString('hex')
      assert.equal(await a.claim(nonce, 600), true)
      assert.equal(await b.claim(nonce, 600), false, 'another instance sees the claim')
      const ttl = await redis.ttl(prefix + nonce)
      assert.ok(ttl > 590 && ttl <= 600, `ttl ${ttl}`)
      assert.equal(await b.claim(`${nonce}x`, 600), true)
      await redis.del(prefix + nonce, `${prefix}${nonce}x`)
    } finally {
      redis.disconnect()
    }
  })
})
