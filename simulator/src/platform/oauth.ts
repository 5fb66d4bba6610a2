// Web-page OAuth: the authorize page ("log in as which user?"), single-use 5-minute codes, sns token and userinfo.
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { SimContext } from '../context.js'
import { SimulatorError } from '../errors.js'
import { apiError, apiOk } from './api-error.js'
import type { ApiRouteDeps } from './api-route.js'
import { firstValues, registerApiRoute } from './api-route.js'
import type { SimUser, UserStore } from './user.js'

export type OAuthScope = 'snsapi_base' | 'snsapi_userinfo'

export const OAUTH_CODE_TTL_MS = 300_000
export const WEB_TOKEN_TTL_S = 7200
export const REFRESH_TOKEN_TTL_MS = 30 * 86_400_000

interface CodeGrant {
  openId: string
  scope: OAuthScope
  createdAt: number
  used: boolean
}

interface WebToken {
  openId: string
  scope: OAuthScope
  expiresAt: number
}

export interface AuthorizeRequest {
  openId: string
  /** The decoded redirect_uri. */
  redirectUri: string
  scope: OAuthScope
  state?: string
}

export interface OAuthStore {
  /** The user consents: a fresh code, and the URL WeChat redirects the browser to. */
  grant(request: AuthorizeRequest): string
  /** Checks a full authorize URL as WeChat's page does (raw encoding included), then grants as `openId`. */
  authorizeUrl(url: string, openId: string): string
  /** The user refuses (snsapi_userinfo): redirect with the state only. */
  deny(redirectUri: string, state: string | undefined): string
  codeCount(): number
}

/** Why the authorize page refuses: a code where WeChat shows one, and its text. */
export interface AuthorizeProblem {
  code: string
  message: string
}

export interface CheckedAuthorize {
  redirectUri: string
  scope: OAuthScope
  state: string | undefined
}

/**
 * Checks the authorize page's query the way WeChat does, on the raw query string: the redirect_uri must
 * arrive percent-encoded (an unencoded one would lose its own query and is refused).
 */
