// Fixed-window rate limiter: in-process, or shared across instances in Redis when REDIS_URL is set.
import type { Redis } from 'ioredis'

export interface RateLimitResult {
  allowed: boolean
  /** Seconds until the window resets (0 when allowed). */
  retryAfterS: number
}

export interface RateLimiter {
  hit(key: string, rule: { limit: number; windowS: number }): Promise<RateLimitResult>
}

export function createMemoryRateLimiter({
  now = Date.now,
}: { now?: () => number } = {}): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>()
  return {
    hit(key, { limit, windowS }) {
      const at = now()
      // Bounded memory: expired windows are dropped when the map grows.
      if (windows.size > 10_000) {
        for (const [k, w] of windows) if (w.resetAt <= at) windows.delete(k)
      }
      let window = windows.get(key)
      if (window === undefined || window.resetAt <= at) {
        window = { count: 0, resetAt: at + windowS * 1000 }
        windows.set(key, window)
      }
      window.count += 1
      const allowed = window.count <= limit
      const retryAfterS = allowed ? 0 : Math.max(1, Math.ceil((window.resetAt - at) / 1000))
      return Promise.resolve({ allowed, retryAfterS })
    },
  }
}

// INCR, set the expiry on the first hit, return count and remaining ms, atomically.
const HIT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { n, redis.call('PTTL', KEYS[1]) }
`

export function createRedisRateLimiter(
  redis: Redis,
  { prefix = 'wxgate:app:rl:' } = {},
): RateLimiter {
  return {
    async hit(key, { limit, windowS }) {
      const [count, ttlMs] = (await redis.eval(HIT_SCRIPT, 1, prefix + key, windowS * 1000)) as [
        number,
        number,
      ]
      const allowed = count <= limit
      const retryAfterS = allowed ? 0 : Math.max(1, Math.ceil(Math.max(ttlMs, 0) / 1000))
      return { allowed, retryAfterS }
    },
  }
}
