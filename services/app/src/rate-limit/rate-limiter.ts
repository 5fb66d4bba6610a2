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

/**
 * In-process windows, one map per window length: a window is (re)started at the map's end, so each map is
 * in reset order and expired windows leave from its front, a few per hit. (A sweep of the whole map on
 * every hit past 10,000 live windows made each hit cost ~2 ms at 50,000 client addresses.) Beyond
 * `maxWindows` the oldest windows are dropped: memory stays bounded whatever addresses arrive.
 */
export function createMemoryRateLimiter({
  now = Date.now,
  maxWindows = 100_000,
}: { now?: () => number; maxWindows?: number } = {}): RateLimiter {
  const byLength = new Map<number, Map<string, { count: number; resetAt: number }>>()
  let live = 0

  const dropFront = (windows: Map<string, { count: number; resetAt: number }>): boolean => {
    const first = windows.keys().next()
    if (first.done === true) return false
    windows.delete(first.value)
    live -= 1
    return true
  }

  return {
    hit(key, { limit, windowS }) {
      const at = now()
      let windows = byLength.get(windowS)
      if (windows === undefined) {
        windows = new Map()
        byLength.set(windowS, windows)
      }
      for (const [, first] of windows) {
        if (first.resetAt > at) break
        dropFront(windows)
      }
      let window = windows.get(key)
      if (window === undefined) {
        window = { count: 0, resetAt: at + windowS * 1000 }
        windows.set(key, window)
        live += 1
        while (live > maxWindows) {
          const longest = [...byLength.values()].reduce((a, b) => (b.size > a.size ? b : a))
          if (!dropFront(longest)) break
        }
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
