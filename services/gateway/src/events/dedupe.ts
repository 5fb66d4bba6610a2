// Claims for inbound messages, so WeChat's retries of one message have one effect (Redis or in-process).
import { hash } from 'node:crypto'
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
  /** Beyond this many live keys, those expiring soonest are dropped first. */
  maxEntries?: number
  now?: () => number
}

/** One TTL's keys in the order they were given it, which is also the order they expire in. */
interface ExpiryQueue {
  keys: string[]
  expiries: number[]
  head: number
}

/**
 * In-process claims, for one gateway. Expired keys leave as time passes: a store that only evicted
 * beyond its size sat at its size for ever, which at 200,000 keys of ~360 bytes was most of a
 * gateway's 100 MiB. Each TTL (a claim's handling time, a held event's hour, a query mark's 601 s) has
 * its own queue, in expiry order; a key whose expiry has changed since leaves its old place unread.
 * Keys are hashed: a push's key is made of slices of its request (URL, decrypted XML), and a slice
 * keeps its whole parent string alive. At the default size the store holds at most ~12 MB.
 */
export function createMemoryDedupeStore(
  options: MemoryDedupeOptions = {},
): DedupeStore & { size(): number; queued(): number } {
  const { maxEntries = 100_000, now = Date.now } = options
  const expiries = new Map<string, number>()
  const queues = new Map<number, ExpiryQueue>()
  /** Entries in all queues, stale ones included (a key held again leaves its old entry behind). */
  let queued = 0

  /** Drops the front entry of `queue`: its key too, unless the key has moved on since. */
  const dropFront = (queue: ExpiryQueue): void => {
    const key = queue.keys[queue.head] as string
    if (expiries.get(key) === queue.expiries[queue.head]) expiries.delete(key)
    queue.head += 1
    queued -= 1
    if (queue.head >= 1024 && queue.head * 2 >= queue.keys.length) {
      queue.keys = queue.keys.slice(queue.head)
      queue.expiries = queue.expiries.slice(queue.head)
      queue.head = 0
    }
  }

  const dropStale = (): void => {
    queued = 0
    const kept = new Set<string>()
    for (const queue of queues.values()) {
      const keys: string[] = []
      const times: number[] = []
      for (let i = queue.head; i < queue.keys.length; i += 1) {
        const key = queue.keys[i] as string
        const expiry = queue.expiries[i] as number
        if (expiries.get(key) === expiry && !kept.has(key)) {
          kept.add(key)
          keys.push(key)
          times.push(expiry)
        }
      }
      queue.keys = keys
      queue.expiries = times
      queue.head = 0
      queued += keys.length
    }
  }

  const dropExpired = (at: number): void => {
    for (const queue of queues.values()) {
      while (queue.head < queue.keys.length && (queue.expiries[queue.head] as number) <= at) {
        dropFront(queue)
      }
    }
  }

  /** The queue whose front expires first (undefined when all are empty). */
  const soonest = (): ExpiryQueue | undefined => {
    let first: ExpiryQueue | undefined
    for (const queue of queues.values()) {
      if (queue.head === queue.keys.length) continue
      if (
        first === undefined ||
        (queue.expiries[queue.head] as number) < (first.expiries[first.head] as number)
      ) {
        first = queue
      }
    }
    return first
  }

  const remember = (key: string, ttlS: number, at: number): void => {
    const expiry = at + ttlS * 1000
    // Held again within the same millisecond: the entry already queued says it all.
    if (expiries.get(key) === expiry) return
    expiries.set(key, expiry)
    let queue = queues.get(ttlS)
    if (queue === undefined) {
      queue = { keys: [], expiries: [], head: 0 }
      queues.set(ttlS, queue)
    }
    queue.keys.push(key)
    queue.expiries.push(expiry)
    queued += 1
    // One key held again and again (a retried or replayed push) leaves a stale entry each time, which
    // would wait out the whole TTL: past twice the live keys, the queues keep only live entries.
    if (queued > 2 * expiries.size + 1024) dropStale()
    while (expiries.size > maxEntries) {
      const first = soonest()
      if (first === undefined) break
      dropFront(first)
    }
  }

  const lookup = (rawKey: string, at: number): { key: string; held: boolean } => {
    dropExpired(at)
    const key = hash('sha1', rawKey, 'base64')
    const expiry = expiries.get(key)
    return { key, held: expiry !== undefined && expiry > at }
  }

  return {
    claim(rawKey, ttlS) {
      const at = now()
      const { key, held } = lookup(rawKey, at)
      // Seen again (a retry) while held: its expiry stays what it was.
      if (held) return Promise.resolve(false)
      remember(key, ttlS, at)
      return Promise.resolve(true)
    },
    hold(rawKey, ttlS) {
      const at = now()
      remember(lookup(rawKey, at).key, ttlS, at)
      return Promise.resolve()
    },
    isHeld(rawKey) {
      return Promise.resolve(lookup(rawKey, now()).held)
    },
    release(rawKey) {
      expiries.delete(hash('sha1', rawKey, 'base64'))
      return Promise.resolve()
    },
    /** Live keys (what is held, expired ones left as time passes). */
    size() {
      dropExpired(now())
      return expiries.size
    },
    /** Entries in its expiry queues, stale ones included: what its memory is. */
    queued() {
      return queued
    },
    close() {
      expiries.clear()
      queues.clear()
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
