// Typed Official Account API calls over the transport, with the global token injected and refreshed.
import type { Dispatcher } from 'undici'
import { WeChatApiError, WeChatTransportError } from '../errors.js'
import { createAccessTokenProvider } from './access-token.js'
import type { AccessTokenProvider } from './access-token.js'
import { WeChatInvalidRequestError } from './invalid-request-error.js'
import type { WeChatRequestProblem } from './invalid-request-error.js'
import { normalizeMenu, validateMenu } from './menu.js'
import type { Menu } from './menu.js'
import { createWeChatTransport } from './transport.js'
import type { WeChatQuery, WeChatTransport } from './transport.js'

export const DEFAULT_BUSY_RETRIES = 2
export const DEFAULT_BUSY_BACKOFF_MS = 200
/** Sent when a temporary QR code is created without a lifetime (WeChat's own default is ~60 s). */
export const DEFAULT_QR_EXPIRE_SECONDS = 604_800
export const MAX_QR_EXPIRE_SECONDS = 2_592_000

/** errcodes meaning "this access_token is no good": refresh it and retry once. */
const TOKEN_ERRCODES = new Set([40001, 40014, 42001])
const SYSTEM_BUSY = -1
const MENU_NOT_EXIST = 46003

export interface WeChatCallOptions {
  method?: 'GET' | 'POST'
  query?: WeChatQuery
  body?: unknown
  /** Inject the global access_token as `?access_token=` (default true). */
  token?: boolean
  timeoutMs?: number
}

export interface OAuthToken {
  accessToken: string
  expiresIn: number
  refreshToken: string
  openId: string
  scope: string
  unionId?: string
  /** A Moments "snapshot page" virtual user: don't bind business data to it. */
  isSnapshotUser: boolean
}

export interface OAuthUserInfo {
  openId: string
  nickname?: string
  sex?: number
  province?: string
  city?: string
  country?: string
  headImgUrl?: string
  privilege?: string[]
  unionId?: string
}

export type QrActionName = 'QR_SCENE' | 'QR_STR_SCENE' | 'QR_LIMIT_SCENE' | 'QR_LIMIT_STR_SCENE'

export interface CreateQrCodeInput {
  actionName: QrActionName
  sceneId?: number
  sceneStr?: string
  /** Temporary codes only; 1..2592000, default DEFAULT_QR_EXPIRE_SECONDS. */
  expireSeconds?: number
}

export interface QrCode {
  ticket: string
  expireSeconds?: number
  /** The content WeChat encodes in the image. */
  url: string
}

export interface WeChatUserInfo {
  subscribed: boolean
  openId: string
  unionId?: string
  /** Unix seconds of the last follow. */
  subscribeTime?: number
  subscribeScene?: string
  qrScene?: number
  qrSceneStr?: string
}

export interface WeChatApiClient {
  call<T>(api: string, options?: WeChatCallOptions): Promise<T>
  exchangeOAuthCode(code: string): Promise<OAuthToken>
  getOAuthUserInfo(accessToken: string, openId: string): Promise<OAuthUserInfo>
  createQrCode(input: CreateQrCodeInput): Promise<QrCode>
  createMenu(menu: Menu): Promise<void>
  getMenu(): Promise<{ menu: Menu | null; raw: unknown }>
  getUserInfo(openId: string): Promise<WeChatUserInfo>
}

export interface WeChatApiClientOptions {
  appId: string
  secret: string
  baseUrl: string
  dispatcher?: Dispatcher
  timeoutMs?: number
  tokenProvider?: AccessTokenProvider
  /** How many times a -1 "system busy" is retried. */
  busyRetries?: number
  /** First back-off after -1; doubled on every further retry. */
  busyBackoffMs?: number
  sleep?: (ms: number) => Promise<void>
  /** Overrides the transport built from baseUrl/dispatcher/timeoutMs. */
  transport?: WeChatTransport
}

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms)
  })

