// HTTP through nginx, as browsers and WeChat see it: JSON calls, raw requests, and the two login flows.
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Simulator } from '@wxgate/simulator'

export interface HttpAnswer {
  status: number
  headers: Headers
  text: string
  /** The parsed JSON body, or undefined when the body is not JSON. */
  json: unknown
}

export interface RequestOptions {
  token?: string
  /** Sent as JSON. */
  json?: unknown
  /** Sent as is (with `contentType`). */
  body?: string
  contentType?: string
  headers?: Record<string, string>
  timeoutMs?: number
}

export interface ApiClient {
  readonly baseUrl: string
  request(method: string, path: string, options?: RequestOptions): Promise<HttpAnswer>
  get(path: string, options?: RequestOptions): Promise<HttpAnswer>
  post(path: string, options?: RequestOptions): Promise<HttpAnswer>
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

export function createApiClient(baseUrl: string): ApiClient {
  const request = async (
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<HttpAnswer> => {
    const headers: Record<string, string> = { ...options.headers }
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
    let body: string | undefined = options.body
    if (options.json !== undefined) {
      body = JSON.stringify(options.json)
      headers['content-type'] = 'application/json'
    } else if (options.contentType !== undefined) {
      headers['content-type'] = options.contentType
    }
    const response = await fetch(baseUrl + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
    })
    const text = await response.text()
    return { status: response.status, headers: response.headers, text, json: parseJson(text) }
  }
  return {
    baseUrl,
    request,
    get: (path, options) => request('GET', path, options),
    post: (path, options) => request('POST', path, options),
  }
}

/** One raw HTTP/1.1 exchange on a fresh socket (for requests fetch refuses to send); the status line's code. */
export async function rawRequest(
  port: number,
  requestText: string,
  timeoutMs = 5000,
): Promise<number> {
  return new Promise((done, fail) => {
    const socket = connect({ host: '127.0.0.1', port })
    let answer = ''
    const timer = setTimeout(() => {
      socket.destroy()
      fail(new Error('raw request timed out'))
    }, timeoutMs)
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      answer += chunk
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(answer)
      if (match !== null) {
        clearTimeout(timer)
        socket.destroy()
        done(Number(match[1]))
      }
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      fail(error)
    })
    socket.once('close', () => {
      clearTimeout(timer)
      fail(
        new Error(
          `connection closed without a status line: ${JSON.stringify(answer.slice(0, 80))}`,
        ),
      )
    })
    socket.write(requestText)
  })
}

export function field<T>(value: unknown, name: string): T {
  if (typeof value !== 'object' || value === null || !(name in value)) {
    throw new Error(`expected a field "${name}" in ${JSON.stringify(value)?.slice(0, 300)}`)
  }
  return (value as Record<string, unknown>)[name] as T
}

export interface LoggedInUser {
  openId: string
  token: string
}

/** Web-page OAuth: authorize-url at app, the user consents in the simulator, the code comes back to app. */
export async function oauthLogin(
  api: ApiClient,
  sim: Simulator,
  openId: string,
): Promise<LoggedInUser> {
  const redirect = encodeURIComponent('https://shop.example.com/wechat/callback')
  const start = await api.get(
    `/api/v1/auth/wechat/authorize-url?redirect_uri=${redirect}&scope=snsapi_base`,
  )
  if (start.status !== 200) throw new Error(`authorize-url answered ${start.status}: ${start.text}`)
  const back = new URL(sim.phone.authorizeUrl(field<string>(start.json, 'url'), openId))
  const code = back.searchParams.get('code') ?? ''
  const state = back.searchParams.get('state') ?? ''
  const login = await api.get(
    `/api/v1/auth/wechat?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`,
  )
  if (login.status !== 200)
    throw new Error(`GET /auth/wechat answered ${login.status}: ${login.text}`)
  return { openId, token: field<string>(login.json, 'token') }
}

export interface QrCode {
  sceneStr: string
  ticket: string
}

export async function createQrCode(api: ApiClient): Promise<QrCode> {
  const answer = await api.post('/api/v1/auth/wechat/qrcode', { json: {} })
  if (answer.status !== 200) throw new Error(`qrcode answered ${answer.status}: ${answer.text}`)
  return {
    sceneStr: field<string>(answer.json, 'scene_str'),
    ticket: field<string>(answer.json, 'ticket'),
  }
}

export interface CheckFollow {
  status: string
  token?: string
  user?: { openid: string; subscribed: boolean }
}

export async function checkFollow(api: ApiClient, sceneStr: string): Promise<CheckFollow> {
  const answer = await api.get(
    `/api/v1/auth/wechat/check-follow?scene_str=${encodeURIComponent(sceneStr)}`,
  )
  if (answer.status !== 200)
    throw new Error(`check-follow answered ${answer.status}: ${answer.text}`)
  return answer.json as CheckFollow
}

/** Polls until `check` returns a value (not undefined) or the time is up. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  { timeoutMs = 10_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(intervalMs)
  }
}

/** Runs `work` over `items` with at most `limit` at a time; results in item order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await work(items[index] as T, index)
    }
  })
  await Promise.all(lanes)
  return results
}

export interface OrderView {
  out_trade_no: string
  product_id: string
  amount_fen: number
  status: string
}

export interface LedgerRecord {
  id: number | string
  change: number
  balance_after: number
  reason: string
  ref: string | null
}

/** What a user sees of their account through the public API (the database, as far as it is visible). */
export interface AccountView {
  credits: number
  isMember: boolean
  memberExpiresAt: string | null
  orders: OrderView[]
  ledger: LedgerRecord[]
}

async function pages<T>(api: ApiClient, path: string, token: string, key: string): Promise<T[]> {
  const out: T[] = []
  for (let page = 1; page < 100; page++) {
    const sep = path.includes('?') ? '&' : '?'
    const answer = await api.get(`${path}${sep}page=${page}&page_size=50`, { token })
    if (answer.status !== 200) throw new Error(`${path} answered ${answer.status}: ${answer.text}`)
    const items = field<T[]>(answer.json, key)
    out.push(...items)
    if (out.length >= field<number>(answer.json, 'total') || items.length === 0) return out
  }
  return out
}

export async function accountView(api: ApiClient, token: string): Promise<AccountView> {
  const credits = await api.get('/api/v1/user/credits', { token })
  const member = await api.get('/api/v1/user/member-status', { token })
  if (credits.status !== 200 || member.status !== 200) {
    throw new Error(
      `account view failed: credits ${credits.status}, member-status ${member.status}`,
    )
  }
  return {
    credits: field<number>(credits.json, 'credits'),
    isMember: field<boolean>(member.json, 'is_member'),
    memberExpiresAt: field<string | null>(member.json, 'member_expires_at'),
    orders: await pages<OrderView>(api, '/api/v1/payment/orders', token, 'orders'),
    ledger: await pages<LedgerRecord>(api, '/api/v1/user/credits-usage', token, 'records'),
  }
}
