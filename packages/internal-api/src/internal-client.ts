// The typed gateway→app client: signs every call, keeps connections alive, maps only transport failures to errors.
//
// Over node:http's keep-alive Agent, not undici (the stack's default for outbound HTTP, which app
// uses to call WeChat): this client is the gateway's only outbound traffic, one small JSON call to
// app, and undici's module graph alone is ~20 MiB of RSS (docs/benchmarks.md: idle gateway RSS with
// and without it) against a 100 MiB budget, while node:http is already loaded by the server.
import * as http from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import { InternalApiUnreachableError } from './errors.js'
import { INTERNAL_ROUTES } from './internal-routes.js'
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
  /** Overrides the client's `timeoutMs` for this call (covers waiting for a socket, connect, headers and body). */
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
  /**
   * Sockets the client opens to app at most (default 16); further calls wait in the client.
   * One app answers from a database pool of 10, so more sockets only move the queue into app, where
   * each waiting request holds a socket and a request's worth of memory on both sides. Behind an
   * internal load balancer with several apps, raise it with their number.
   */
  maxConnections?: number
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
  /** Closes the client's sockets; calls in flight or waiting for a socket, and any later call, fail as unreachable. */
  close(): Promise<void>
}

const DEFAULT_MAX_CONNECTIONS = 16
/**
 * An idle socket is closed after this long: well under the keep-alive timeout of what answers (app's
 * Fastify: 72 s; the nginx configs in deploy/: 30 s or more), so the other side never closes a
 * socket at the moment the client reuses it.
 */
const IDLE_SOCKET_MS = 10_000

/** What the client uses of node:http, which node:https has too. */
type Transport = Pick<typeof http, 'request' | 'Agent'>

interface Exchange {
  status: number
  headers: IncomingHttpHeaders
  text: string
}

export function createInternalClient(options: InternalClientOptions): InternalClient {
  const base = new URL(options.baseUrl)
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError('baseUrl must be an http or https URL')
  }
  // A base path (`http://app/prefix`) is part of what gets signed.
  const basePath = base.pathname.replace(/\/+$/, '')
  // https only when app is reached over TLS; loaded on demand so a plain-HTTP gateway never loads tls.
  const transport: Transport =
    base.protocol === 'https:' ? process.getBuiltinModule('node:https') : http
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS
  const agent = new transport.Agent({
    keepAlive: true,
    maxSockets: maxConnections,
    maxFreeSockets: maxConnections,
    // Node's Agent destroys a free socket when this fires; calls in flight have their own timer below.
    timeout: IDLE_SOCKET_MS,
    // The most recently used socket first, so sockets beyond the current load go idle and close.
    scheduling: 'lifo',
  })
  const now = options.now ?? (() => Math.floor(Date.now() / 1000))
  // Requests in flight or queued for a socket, so that close() can end them (Agent#destroy only
  // closes the sockets it has, and would hand the queued requests new ones).
  const live = new Set<http.ClientRequest>()
  let closed = false

  async function send(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    payload: unknown,
    callOptions: InternalCallOptions,
    signed: boolean,
  ): Promise<InternalResponse> {
    const pathAndQuery = `${basePath}${path}`
    if (closed) {
      throw new InternalApiUnreachableError(`client closed before ${method} ${path}`, {
        timedOut: false,
      })
    }
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
    const deadline = { ms: timeoutMs, expired: false }
    try {
      const response = await exchange(transport, agent, {
        origin: base,
        method,
        path: pathAndQuery,
        headers,
        body,
        deadline,
        signal: callOptions.signal,
        live,
      })
      return {
        status: response.status,
        body: parseBody(response.text, response.headers['content-type']),
      }
    } catch (error) {
      const timedOut = deadline.expired
      const what = `${method} ${path}`
      throw new InternalApiUnreachableError(
        timedOut
          ? `app did not answer ${what} within ${timeoutMs} ms`
          : `app unreachable for ${what}`,
        { cause: error, timedOut },
      )
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
    close: () => {
      closed = true
      for (const request of live) request.destroy(new Error('internal client closed'))
      agent.destroy()
      return Promise.resolve()
    },
  }
}

/**
 * One request and its whole answer; rejects on any transport failure, on `signal`, and when `deadline`
 * passes (connect, headers and body together), setting `deadline.expired`.
 */
function exchange(
  transport: Transport,
  agent: http.Agent,
  call: {
    origin: URL
    method: string
    path: string
    headers: Record<string, string>
    body: Buffer | undefined
    deadline: { ms: number; expired: boolean }
    signal: AbortSignal | undefined
    live: Set<http.ClientRequest>
  },
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const request = transport.request({
      protocol: call.origin.protocol,
      // URL keeps an IPv6 literal in brackets (`[::1]`); http.request wants the bare address.
      hostname: call.origin.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: call.origin.port,
      method: call.method,
      path: call.path,
      headers:
        call.body === undefined
          ? call.headers
          : { ...call.headers, 'content-length': String(call.body.length) },
      agent,
      ...(call.signal === undefined ? {} : { signal: call.signal }),
    })
    // One plain timer that destroys the request, rather than an AbortController and signal per call:
    // their listeners were ~3 % of the gateway's CPU per payment notification (docs/benchmarks.md).
    const timer = setTimeout(() => {
      call.deadline.expired = true
      request.destroy(new DOMException(`timed out after ${call.deadline.ms} ms`, 'TimeoutError'))
    }, call.deadline.ms)
    call.live.add(request)
    const fail = (error: Error): void => {
      clearTimeout(timer)
      call.live.delete(request)
      reject(error)
    }
    request.on('error', fail)
    request.once('response', (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.once('error', fail)
      response.once('end', () => {
        clearTimeout(timer)
        call.live.delete(request)
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        })
      })
      // Cut off mid-body (app gone, the deadline or the signal): no 'end' follows.
      response.once('close', () => {
        if (!response.complete) fail(new Error('the answer was cut off'))
      })
    })
    request.end(call.body)
  })
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
