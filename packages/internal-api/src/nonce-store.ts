// Replay protection: a nonce may be claimed once within its TTL. Memory store here; Redis lives in app.

export interface NonceStore {
  /** Claims `nonce` for `ttlS` seconds; false when it was already claimed and not yet expired. */
  claim(nonce: string, ttlS: number): Promise<boolean>
}

export interface MemoryNonceStoreOptions {
  /** Upper bound on remembered nonces; the oldest is forgotten first. Default 100 000. */
  maxEntries?: number
  /** Milliseconds clock; default `Date.now`. */
  now?: () => number
  /**
   * Called when the bound forces out a nonce whose TTL has not passed: from then on a replay of it would be
   * taken. The caller says so (app logs it: at that rate, replay protection needs `REDIS_URL`).
   */
  onForgetUnexpired?: (keptForS: number) => void
}

export interface MemoryNonceStore extends NonceStore {
  readonly size: number
}

/**
 * A Map in insertion order doubles as the expiry queue: with one TTL per caller (the usual case)
 * the head is always the next to expire, so each claim drops expired heads in O(1) amortised.
 */
export function createMemoryNonceStore(options: MemoryNonceStoreOptions = {}): MemoryNonceStore {
  const maxEntries = options.maxEntries ?? 100_000
  const now = options.now ?? Date.now
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError('maxEntries must be a positive integer')
  }
  const expiries = new Map<string, number>()

  function sweep(at: number): void {
    for (const [nonce, expiresAt] of expiries) {
      if (expiresAt > at) return
      expiries.delete(nonce)
    }
  }

  function claimSync(nonce: string, ttlS: number): boolean {
    const at = now()
    sweep(at)
    const existing = expiries.get(nonce)
    if (existing !== undefined && existing > at) return false
    // Re-insert so the entry moves to the tail of the expiry queue.
    expiries.delete(nonce)
    if (expiries.size >= maxEntries) {
      const oldest = expiries.entries().next()
      if (oldest.done !== true) {
        const [oldestNonce, oldestExpiry] = oldest.value
        expiries.delete(oldestNonce)
        // sweep() left only unexpired entries, so this one was still protected.
        options.onForgetUnexpired?.(Math.max(0, ttlS - (oldestExpiry - at) / 1000))
      }
    }
    expiries.set(nonce, at + ttlS * 1000)
    return true
  }

  return {
    claim(nonce, ttlS) {
      return Promise.resolve(claimSync(nonce, ttlS))
    },
    get size() {
      return expiries.size
    },
  }
}