export function checkAuthorizeQuery(
  rawQuery: string,
  settings: { appId: string; oauthRedirectHosts: string[] | undefined },
): CheckedAuthorize | AuthorizeProblem {
  const raw = new Map<string, string>()
  for (const part of rawQuery.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const key = eq === -1 ? part : part.slice(0, eq)
    if (!raw.has(key)) raw.set(key, eq === -1 ? '' : part.slice(eq + 1))
  }
  const decoded = (key: string): string | undefined => {
    const value = raw.get(key)
    if (value === undefined) return undefined
    try {
      return decodeURIComponent(value.replace(/\+/g, ' '))
    } catch {
      return '\u0000'
    }
  }
  const appId = decoded('appid')
  if (appId === undefined || appId === '') return { code: '10012', message: 'appid参数错误' }
  if (appId !== settings.appId) return { code: '10016', message: 'appid参数错误' }
  const rawRedirect = raw.get('redirect_uri')
  if (rawRedirect === undefined || rawRedirect === '') {
    return { code: '10011', message: 'redirect_uri参数错误' }
  }
  if (/[:/?#]/.test(rawRedirect) || !/^https?%3A%2F%2F/i.test(rawRedirect)) {
    return { code: '10011', message: 'redirect_uri参数错误 (redirect_uri must be urlencoded)' }
  }
  const redirectUri = decoded('redirect_uri') ?? ''
  let host: string
  try {
    host = new URL(redirectUri).hostname
  } catch {
    return { code: '10011', message: 'redirect_uri参数错误' }
  }
  if (settings.oauthRedirectHosts !== undefined && !settings.oauthRedirectHosts.includes(host)) {
    return { code: '10003', message: 'redirect_uri域名与后台配置不一致' }
  }
  if (decoded('response_type') !== 'code') {
    return { code: '10014', message: 'response_type参数错误' }
  }
  const scope = decoded('scope')
  if (scope === undefined || scope === '') return { code: '10010', message: 'scope参数错误' }
  if (scope !== 'snsapi_base' && scope !== 'snsapi_userinfo') {
    return { code: '10005', message: '此公众号并没有这些scope的权限' }
  }
  const state = decoded('state')
  if (state !== undefined && !/^[A-Za-z0-9]{0,128}$/.test(state)) {
    return { code: '10013', message: 'state参数错误 (a-zA-Z0-9, at most 128 bytes)' }
  }
  return { redirectUri, scope, state }
}

function withQuery(uri: string, params: Record<string, string>): string {
  const hashAt = uri.indexOf('#')
  const base = hashAt === -1 ? uri : uri.slice(0, hashAt)
  const hash = hashAt === -1 ? '' : uri.slice(hashAt)
  const query = Object.entries(params)
    .map(([key, value]) => `${key}=${encodeURIComponent(value)}`)
    .join('&')
  return `${base}${base.includes('?') ? '&' : '?'}${query}${hash}`
}

export function createOAuthStore(ctx: SimContext, users: UserStore): OAuthStore & OAuthInternals {
  const codes = new Map<string, CodeGrant>()
  const webTokens = new Map<string, WebToken>()
  const refreshTokens = new Map<string, WebToken>()
  const store: OAuthStore & OAuthInternals = {
    grant(request) {
      if (request.scope !== 'snsapi_base' && request.scope !== 'snsapi_userinfo') {
        throw new SimulatorError(
          'AUTHORIZE_INVALID',
          'scope must be snsapi_base or snsapi_userinfo',
        )
      }
      users.ensure(request.openId)
      const code = ctx.randomHex(16)
      codes.set(code, {
        openId: request.openId,
        scope: request.scope,
        createdAt: ctx.now(),
        used: false,
      })
      return withQuery(request.redirectUri, { code, state: request.state ?? '' })
    },
    authorizeUrl(url, openId) {
      let parsed: URL
      try {
        parsed = new URL(url)
      } catch (error) {
        throw new SimulatorError('AUTHORIZE_INVALID', 'not a URL', { cause: error })
      }
      if (parsed.pathname !== '/connect/oauth2/authorize') {
        throw new SimulatorError('AUTHORIZE_INVALID', 'not an authorize URL')
      }
      const checked = checkAuthorizeQuery(parsed.search.replace(/^\?/, ''), ctx.settings)
      if ('code' in checked) {
        throw new SimulatorError('AUTHORIZE_INVALID', `${checked.code} ${checked.message}`)
      }
      return store.grant({ openId, ...checked, state: checked.state })
    },
    deny: (redirectUri, state) => withQuery(redirectUri, { state: state ?? '' }),
    codeCount: () => codes.size,
    exchange(code) {
      const grant = codes.get(code)
      if (grant === undefined || ctx.now() - grant.createdAt >= OAUTH_CODE_TTL_MS) return 40029
      if (grant.used) return 40163
      grant.used = true
      const user = users.require(grant.openId)
      const token = mintWebToken(grant.openId, grant.scope)
      const refresh = `${ctx.randomToken(64)}`
      refreshTokens.set(refresh, {
        openId: grant.openId,
        scope: grant.scope,
        expiresAt: ctx.now() + REFRESH_TOKEN_TTL_MS,
      })
      return {
        access_token: token,
        expires_in: WEB_TOKEN_TTL_S,
        refresh_token: refresh,
        openid: grant.openId,
        scope: grant.scope,
        ...(user.snapshotUser ? { is_snapshotuser: 1 } : {}),
        ...(grant.scope === 'snsapi_userinfo' && user.unionId !== undefined
          ? { unionid: user.unionId }
          : {}),
      }
    },
    refresh(refreshToken) {
      const grant = refreshTokens.get(refreshToken)
      if (grant === undefined) return 40030
      if (ctx.now() >= grant.expiresAt) return 42002
      return {
        access_token: mintWebToken(grant.openId, grant.scope),
        expires_in: WEB_TOKEN_TTL_S,
        refresh_token: refreshToken,
        openid: grant.openId,
        scope: grant.scope,
      }
    },
    webToken(token, openId) {
      if (token === undefined || token === '') return 41001
      const found = webTokens.get(token)
      if (found === undefined) return 40001
      if (ctx.now() >= found.expiresAt) return 42001
      if (openId !== found.openId) return 40003
      return found
    },
  }
  function mintWebToken(openId: string, scope: OAuthScope): string {
    const token = `${ctx.randomToken(96)}`
    webTokens.set(token, { openId, scope, expiresAt: ctx.now() + WEB_TOKEN_TTL_S * 1000 })
    return token
  }
  return store
}

interface OAuthInternals {
  exchange(code: string): Record<string, unknown> | number
  refresh(refreshToken: string): Record<string, unknown> | number
  webToken(token: string | undefined, openId: string | undefined): WebToken | number
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

function userInfoOf(user: SimUser): Record<string, unknown> {
  return {
    openid: user.openId,
    nickname: user.nickname,
    sex: user.sex,
    province: '',
    city: '',
    country: '',
    headimgurl: user.headImgUrl,
    privilege: [],
    ...(user.unionId === undefined ? {} : { unionid: user.unionId }),
  }
}

export function registerOAuthRoutes(
  app: FastifyInstance,
  deps: ApiRouteDeps & { users: UserStore; oauth: ReturnType<typeof createOAuthStore> },
): void {
  const { ctx, users, oauth } = deps

  app.get('/connect/oauth2/authorize', async (request, reply: FastifyReply) => {
    const url = request.raw.url ?? ''
    const rawQuery = url.includes('?') ? url.slice(url.indexOf('?') + 1) : ''
    const checked = checkAuthorizeQuery(rawQuery, ctx.settings)
    if ('code' in checked) {
      return reply
        .code(400)
        .type('text/html; charset=utf-8')
        .send(page('Error', `<p class="error">${checked.code} ${escapeHtml(checked.message)}</p>`))
    }
    const query = firstValues(request.query)
    if (query.sim_deny === '1')
      return reply.redirect(oauth.deny(checked.redirectUri, checked.state), 302)
    if (query.sim_openid !== undefined && query.sim_openid !== '') {
      try {
        return reply.redirect(oauth.grant({ openId: query.sim_openid, ...checked }), 302)
      } catch (error) {
        if (error instanceof SimulatorError) {
          return reply
            .code(error.statusCode)
            .type('text/html; charset=utf-8')
            .send(page('Error', escapeHtml(error.message)))
        }
        throw error
      }
    }
    const self = (extra: string): string => `/connect/oauth2/authorize?${rawQuery}&${extra}`
    const items = users
      .list()
      .map(
        (user) =>
          `<li><a href="${escapeHtml(self(`sim_openid=${encodeURIComponent(user.openId)}`))}">${escapeHtml(user.nickname)} <code>${escapeHtml(user.openId)}</code></a></li>`,
      )
      .join('')
    const hidden = ['appid', 'redirect_uri', 'response_type', 'scope', 'state']
      .map((name) => {
        const value = query[name]
        return value === undefined
          ? ''
          : `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`
      })
      .join('')
    const body =
      `<p>${escapeHtml(checked.scope)} → ${escapeHtml(new URL(checked.redirectUri).host)}</p>` +
      `<p>Log in as which WeChat user?</p><ul>${items || '<li>(no users yet)</li>'}</ul>` +
      `<form method="get" action="/connect/oauth2/authorize">${hidden}` +
      `<input name="sim_openid" placeholder="another openid" pattern="[A-Za-z0-9_\\-]{1,64}" required>` +
      `<button type="submit">Log in</button></form>` +
      (checked.scope === 'snsapi_userinfo'
        ? `<p><a href="${escapeHtml(self('sim_deny=1'))}">Refuse</a></p>`
        : '')
    return reply.type('text/html; charset=utf-8').send(page('WeChat authorization', body))
  })

  registerApiRoute(app, deps, {
    api: '/sns/oauth2/access_token',
    method: 'GET',
    token: false,
    handler: ({ query }) => {
      if (query.appid === undefined || query.appid === '') return apiError(ctx, 41002)
      if (query.secret === undefined || query.secret === '') return apiError(ctx, 41004)
      if (query.code === undefined || query.code === '') return apiError(ctx, 41008)
      if (query.grant_type !== 'authorization_code') return apiError(ctx, 40002)
      if (query.appid !== ctx.settings.appId) return apiError(ctx, 40013)
      if (query.secret !== ctx.settings.appSecret) return apiError(ctx, 40125)
      const result = oauth.exchange(query.code)
      return typeof result === 'number' ? apiError(ctx, result) : result
    },
  })
  registerApiRoute(app, deps, {
    api: '/sns/oauth2/refresh_token',
    method: 'GET',
    token: false,
    handler: ({ query }) => {
      if (query.appid === undefined || query.appid === '') return apiError(ctx, 41002)
      if (query.grant_type !== 'refresh_token') return apiError(ctx, 40002)
      if (query.appid !== ctx.settings.appId) return apiError(ctx, 40013)
      const result = oauth.refresh(query.refresh_token ?? '')
      return typeof result === 'number' ? apiError(ctx, result) : result
    },
  })
  registerApiRoute(app, deps, {
    api: '/sns/userinfo',
    method: 'GET',
    token: false,
    handler: ({ query }) => {
      if (query.lang !== undefined && !['zh_CN', 'zh_TW', 'en'].includes(query.lang)) {
        return apiError(ctx, 40097, 'invalid lang')
      }
      const token = oauth.webToken(query.access_token, query.openid)
      if (typeof token === 'number') return apiError(ctx, token)
      if (token.scope !== 'snsapi_userinfo') return apiError(ctx, 48001)
      return userInfoOf(users.require(token.openId))
    },
  })
  registerApiRoute(app, deps, {
    api: '/sns/auth',
    method: 'GET',
    token: false,
    handler: ({ query }) => {
      const token = oauth.webToken(query.access_token, query.openid)
      return typeof token === 'number' ? apiError(ctx, token) : apiOk()
    },
  })
}

function page(title: string, body: string): string {
  return (
    `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>${escapeHtml(title)}</title><style>body{font-family:sans-serif;max-width:32em;margin:2em auto}` +
    `li{margin:.5em 0}.error{color:#b00}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`
  )
}
