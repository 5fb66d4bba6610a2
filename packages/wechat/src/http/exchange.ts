// One HTTP exchange with WeChat, shared by the Official Account client (JSON) and the Pay client (XML):
// a deadline, a bounded answer, and every failure sorted one way, so the same broken network is the same
// error (and the same HTTP answer of ours) whichever API met it. No retries; the caller parses the text.
import { request } from 'undici'
import type { Dispatcher } from 'undici'
import { WeChatTransportError } from '../errors.js'

export interface ExchangeRequest {
  /** Who should answer, for messages: `WeChat`, `WeChat Pay`. */
  peer: string
  url: string
  method: 'GET' | 'POST'
  headers: Record<string, string>
  body?: string
  /** Whole-call deadline, connect to last body byte. */
  timeoutMs: number
  /** A longer answer is not WeChat's and must not fill the memory. */
  maxBytes: number
  dispatcher?: Dispatcher | undefined
}

/**
 * The text of a 200 answer. Anything else is a `WeChatTransportError` naming only `api` (the URL may
 * carry a token): `timedOut` for the deadline and for undici's own connect, headers and body timeouts;
 * `status` for an answer that is not 200 (WeChat answers 200 even for failures; another status came
 * from something in between) or too long.
 */
export async function exchange(api: string, req: ExchangeRequest): Promise<string> {
  const signal = AbortSignal.timeout(req.timeoutMs)
  let status: number
  let text: string
  try {
    const response = await request(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
      ...(req.dispatcher === undefined ? {} : { dispatcher: req.dispatcher }),
    })
    status = response.statusCode
    text = await readBounded(response.body, api, status, req.maxBytes)
  } catch (error) {
    if (error instanceof WeChatTransportError) throw error
    const undiciTimeout = undiciTimeoutCode(error)
    const timedOut = signal.aborted || undiciTimeout !== undefined
    throw new WeChatTransportError(api, {
      timedOut,
      cause: error,
      message: !timedOut
        ? `${api}: ${req.peer} unreachable`
        : undiciTimeout === undefined
          ? `${api}: ${req.peer} did not answer within ${req.timeoutMs} ms`
          : `${api}: ${req.peer} timed out (${undiciTimeout})`,
    })
  }
  if (status !== 200) {
    throw new WeChatTransportError(api, {
      status,
      message: `${api}: ${req.peer} answered HTTP ${status}`,
    })
  }
  return text
}

async function readBounded(
  body: AsyncIterable<Buffer | string>,
  api: string,
  status: number,
  maxBytes: number,
): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
    size += buffer.length
    if (size > maxBytes) {
      throw new WeChatTransportError(api, {
        status,
        message: `${api}: the answer exceeds ${maxBytes} bytes`,
      })
    }
    chunks.push(buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

const UNDICI_TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])

function undiciTimeoutCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && UNDICI_TIMEOUT_CODES.has(code) ? code : undefined
}
