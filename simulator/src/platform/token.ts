// The global access_token: cgi-bin/token (each call mints a new one, the previous dies after 5 min) and stable_token.
import type { FastifyInstance } from 'fastify'
import type { SimContext, TokenRequestRecord } from '../context.js'
import type { ApiErrorBody } from './api-error.js'
import { apiError } from './api-error.js'
import { firstValues } from './api-route.js'
import type { Faults } from './faults.js'

/** How long a token replaced by cgi-bin/token, or rotated by stable_token, keeps working. */
export const TOKEN_GRACE_MS = 300_000
/** WeChat's limit on cgi-bin/token calls per day. */
export const TOKEN_DAILY_LIMIT = 2000
/** stable_token force_refresh: at most 20 a day, at least 30 s apart. */
export const FORCE_REFRESH_DAILY_LIMIT = 20
export const FORCE_REFRESH_MIN_GAP_MS = 30_000

export interface IssuedToken {
  token: string
  source: 'token' | 'stable_token'
  issuedAt: number
  expiresAt: number
  /** When it stopped (or stops) working before expiry: replaced, force-refreshed or invalidated. */
  invalidAt: number | undefined
}

export type TokenCheck = 0 | 40001 | 41001 | 42001

export interface TokenStore {
  /** cgi-bin/token: a new token; the previous one works for 5 more minutes. Returns an errcode when refused. */
  issue(): { token: IssuedToken } | { errcode: number }
  /** cgi-bin/stable_token: the current token while it has more than 5 min left, else a new one. */
  stable(forceRefresh: boolean): { token: IssuedToken } | { errcode: number }
  check(token: string | undefined): TokenCheck
  /** Every token stops working now (40001 afterwards). */
  invalidateAll(): void
  /** Every token expires now (42001 afterwards). */
  expireAll(): void
  list(): IssuedToken[]
  /** Seconds the token has left, to the nearest second: a token minted a few ms ago has 7200, as WeChat answers. */
  expiresInS(token: IssuedToken): number
}

export function createTokenStore(ctx: SimContext): TokenStore {
  const byValue = new Map<string, IssuedToken>()
  let latestClassic: IssuedToken | undefined
  let latestStable: IssuedToken | undefined
  let classicDay = -1
  let classicCount = 0
  let forceDay = -1
  let forceCount = 0
  let lastForceAt = -Infinity

  const mint = (source: IssuedToken['source']): IssuedToken => {
    const now = ctx.now()
    // Real tokens are ~136+ characters of [A-Za-z0-9_-] with a numeric prefix; callers must reserve 512.
    const token: IssuedToken = {
      token: `${source === 'token' ? '86' : '87'}_${ctx.randomToken(102)}`,
      source,
      issuedAt: now,
      expiresAt: now + ctx.settings.accessTokenTtlS * 1000,
      invalidAt: undefined,
    }
    byValue.set(token.token, token)
    return token
  }
  const liveAt = (token: IssuedToken, now: number): boolean =>
    now < token.expiresAt && (token.invalidAt === undefined || now < token.invalidAt)
  const retire = (token: IssuedToken | undefined, at: number): void => {
    if (token === undefined) return
    if (token.invalidAt === undefined || token.invalidAt > at) token.invalidAt = at
  }
  const dayOf = (ms: number): number => Math.floor((ms + 8 * 3600_000) / 86_400_000)

  return {
    issue() {
      const now = ctx.now()
      const day = dayOf(now)
      if (day !== classicDay) {
        classicDay = day
        classicCount = 0
      }
      if (classicCount >= TOKEN_DAILY_LIMIT) return { errcode: 45009 }
      classicCount++
      retire(latestClassic, now + TOKEN_GRACE_MS)
      latestClassic = mint('token')
      return { token: latestClassic }
    },
    stable(forceRefresh) {
      const now = ctx.now()
      if (forceRefresh) {
        const day = dayOf(now)
        if (day !== forceDay) {
          forceDay = day
          forceCount = 0
        }
        if (forceCount >= FORCE_REFRESH_DAILY_LIMIT) return { errcode: 45009 }
        if (now - lastForceAt < FORCE_REFRESH_MIN_GAP_MS) return { errcode: 45011 }
        forceCount++
        lastForceAt = now
        retire(latestStable, now)
        latestStable = mint('stable_token')
        return { token: latestStable }
      }
      const current = latestStable
      if (current !== undefined && liveAt(current, now) && current.invalidAt === undefined) {
        if (current.expiresAt - now > TOKEN_GRACE_MS) return { token: current }
        // The last five minutes: a new token, the old one still valid until its own expiry.
        latestStable = mint('stable_token')
        return { token: latestStable }
      }
      latestStable = mint('stable_token')
      return { token: latestStable }
    },
    check(value) {
      if (value === undefined || value === '') return 41001
      const token = byValue.get(value)
      if (token === undefined) return 40001
      const now = ctx.now()
      if (token.invalidAt !== undefined && now >= token.invalidAt) return 40001
      if (now >= token.expiresAt) return 42001
      return 0
    },
    invalidateAll() {
      const now = ctx.now()
      for (const token of byValue.values()) retire(token, now)
    },
    expireAll() {
      const now = ctx.now()
      for (const token of byValue.values()) if (token.expiresAt > now) token.expiresAt = now
    },
    list: () => [...byValue.values()],
    // Not floored: the clock reads again between minting and answering, and a fresh token would
    // say 7199 s whenever a millisecond passed in between.
    expiresInS: (token) => Math.max(0, Math.round((token.expiresAt - ctx.now()) / 1000)),
  }
}

