// The all-in-one's front door: one port routed like deploy/nginx/wxgate.conf.template, plus the simulator.
import { Agent, createServer, request as httpRequest } from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http'

export type Upstream = 'gateway' | 'app' | 'simulator'

export type Route = { upstream: Upstream } | { refuse: 400 | 403 }

/**
 * The path as nginx matches it: percent-decoded, `//` merged, `.` and `..` resolved. Undefined when it cannot
 * be decoded or climbs above the root (nginx answers those 400).
 */
export function normalizePath(rawUrl: string): string | undefined {
  const q = rawUrl.indexOf('?')
  let path = q === -1 ? rawUrl : rawUrl.slice(0, q)
  try {
    path = decodeURIComponent(path)
  } catch {
    return undefined
  }
  if (!path.startsWith('/')) return undefined
  const out: string[] = []
  const segments = path.split('/').slice(1)
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1
    if (segment === '' && !last) continue
    if (segment === '.') {
      if (last) out.push('')
      continue
    }
    if (segment === '..') {
      if (out.length === 0) return undefined
      out.pop()
      if (last) out.push('')
      continue
    }
    out.push(segment)
  }
  return `/${out.join('/')}`
}

/** Where a request goes: the shipped nginx config's locations, with the simulator taking what nginx 404s. */
export function routeRequest(method: string, rawUrl: string): Route {
  const path = normalizePath(rawUrl)
  if (path === undefined) return { refuse: 400 }
  if (path === '/api/v1/auth/wechat/verify') {
    return ['GET', 'HEAD', 'POST'].includes(method) ? { upstream: 'gateway' } : { refuse: 403 }
  }
  if (path === '/api/v1/payment/notify') {
    return method === 'POST' ? { upstream: 'gateway' } : { refuse: 403 }
  }
  // nginx's `location ~* ^/api/v1/internal`: any case, and any path that merely begins so.
  if (path.toLowerCase().startsWith('/api/v1/internal')) return { refuse: 403 }
  if (path.startsWith('/api/v1/')) return { upstream: 'app' }
  if (path === '/openapi.json' || path === '/docs' || path.startsWith('/docs/')) {
    return { upstream: 'app' }
  }
  return { upstream: 'simulator' }
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Set below from the socket, never believed from the client (as the nginx config overwrites them).
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-real-ip',
])

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value
  }
  return out
}

const REFUSALS = {
  400: { code: 'BAD_REQUEST', message: 'Malformed request path' },
  403: { code: 'FORBIDDEN', message: 'Not allowed from here' },
  503: { code: 'UPSTREAM_UNAVAILABLE', message: 'The service is unavailable, retry later' },
} as const

function sendJson(response: ServerResponse, status: keyof typeof REFUSALS): void {
  if (response.headersSent) {
    response.destroy()
    return
  }
  const body = JSON.stringify(REFUSALS[status])
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  })
  response.end(body)
}

export interface FrontProxy {
  server: Server
  /** Where each upstream listens; set before traffic is expected (the proxy listens first). */
  setUpstreams(ports: Record<Upstream, number>): void
  close(): Promise<void>
}

/** Streams each request to its upstream on 127.0.0.1; an unreachable upstream is a JSON 503, as in nginx. */
export function createFrontProxy(): FrontProxy {
  let ports: Record<Upstream, number> | undefined
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const method = request.method ?? 'GET'
    const rawUrl = request.url ?? '/'
    const route = routeRequest(method, rawUrl)
    if ('refuse' in route) {
      request.resume()
      sendJson(response, route.refuse)
      return
    }
    if (ports === undefined) {
      request.resume()
      sendJson(response, 503)
      return
    }
    const clientIp = request.socket.remoteAddress ?? ''
    const upstream = httpRequest({
      host: '127.0.0.1',
      port: ports[route.upstream],
      method,
      path: rawUrl,
      agent,
      headers: {
        ...endToEnd(request.headers),
        'x-forwarded-for': clientIp,
        'x-real-ip': clientIp,
        'x-forwarded-proto': 'http',
      },
    })
    upstream.on('response', (answer) => {
      response.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers))
      answer.pipe(response)
      answer.on('error', () => response.destroy())
    })
    upstream.on('error', () => sendJson(response, 503))
    request.on('error', () => upstream.destroy())
    // The client went away before the answer was complete: stop the upstream request too.
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy()
    })
    request.pipe(upstream)
  }

  const server = createServer(handle)
  return {
    server,
    setUpstreams(next) {
      ports = next
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => {
          agent.destroy()
          resolve()
        })
        server.closeAllConnections()
      })
    },
  }
}
