// What every part of one simulator shares: its settings, clock, random source and the records of what it received.
import { randomBytes as cryptoRandomBytes } from 'node:crypto'

export type PushMode = 'plaintext' | 'compatible' | 'safe'

export interface SimulatorOptions {
  /** The Official Account as configured in app and gateway. */
  appId: string
  appSecret: string
  token: string
  /** 43 characters; needed for the compatible and safe push modes. */
  encodingAesKey?: string
  /** The merchant. */
  mchId: string
  payApiKey: string
  /** Gateway's `…/api/v1/auth/wechat/verify`: where phone pushes go. */
  pushUrl?: string
  pushMode?: PushMode
  /** ToUserName of pushes (the account's original id). */
  originalId?: string
  /** 1 = real time; 1000 = the pay notification's 24 h retry schedule in ~86 s. */
  timeScale?: number
  /** Milliseconds since the epoch. */
  now?: () => number
  /** Cryptographically random bytes (tokens, codes, tickets, ids). */
  randomBytes?: (size: number) => Buffer
  /** Hosts allowed in OAuth `redirect_uri` (WeChat's 网页授权域名); unset = any host. */
  oauthRedirectHosts?: string[]
  /** How long WeChat waits for an answer to a push or a pay notification (not scaled). */
  pushTimeoutMs?: number
  /** Lifetime of an access_token in seconds. */
  accessTokenTtlS?: number
}

export interface SimulatorSettings {
  appId: string
  appSecret: string
  token: string
  encodingAesKey: string | undefined
  mchId: string
  payApiKey: string
  pushUrl: string | undefined
  pushMode: PushMode
  originalId: string
  timeScale: number
  oauthRedirectHosts: string[] | undefined
  pushTimeoutMs: number
  accessTokenTtlS: number
}

export interface ApiCallRecord {
  /** The path, e.g. `/cgi-bin/qrcode/create` or `/pay/unifiedorder`. */
  api: string
  method: string
  query: Record<string, string>
  /** Parsed JSON (cgi-bin) or the XML fields (pay); the raw text when it did not parse. */
  body: unknown
  at: number
  /** 0 when WeChat answered success; the errcode (cgi-bin) otherwise. Pay calls keep 0 and set `payErrCode`. */
  errcode: number
  payErrCode?: string
}

export interface TokenRequestRecord {
  api: '/cgi-bin/token' | '/cgi-bin/stable_token'
  appId: string | undefined
  forceRefresh: boolean
  at: number
  errcode: number
  token: string | undefined
}

export interface PushAttemptRecord {
  at: number
  status: number | undefined
  body: string | undefined
  error: string | undefined
  timedOut: boolean
}

export interface PushRecord {
  kind: 'subscribe' | 'unsubscribe' | 'SCAN' | 'text' | 'CLICK' | 'VIEW'
  openId: string
  mode: PushMode
  url: string
  /** The message as WeChat composed it, before encryption. */
  plainXml: string
  /** What went on the wire (plain, compatible or safe body). */
  sentXml: string
  query: Record<string, string>
  attempts: PushAttemptRecord[]
  ok: boolean
  problem: string | undefined
  at: number
}

export interface NotificationRecord {
  outTradeNo: string
  url: string
  attempt: number
  at: number
  xml: string
  status: number | undefined
  body: string | undefined
  error: string | undefined
  /** The answer was HTTP 200 with return_code SUCCESS. */
  ok: boolean
  /** WeChat-time seconds until the next try (before timeScale); undefined when none follows. */
  retryInS: number | undefined
}

export interface SimulatorRecords {
  apiCalls: ApiCallRecord[]
  tokenRequests: TokenRequestRecord[]
  pushes: PushRecord[]
  notifications: NotificationRecord[]
  /** Empties every list (between test cases). */
  clear(): void
}

export interface SimContext {
  settings: SimulatorSettings
  /** The simulator's clock in ms: the injected clock plus any `advanceClock`. */
  now(): number
  nowS(): number
  advanceClock(ms: number): void
  randomBytes(size: number): Buffer
  randomHex(bytes: number): string
  randomDigits(count: number): string
  randomToken(bytes: number): string
  records: SimulatorRecords
  /** Base URL the simulator listens on, once it listens. */
  baseUrl(): string
  setBaseUrl(url: string): void
}

const DEFAULT_ORIGINAL_ID = 'gh_0123456789ab'

export function createRecords(): SimulatorRecords {
  const records: SimulatorRecords = {
    apiCalls: [],
    tokenRequests: [],
    pushes: [],
    notifications: [],
    clear() {
      records.apiCalls.length = 0
      records.tokenRequests.length = 0
      records.pushes.length = 0
      records.notifications.length = 0
    },
  }
  return records
}

export function createContext(options: SimulatorOptions): SimContext {
  requireText(options.appId, 'appId')
  requireText(options.appSecret, 'appSecret')
  requireText(options.token, 'token')
  requireText(options.mchId, 'mchId')
  requireText(options.payApiKey, 'payApiKey')
  if (options.encodingAesKey !== undefined && !/^[A-Za-z0-9]{43}$/.test(options.encodingAesKey)) {
    throw new TypeError('encodingAesKey must be 43 characters [A-Za-z0-9]')
  }
  const timeScale = options.timeScale ?? 1
  if (!(timeScale > 0)) throw new TypeError('timeScale must be a positive number')
  const settings: SimulatorSettings = {
    appId: options.appId,
    appSecret: options.appSecret,
    token: options.token,
    encodingAesKey: options.encodingAesKey,
    mchId: options.mchId,
    payApiKey: options.payApiKey,
    pushUrl: options.pushUrl,
    pushMode: options.pushMode ?? 'plaintext',
    originalId: options.originalId ?? DEFAULT_ORIGINAL_ID,
    timeScale,
    oauthRedirectHosts: options.oauthRedirectHosts,
    pushTimeoutMs: options.pushTimeoutMs ?? 5000,
    accessTokenTtlS: options.accessTokenTtlS ?? 7200,
  }
  const clock = options.now ?? Date.now
  const random = options.randomBytes ?? cryptoRandomBytes
  let offsetMs = 0
  let baseUrl = ''
  const now = (): number => clock() + offsetMs
  return {
    settings,
    now,
    nowS: () => Math.floor(now() / 1000),
    advanceClock(ms) {
      offsetMs += ms
    },
    randomBytes: (size) => random(size),
    randomHex: (bytes) => random(bytes).toString('hex'),
    randomDigits(count) {
      // Rejection-free mapping is slightly biased; good enough for ids that only need to be unique.
      const bytes = random(count)
      let out = ''
      for (const byte of bytes) out += String(byte % 10)
      return out
    },
    randomToken: (bytes) => random(bytes).toString('base64url'),
    records: createRecords(),
    baseUrl: () => baseUrl,
    setBaseUrl(url) {
      baseUrl = url
    },
  }
}

function requireText(value: unknown, name: string): void {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} is required`)
}
