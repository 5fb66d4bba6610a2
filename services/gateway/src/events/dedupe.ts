// Claims for inbound messages, so WeChat's retries of one message have one effect (Redis or in-process).
import { closeRedisClient } from '@wxgate/service-kit'
import type { Redis } from 'ioredis'

/**
 * A claim is taken (briefly) before processing, held longer once its effect is recorded, and released if
 * processing failed without spooling.
 */
export interface DedupeStore {
  /** True when this caller is the first to claim `key` within `ttlS` seconds. */
  claim(key: string, ttlS: number): Promise<boolean>
  /** Holds `key` for `ttlS` seconds from now, claimed or not (extends a claim once its effect is recorded). */
  hold(key: string, ttlS: number): Promise<void>
  /** True while a claim of `key` is held (read only: claims nothing). */
  isHeld(key: string): Promise<boolean>
  release(key: string): Promise<void>
  close(): Promise<void>
}

export interface MemoryDedupeOptions {
  /** Least recently seen entries are evicted beyond this many. */
  maxEntries?: number
  now?: () => number
}

/** In-process LRU + TTL; one instance only. */
export function createMemoryDedupeStore(options: MemoryDedupeOptions = {}): DedupeStore {
  const { maxEntries = 200_000, now = Date.now } = options
  // Map keeps insertion order, so the first key is always the least recently seen one.
  const expiries = new Map<string, number>()
  /** (Re)inserts `key` at the young end, evicting the least recently seen beyond maxEntries. */
  const remember = (key: string, expiry: number): void => {
    expiries.delete(key)
    expiries.set(key, expiry)
    while (expiries.size > maxEntries) {
      const oldest = expiries.keys().next()
      if (oldest.done === true) break
      expiries.delete(oldest.value)
    }
  }
  return {
    claim(key, ttlS) {
      const at = now()
      const expiry = expiries.get(key)
      if (expiry !== undefined && expiry > at) {
        // Seen again (a retry): move it to the young end, its expiry unchanged.
        remember(key, expiry)
        return Promise.resolve(false)
      }
      remember(key, at + ttlS * 1000)
      return Promise.resolve(true)
    },
    hold(key, ttlS) {
      remember(key, now() + ttlS * 1000)
      return Promise.resolve()
    },
    isHeld(key) {
      const expiry = expiries.get(key)
      return Promise.resolve(expiry !== undefined && expiry > now())
    },
    release(key) {
      expiries.delete(key)
      return Promise.resolve()
    },
    close() {
      expiries.clear()
      return Promise.resolve()
    },
  }
}

export interface RedisDedupeOptions {
  redis: Redis
  keyPrefix?: string
  /** Close the connection on `close()`: true when the caller hands the connection over to the store. */
  ownsConnection?: boolean
}

/** Shared across gateway instances: `SET key 1 EX ttl NX`. */
export function createRedisDedupeStore(options: RedisDedupeOptions): DedupeStore {
  const { redis, keyPrefix = 'wxgate:gateway:dedupe:', ownsConnection = false } = options
  return {
    async claim(key, ttlS) {
      const answer = await redis.set(keyPrefix + key, '1', 'EX', ttlS, 'NX')
      return answer === 'OK'
    },
    async hold(key, ttlS) {
      await redis.set(keyPrefix + key, '1', 'EX', ttlS)
    },
    async isHeld(key) {
      return (await redis.exists(keyPrefix + key)) === 1
    },
    async release(key) {
      await redis.del(keyPrefix + key)
    },
    async close() {
      if (ownsConnection) await closeRedisClient(redis)
    },
  }
}
