// Marks of encrypted pushes' queries: a plaintext push under a marked query is an encrypted push's
// query stripped of msg_signature and sent again with a body of someone else's choosing (wechat-push.ts).
//
// With Redis the marks are shared, so a query seen by one gateway is refused by every other. The shared
// store can fail, and failing open there let a captured query carry a forged SCAN (someone else's login)
// for as long as Redis was away. So marks are also kept in this process (this gateway is covered
// whatever Redis does); a mark Redis refused is shared once it answers again; and while it cannot say
// whether a query was marked, a plaintext push is refused with 503 when this gateway decrypts pushes
// (WeChat never sends plaintext alone in safe or compatible mode, and retries a 503).
import type { FastifyBaseLogger } from 'fastify'
import type { DedupeStore } from '../events/dedupe.js'
import { GatewayErrors } from '../errors.js'

export interface EncryptedQueryMarks {
  mark(signature: string, ttlS: number): Promise<void>
  /** True for a marked query; throws PUSH_CHECK_UNAVAILABLE when that cannot be known and must be. */
  wasMarked(signature: string): Promise<boolean>
}

export interface EncryptedQueryMarksOptions {
  /** This process's marks. */
  local: DedupeStore
  /** Every gateway's marks (Redis); absent with one gateway. */
  shared?: DedupeStore | undefined
  /** Refuse a plaintext push the shared store cannot vouch for (true when pushes are decrypted). */
  failClosed: boolean
  log: FastifyBaseLogger
  now?: () => number
  /** Marks kept for sharing later, at most (the oldest are dropped beyond it). */
  maxUnshared?: number
}

export function createEncryptedQueryMarks(
  options: EncryptedQueryMarksOptions,
): EncryptedQueryMarks {
  const { local, shared, failClosed, log, now = Date.now, maxUnshared = 10_000 } = options
  /** Key → expiry (ms) of marks the shared store did not take; insertion order is age order. */
  const unshared = new Map<string, number>()
  let sharing: Promise<void> | undefined

  const keyOf = (signature: string) => `query-aes:${signature}`

  const remember = (key: string, expiry: number): void => {
    unshared.delete(key)
    unshared.set(key, expiry)
    if (unshared.size > maxUnshared) {
      const oldest = unshared.keys().next()
      if (oldest.done !== true) unshared.delete(oldest.value)
    }
  }

  /** Hands the shared store what it missed, once at a time; stops at its first failure. */
  const shareMissed = (store: DedupeStore): void => {
    if (unshared.size === 0 || sharing !== undefined) return
    sharing = (async () => {
      try {
        for (const [key, expiry] of unshared) {
          const ttlS = Math.ceil((expiry - now()) / 1000)
          if (ttlS > 0) await store.hold(key, ttlS)
          unshared.delete(key)
        }
      } catch (error) {
        log.warn({ err: error }, 'dedupe store unavailable, encrypted query marks still unshared')
      } finally {
        sharing = undefined
      }
    })()
  }

  return {
    async mark(signature, ttlS) {
      const key = keyOf(signature)
      await local.hold(key, ttlS)
      if (shared === undefined) return
      try {
        await shared.hold(key, ttlS)
      } catch (error) {
        remember(key, now() + ttlS * 1000)
        log.warn({ err: error }, 'dedupe store unavailable, encrypted query marked here only')
        return
      }
      shareMissed(shared)
    },

    async wasMarked(signature) {
      const key = keyOf(signature)
      if (await local.isHeld(key)) return true
      if (shared === undefined) return false
      let held: boolean
      try {
        held = await shared.isHeld(key)
      } catch (error) {
        log.warn({ err: error }, 'dedupe store unavailable, plaintext query not checked')
        if (failClosed) throw new GatewayErrors.PUSH_CHECK_UNAVAILABLE()
        return false
      }
      shareMissed(shared)
      return held
    },
  }
}