export function createWeChatApiClient(options: WeChatApiClientOptions): WeChatApiClient {
  const transport =
    options.transport ??
    createWeChatTransport({
      baseUrl: options.baseUrl,
      dispatcher: options.dispatcher,
      timeoutMs: options.timeoutMs,
    })
  const tokens =
    options.tokenProvider ??
    createAccessTokenProvider({
      appId: options.appId,
      secret: options.secret,
      baseUrl: options.baseUrl,
      transport,
    })
  const busyRetries = options.busyRetries ?? DEFAULT_BUSY_RETRIES
  const busyBackoffMs = options.busyBackoffMs ?? DEFAULT_BUSY_BACKOFF_MS
  const sleep = options.sleep ?? defaultSleep

  async function call<T>(
    api: string,
    callOptions: WeChatCallOptions = {},
    secrets: readonly string[] = [],
  ): Promise<T> {
    const useToken = callOptions.token ?? true
    let tokenRetried = false
    let busyAttempts = 0
    for (;;) {
      let token: string | undefined
      try {
        token = useToken ? await tokens.getToken() : undefined
        return await transport.request<T>(api, {
          method: callOptions.method,
          query:
            token === undefined ? callOptions.query : { ...callOptions.query, access_token: token },
          body: callOptions.body,
          timeoutMs: callOptions.timeoutMs,
          secrets: [...secrets, token, options.secret],
        })
      } catch (error) {
        if (!(error instanceof WeChatApiError)) throw error
        // Only this call's own answer says the token is bad; a 40001 from stable_token is a bad secret.
        if (
          TOKEN_ERRCODES.has(error.errcode) &&
          error.api === api &&
          token !== undefined &&
          !tokenRetried
        ) {
          tokenRetried = true
          tokens.invalidate(token)
          continue
        }
        if (error.errcode === SYSTEM_BUSY && busyAttempts < busyRetries) {
          await sleep(busyBackoffMs * 2 ** busyAttempts)
          busyAttempts += 1
          continue
        }
        throw error
      }
    }
  }

  return {
    call: (api, callOptions) => call(api, callOptions),

    /** https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html */
    async exchangeOAuthCode(code) {
      const api = '/sns/oauth2/access_token'
      const answer = await call<Record<string, unknown>>(
        api,
        {
          token: false,
          query: {
            appid: options.appId,
            secret: options.secret,
            code,
            grant_type: 'authorization_code',
          },
        },
        [code],
      )
      return {
        accessToken: requireString(api, answer, 'access_token'),
        expiresIn: requireNumber(api, answer, 'expires_in'),
        refreshToken: requireString(api, answer, 'refresh_token'),
        openId: requireString(api, answer, 'openid'),
        scope: requireString(api, answer, 'scope'),
        ...optional('unionId', optionalString(answer, 'unionid')),
        isSnapshotUser: answer.is_snapshotuser === 1,
      }
    },

    async getOAuthUserInfo(accessToken, openId) {
      const api = '/sns/userinfo'
      const answer = await call<Record<string, unknown>>(
        api,
        { token: false, query: { access_token: accessToken, openid: openId, lang: 'zh_CN' } },
        [accessToken],
      )
      const privilege = answer.privilege
      return {
        openId: requireString(api, answer, 'openid'),
        ...optional('nickname', optionalString(answer, 'nickname')),
        ...optional('sex', optionalNumber(answer, 'sex')),
        ...optional('province', optionalString(answer, 'province')),
        ...optional('city', optionalString(answer, 'city')),
        ...optional('country', optionalString(answer, 'country')),
        ...optional('headImgUrl', optionalString(answer, 'headimgurl')),
        ...optional(
          'privilege',
          Array.isArray(privilege)
            ? privilege.filter((p): p is string => typeof p === 'string')
            : undefined,
        ),
        ...optional('unionId', optionalString(answer, 'unionid')),
      }
    },

    /** https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html */
    async createQrCode(input) {
      const api = '/cgi-bin/qrcode/create'
      const body = buildQrCodeBody(api, input)
      const answer = await call<Record<string, unknown>>(api, { method: 'POST', body })
      return {
        ticket: requireString(api, answer, 'ticket'),
        ...optional('expireSeconds', optionalNumber(answer, 'expire_seconds')),
        url: requireString(api, answer, 'url'),
      }
    },

    /** https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html */
    async createMenu(menu) {
      const api = '/cgi-bin/menu/create'
      const problems = validateMenu(menu)
      if (problems.length > 0) throw new WeChatInvalidRequestError(api, problems)
      await call(api, { method: 'POST', body: menu })
    },

    async getMenu() {
      try {
        const raw = await call<{ menu?: unknown }>('/cgi-bin/menu/get')
        return { menu: raw.menu === undefined ? null : normalizeMenu(raw.menu), raw }
      } catch (error) {
        if (error instanceof WeChatApiError && error.errcode === MENU_NOT_EXIST) {
          return { menu: null, raw: { errcode: error.errcode, errmsg: error.errmsg } }
        }
        throw error
      }
    },

    /** https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html */
    async getUserInfo(openId) {
      const api = '/cgi-bin/user/info'
      const answer = await call<Record<string, unknown>>(api, {
        query: { openid: openId, lang: 'zh_CN' },
      })
      return {
        subscribed: answer.subscribe === 1,
        openId: requireString(api, answer, 'openid'),
        ...optional('unionId', optionalString(answer, 'unionid')),
        ...optional('subscribeTime', optionalNumber(answer, 'subscribe_time')),
        ...optional('subscribeScene', optionalString(answer, 'subscribe_scene')),
        ...optional('qrScene', optionalNumber(answer, 'qr_scene')),
        ...optional('qrSceneStr', optionalString(answer, 'qr_scene_str')),
      }
    },
  }
}

