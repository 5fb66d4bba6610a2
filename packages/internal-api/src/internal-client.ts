// The typed gateway→app client: signs every call, keeps connections alive, maps only transport failures to errors.
import { Agent, request } from 'undici'
import type { Dispatcher } from 'undici'
import { InternalApiUnreachableError } from './errors.js'
import { INTERNAL_ROUTES } from './internal-schemas.js'
import type {
  BindingBody,
  CreateOrUpdateUserBody,
  CreditsConsumeBody,
  OrderUpdateBody,
} from './internal-schemas.js'
import { signInternalRequest } from './internal-signature.js'
import type { InternalSecret } from './internal-signature.js'

export interface InternalCallOptions {
  /** Sent as `X-Request-Id` so app logs the same id. */
  requestId?: string
  /** Overrides the client's `timeoutMs` for this call (covers connect, headers and body). */
  timeoutMs?: number
  signal?: AbortSignal
}

/** Any HTTP answer from app: the caller decides what 404/409/410 mean. */
export interface InternalResponse {
  status: number
  body: unknown
}

export interface InternalClientOptions {
  baseUrl: string
  secret: InternalSecret
  timeoutMs: number
  /** Default: a keep-alive Agent owned (and closed) by the client. */
  dispatcher?: Dispatcher
  /** Unix-seconds clock for the signature; default now. */
  now?: () => number
  nonce?: () => string
}

export interface InternalClient {
  createOrUpdateUser(
    body: CreateOrUpdateUserBody,
    options?: InternalCallOptions,
  ): Promise<InternalResponse>
  createBinding(body: BindingBody, options?: InternalCallOptions): Promise<InternalResponse>
  updateBinding(body: BindingBody, options?: InternalCallOptions): Promise<InternalResponse>
  updateOrder(body: OrderUpdateBody, options?: InternalCallOptions): Promise<InternalResponse>
  consumeCredits(body: CreditsConsumeBody, options?: InternalCallOptions): Promise<InternalResponse>
  /** GET app's `/readyz` (unsigned). */
  ready(options?: InternalCallOptions): Promise<InternalResponse>
  /** Closes the client's own Agent; a dispatcher passed in is left to its owner. */
  close(): Promise<void>
}

export function createInternalClient(options: InternalClientOptions): InternalClient {
  const base = new URL(options.baseUrl)
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError('baseUrl must be an http or https URL')
  }
  const origin = base.origin
  // A base path (`http://app/prefix`) is part of what gets signed.
  const basePath = base.pathname.replace(/\/+$/, '')
  const ownAgent =
    options.dispatcher === undefined
      ? new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 })
      : undefined
  const dispatcher: Dispatcher = options.dispatcher ?? (ownAgent as Agent)
  const now = options.now ?? (() => Math.floor(Date.now() / 1000))

  async function send(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    payload: unknown,
    callOptions: InternalCallOptions,
    signed: boolean,
  ): Promise<InternalResponse> {
    const pathAndQuery = `${basePath}${path}`
    const body = payload === undefined ? undefined : Buffer.from(JSON.stringify(payload), 'utf8')
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (callOptions.requestId !== undefined) headers['x-request-id'] = callOptions.requestId
    if (signed) {
      Object.assign(
        headers,
        signInternalRequest({
          secret: options.secret,
          method,
          pathAndQuery,
          body,
          timestamp: now(),
          ...(options.nonce === undefined ? {} : { nonce: options.nonce() }),
        }),
      )
    }
    const timeoutMs = callOptions.timeoutMs ?? options.timeoutMs
    // A timer cleared in `finally`, not `AbortSignal.timeout()`: that one is never cleared, so every
    // call would leave a live timer that later fires and builds a DOMException for nothing.
    const timeout = new AbortController()
    const timer = setTimeout(() => {
      timeout.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError'))
    }, timeoutMs)
    const signal =
      callOptions.signal === undefined
        ? timeout.signal
        : AbortSignal.any([timeout.signal, callOptions.signal])
    try {
      const response = await request(`${origin}${pathAndQuery}`, {
        method,
        headers,
        body,
        signal,
        dispatcher,
      })
      const text = await response.body.text()
      return {
        status: response.statusCode,
        body: parseBody(text, response.headers['content-type']),
      }
    } catch (error) {
      const timedOut = timeout.signal.aborted
      const what = `${method} ${path}`
      throw new InternalApiUnreachableError(
        timedOut
          ? `app did not answer ${what} within ${timeoutMs} ms`
          : `app unreachable for ${what}`,
        { cause: error, timedOut },
      )
    } finally {
      clearTimeout(timer)
    }
  }

  const call =
    <B>(name: keyof typeof INTERNAL_ROUTES) =>
    (body: B, callOptions: InternalCallOptions = {}) => {
      const route = INTERNAL_ROUTES[name]
      return send(route.method, route.path, body, callOptions, true)
    }

  return {
    createOrUpdateUser: call<CreateOrUpdateUserBody>('createOrUpdateUser'),
    createBinding: call<BindingBody>('createBinding'),
    updateBinding: call<BindingBody>('updateBinding'),
    updateOrder: call<OrderUpdateBody>('updateOrder'),
    consumeCredits: call<CreditsConsumeBody>('consumeCredits'),
    ready: (callOptions = {}) => send('GET', '/readyz', undefined, callOptions, false),
    close: async () => {
      if (ownAgent !== undefined) await ownAgent.close()
    },
  }
}

function parseBody(text: string, contentType: string | string[] | undefined): unknown {
  const type = Array.isArray(contentType) ? contentType[0] : contentType
  if (text === '' || type === undefined || !/\bjson\b/i.test(type)) return text
  try {
    return JSON.parse(text) as unknown
  } catch {
    // A non-JSON answer labelled JSON (a proxy's error page) is still an answer: hand back the text.
    return text
  }
}
