// JSON-over-HTTP transport for the Official Account APIs: one request, one typed outcome, no retries.
import type { Dispatcher } from 'undici'
import { WeChatApiError, WeChatTransportError } from '../errors.js'
import { exchange } from '../http/exchange.js'

/** Default per-call deadline (connect + headers + body) in milliseconds. */
export const DEFAULT_WECHAT_TIMEOUT_MS = 5000

export type WeChatQuery = Record<string, string | number | undefined>

export interface WeChatRequest {
  method?: 'GET' | 'POST'
  query?: WeChatQuery
  /** Sent as JSON when present. */
  body?: unknown
  timeoutMs?: number
  /** Values (tokens, secrets, codes) that must never reach an error message; scrubbed from `errmsg`. */
  secrets?: readonly (string | undefined)[]
}

export interface WeChatTransport {
  /** `api` is the path (`/cgi-bin/menu/get`); it is the only part of the URL an error ever names. */
  request<T>(api: string, req?: WeChatRequest): Promise<T>
}

export interface WeChatTransportOptions {
  baseUrl: string
  dispatcher?: Dispatcher
  timeoutMs?: number
}

export function createWeChatTransport(options: WeChatTransportOptions): WeChatTransport {
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  const defaultTimeoutMs = options.timeoutMs ?? DEFAULT_WECHAT_TIMEOUT_MS
  const dispatcher = options.dispatcher

  return {
    async request<T>(api: string, req: WeChatRequest = {}): Promise<T> {
      const hasBody = req.body !== undefined
      const text = await exchange(api, {
        peer: 'WeChat',
        url: baseUrl + api + renderQuery(req.query),
        method: req.method ?? (hasBody ? 'POST' : 'GET'),
        headers: hasBody
          ? { 'content-type': 'application/json', accept: 'application/json' }
          : { accept: 'application/json' },
        ...(hasBody ? { body: JSON.stringify(req.body) } : {}),
        timeoutMs: req.timeoutMs ?? defaultTimeoutMs,
        maxBytes: MAX_ANSWER_BYTES,
        dispatcher,
      })
      let payload: unknown
      try {
        payload = JSON.parse(text)
      } catch (error) {
        throw new WeChatTransportError(api, {
          status: 200,
          cause: error,
          message: `${api}: answer is not JSON`,
        })
      }
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
        throw new WeChatTransportError(api, {
          status: 200,
          message: `${api}: answer is not an object`,
        })
      }
      const { errcode, errmsg } = payload as { errcode?: unknown; errmsg?: unknown }
      if (typeof errcode === 'number' && errcode !== 0) {
        throw new WeChatApiError(
          api,
          errcode,
          scrub(typeof errmsg === 'string' ? errmsg : '', req.secrets),
        )
      }
      return payload as T
    },
  }
}

/** No OA answer comes near this; a bigger one is not WeChat and must not fill the memory. */
const MAX_ANSWER_BYTES = 1024 * 1024

function renderQuery(query: WeChatQuery | undefined): string {
  if (query === undefined) return ''
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.append(name, String(value))
  }
  const rendered = params.toString()
  return rendered === '' ? '' : `?${rendered}`
}

// WeChat's errmsg is free text; a proxy or a look-alike server could echo what it was sent.
function scrub(text: string, secrets: readonly (string | undefined)[] | undefined): string {
  let result = text
  for (const secret of secrets ?? []) {
    if (secret !== undefined && secret.length > 0) result = result.split(secret).join('[redacted]')
  }
  return result
}