const UINT32_MAX = 0xffff_ffff
const MAX_PERMANENT_SCENE_ID = 100_000
const MAX_SCENE_STR_BYTES = 64

/** Checks the QR rules of PROTOCOL.md §6 locally and builds the request body. */
function buildQrCodeBody(api: string, input: CreateQrCodeInput): Record<string, unknown> {
  const problems: WeChatRequestProblem[] = []
  const { actionName, sceneId, sceneStr, expireSeconds } = input
  const byId = actionName === 'QR_SCENE' || actionName === 'QR_LIMIT_SCENE'
  const temporary = actionName === 'QR_SCENE' || actionName === 'QR_STR_SCENE'
  const known = byId || actionName === 'QR_STR_SCENE' || actionName === 'QR_LIMIT_STR_SCENE'
  if (!known) {
    problems.push({ path: 'actionName', problem: `is not a QR action name: ${String(actionName)}` })
    throw new WeChatInvalidRequestError(api, problems)
  }
  if (byId) {
    const max = temporary ? UINT32_MAX : MAX_PERMANENT_SCENE_ID
    if (sceneId === undefined || !Number.isInteger(sceneId) || sceneId < 1 || sceneId > max) {
      problems.push({ path: 'sceneId', problem: `must be an integer 1..${max} for ${actionName}` })
    }
    if (sceneStr !== undefined) {
      problems.push({ path: 'sceneStr', problem: `is not used by ${actionName}` })
    }
  } else {
    const bytes = sceneStr === undefined ? 0 : Buffer.byteLength(sceneStr, 'utf8')
    if (typeof sceneStr !== 'string' || bytes < 1 || bytes > MAX_SCENE_STR_BYTES) {
      problems.push({
        path: 'sceneStr',
        problem: `must be 1..${MAX_SCENE_STR_BYTES} bytes for ${actionName}`,
      })
    }
    if (sceneId !== undefined) {
      problems.push({ path: 'sceneId', problem: `is not used by ${actionName}` })
    }
  }
  let expire: number | undefined
  if (temporary) {
    expire = expireSeconds ?? DEFAULT_QR_EXPIRE_SECONDS
    if (!Number.isInteger(expire) || expire < 1 || expire > MAX_QR_EXPIRE_SECONDS) {
      problems.push({
        path: 'expireSeconds',
        problem: `must be an integer 1..${MAX_QR_EXPIRE_SECONDS}`,
      })
    }
  } else if (expireSeconds !== undefined) {
    problems.push({ path: 'expireSeconds', problem: `is not used by permanent ${actionName}` })
  }
  if (problems.length > 0) throw new WeChatInvalidRequestError(api, problems)
  return {
    ...(expire === undefined ? {} : { expire_seconds: expire }),
    action_name: actionName,
    action_info: { scene: byId ? { scene_id: sceneId } : { scene_str: sceneStr } },
  }
}

// Fields WeChat promised but didn't send mean the answer isn't WeChat's: a transport-level failure.
function requireString(api: string, answer: Record<string, unknown>, field: string): string {
  const value = answer[field]
  if (typeof value !== 'string' || value === '') throw missingField(api, field)
  return value
}

function requireNumber(api: string, answer: Record<string, unknown>, field: string): number {
  const value = answer[field]
  if (typeof value !== 'number') throw missingField(api, field)
  return value
}

function missingField(api: string, field: string): WeChatTransportError {
  return new WeChatTransportError(api, { status: 200, message: `${api}: answer has no ${field}` })
}

function optionalString(answer: Record<string, unknown>, field: string): string | undefined {
  const value = answer[field]
  return typeof value === 'string' && value !== '' ? value : undefined
}

function optionalNumber(answer: Record<string, unknown>, field: string): number | undefined {
  const value = answer[field]
  return typeof value === 'number' ? value : undefined
}

/** `{ [name]: value }` when defined, `{}` otherwise: keeps absent fields absent, not `undefined`. */
function optional<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V }
}