/** GET /cgi-bin/token and POST /cgi-bin/stable_token, each checking appid, secret and grant_type like WeChat. */
export function registerTokenRoutes(
  app: FastifyInstance,
  deps: { ctx: SimContext; faults: Faults; tokens: TokenStore },
): void {
  const { ctx, faults, tokens } = deps
  const credentials = (
    appId: unknown,
    secret: unknown,
    grantType: unknown,
  ): ApiErrorBody | undefined => {
    if (typeof appId !== 'string' || appId === '') return apiError(ctx, 41002)
    if (typeof secret !== 'string' || secret === '') return apiError(ctx, 41004)
    if (grantType !== 'client_credential') return apiError(ctx, 40002)
    if (appId !== ctx.settings.appId) return apiError(ctx, 40013)
    if (secret !== ctx.settings.appSecret) return apiError(ctx, 40125)
    return undefined
  }
  const answer = (
    api: TokenRequestRecord['api'],
    appId: string | undefined,
    forceRefresh: boolean,
    result: { token: IssuedToken } | ApiErrorBody,
  ): string => {
    ctx.records.tokenRequests.push({
      api,
      appId,
      forceRefresh,
      at: ctx.now(),
      errcode: 'token' in result ? 0 : result.errcode,
      token: 'token' in result ? result.token.token : undefined,
    })
    return JSON.stringify(
      'token' in result
        ? { access_token: result.token.token, expires_in: tokens.expiresInS(result.token) }
        : result,
    )
  }
  const refused = (result: { errcode: number } | { token: IssuedToken }) =>
    'errcode' in result ? apiError(ctx, result.errcode) : result

  app.route({
    method: ['GET', 'POST'],
    url: '/cgi-bin/token',
    handler: async (request, reply) => {
      const query = firstValues(request.query)
      const result = ((): { token: IssuedToken } | ApiErrorBody => {
        if (request.method !== 'GET') return apiError(ctx, 43001)
        const bad = credentials(query.appid, query.secret, query.grant_type)
        if (bad !== undefined) return bad
        const fault = faults.take('/cgi-bin/token')
        if (fault !== undefined) return apiError(ctx, typeof fault === 'number' ? fault : -1)
        return refused(tokens.issue())
      })()
      return reply
        .type('application/json; charset=utf-8')
        .send(answer('/cgi-bin/token', query.appid, false, result))
    },
  })

  app.route({
    method: ['GET', 'POST'],
    url: '/cgi-bin/stable_token',
    handler: async (request, reply) => {
      let appId: string | undefined
      let forceRefresh = false
      const result = ((): { token: IssuedToken } | ApiErrorBody => {
        if (request.method !== 'POST') return apiError(ctx, 43002)
        const text = typeof request.body === 'string' ? request.body : ''
        if (text.trim() === '') return apiError(ctx, 44002)
        let body: unknown
        try {
          body = JSON.parse(text)
        } catch {
          return apiError(ctx, 47001)
        }
        if (body === null || typeof body !== 'object' || Array.isArray(body)) {
          return apiError(ctx, 47001)
        }
        const fields = body as Record<string, unknown>
        appId = typeof fields.appid === 'string' ? fields.appid : undefined
        const bad = credentials(fields.appid, fields.secret, fields.grant_type)
        if (bad !== undefined) return bad
        if (fields.force_refresh !== undefined && typeof fields.force_refresh !== 'boolean') {
          return apiError(ctx, 47001)
        }
        forceRefresh = fields.force_refresh === true
        const fault = faults.take('/cgi-bin/stable_token')
        if (fault !== undefined) return apiError(ctx, typeof fault === 'number' ? fault : -1)
        return refused(tokens.stable(forceRefresh))
      })()
      return reply
        .type('application/json; charset=utf-8')
        .send(answer('/cgi-bin/stable_token', appId, forceRefresh, result))
    },
  })
}
