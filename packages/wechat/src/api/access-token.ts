// The global access_token from POST /cgi-bin/stable_token: cached per process, fetched single-flight.
import type { Dispatcher } from 'undici'
import { WeChatTransportError } from '../errors.js'
import { createWeChatTransport } from './transport.js'
import type { WeChatTransport } from './transport.js'

/** Refresh this long before the token's expiry (WeChat overlaps old and new for 300 s). */
export const DEFAULT_REFRESH_AHEAD_MS = 300_000

export const STABLE_TOKEN_API = '/cgi-bin/stable_token'

export interface AccessTokenProvider {
  getToken(): Promise<string>
  /** Drops the cached token only if it is `token`, so a late failure can't discard a newer one. */
  invalidate(token: string): void
}

export interface AccessTokenProviderOptions {
  appId: string
  secret: string
  baseUrl: string
  dispatcher?: Dispatcher
  timeoutMs?: number
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number
  refreshAheadMs?: number
  /** Overrides the transport built from baseUrl/dispatcher/timeoutMs. */
  transport?: WeChatTransport
}

interface CachedToken {
  token: string
  expiresAt: number
  refreshAt: number
}

interface StableTokenAnswer {
  access_token?: unknown
  expires_in?: unknown
}

/**
 * Official doc: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html
 * `force_refresh: false` returns the current token while it is valid, so many processes share one token.
 */
export function createAccessTokenProvider(
  options: AccessTokenProviderOptions,
): AccessTokenProvider {
  const transport =
    options.transport ??
    createWeChatTransport({
      baseUrl: options.baseUrl,
      dispatcher: options.dispatcher,
      timeoutMs: options.timeoutMs,
    })
  const now = options.now ?? Date.now
  const refreshAheadMs = options.refreshAheadMs ?? DEFAULT_REFRESH_AHEAD_MS
  let cached: CachedToken | undefined
  let inFlight: Promise<CachedToken> | undefined

  async function fetchToken(): Promise<CachedToken> {
    const answer = await transport.request<StableTokenAnswer>(STABLE_TOKEN_API, {
      method: 'POST',
      body: {
        grant_type: 'client_credential',
        appid: options.appId,
        secret: options.secret,
        force_refresh: false,
      },
      secrets: [options.secret],
    })
    const token = answer.access_token
    const expiresIn = answer.expires_in
    if (
      typeof token !== 'string' ||
      token === '' ||
      typeof expiresIn !== 'number' ||
      expiresIn <= 0
    ) {
      throw new WeChatTransportError(STABLE_TOKEN_API, {
        status: 200,
        message: `${STABLE_TOKEN_API}: answer has no access_token/expires_in`,
      })
    }
    const fetchedAt = now()
    const lifetimeMs = expiresIn * 1000
    // A short-lived token must not fall inside its own refresh window on arrival.
    const aheadMs = Math.min(refreshAheadMs, lifetimeMs / 2)
    return { token, expiresAt: fetchedAt + lifetimeMs, refreshAt: fetchedAt + lifetimeMs - aheadMs }
  }

  function refresh(): Promise<CachedToken> {
    inFlight ??= fetchToken()
      .then((fresh) => {
        cached = fresh
        return fresh
      })
      .finally(() => {
        inFlight = undefined
      })
    return inFlight
  }

  return {
    async getToken(): Promise<string> {
      const current = cached
      const at = now()
      if (current !== undefined && at < current.refreshAt) return current.token
      try {
        return (await refresh()).token
      } catch (error) {
        // Inside the refresh window the old token still works; a failed early refresh is not fatal.
        if (current !== undefined && cached === current && now() < current.expiresAt) {
          return current.token
        }
        throw error
      }
    },
    invalidate(token: string): void {
      if (cached?.token === token) cached = undefined
    },
  }
}
