// JSON-over-HTTP transport for the Official Account APIs: one request, one typed outcome, no retries.
import { request } from 'undici'
import type { Dispatcher } from 'undici'
import { WeChatApiError, WeChatTransportError } from '../errors.js'

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
      const timeoutMs = req.timeoutMs ?? defaultTimeoutMs
      const url = baseUrl + api + renderQuery(req.query)
      const hasBody = req.body !== undefined
      const signal = AbortSignal.timeout(timeoutMs)
      let status: number
      let text: string
      try {
        const response = await request(url, {
          method: req.method ?? (hasBody ? 'POST' : 'GET'),
          headers: hasBody
            ? { 'content-type': 'application/json', accept: 'application/json' }
            : { accept: 'application/json' },
          body: hasBody ? JSON.stringify(req.body) : undefined,
          dispatcher,
          signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        })
        status = response.statusCode
        text = await readCapped(response.body, MAX_ANSWER_BYTES)
      } catch (error) {
        if (error instanceof AnswerTooLargeError) {
          throw new WeChatTransportError(api, {
            message: `${api}: answer over ${MAX_ANSWER_BYTES} bytes`,
          })
        }
        const timedOut = signal.aborted || isUndiciTimeout(error)
        throw new WeChatTransportError(api, {
          timedOut,
          cause: error,
          message: timedOut
            ? `${api}: WeChat did not answer within ${timeoutMs} ms`
            : `${api}: WeChat unreachable`,
        })
      }
      // WeChat answers 200 even for failures; anything else came from something in between.
      if (status !== 200) {
        throw new WeChatTransportError(api, { status, message: `${api}: HTTP ${status}` })
      }
      let payload: unknown
      try {
        payload = JSON.parse(text)
      } catch (error) {
        throw new WeChatTransportError(api, {
          status,
          cause: error,
          message: `${api}: answer is not JSON`,
        })
      }
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
        throw new WeChatTransportError(api, { status, message: `${api}: answer is not an object` })
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

class AnswerTooLargeError extends Error {}

async function readCapped(body: AsyncIterable<Buffer>, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > maxBytes) throw new AnswerTooLargeError()
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function renderQuery(query: WeChatQuery | undefined): string {
  if (query === undefined) return ''
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.append(name, String(value))
  }
  const rendered = params.toString()
  return rendered === '' ? '' : `?${rendered}`
}

const UNDICI_TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])

function isUndiciTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && UNDICI_TIMEOUT_CODES.has(code)
}

// WeChat's errmsg is free text; a proxy or a look-alike server could echo what it was sent.
function scrub(text: string, secrets: readonly (string | undefined)[] | undefined): string {
  let result = text
  for (const secret of secrets ?? []) {
    if (secret !== undefined && secret.length > 0) result = result.split(secret).join('[redacted]')
  }
  return result
}
