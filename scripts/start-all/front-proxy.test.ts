// The front door: nginx's routing table, path normalization, and streaming to upstreams on 127.0.0.1.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import { createFrontProxy, normalizePath, routeRequest } from './front-proxy.js'
import type { Upstream } from './front-proxy.js'

describe('normalizePath', () => {
  it('decodes, merges slashes and resolves dot segments as nginx does', () => {
    assert.equal(normalizePath('/api/v1/%69nternal/x?y=1'), '/api/v1/internal/x')
    assert.equal(normalizePath('/api//v1///internal/'), '/api/v1/internal/')
    assert.equal(normalizePath('/api/v1/payment/../internal/x'), '/api/v1/internal/x')
    assert.equal(normalizePath('/api/v1/./internal/./x'), '/api/v1/internal/x')
    assert.equal(normalizePath('/docs/.'), '/docs/')
  })

  it('refuses paths that cannot be decoded or climb above the root', () => {
    assert.equal(normalizePath('/api/%zz'), undefined)
    assert.equal(normalizePath('/../etc/passwd'), undefined)
    assert.equal(normalizePath('api/v1'), undefined)
  })
})

describe('routeRequest', () => {
  it('routes like deploy/nginx/wxgate.conf.template, the rest to the simulator', () => {
    const table: [string, string, ReturnType<typeof routeRequest>][] = [
      ['GET', '/api/v1/auth/wechat/verify?signature=x', { upstream: 'gateway' }],
      ['POST', '/api/v1/auth/wechat/verify', { upstream: 'gateway' }],
      ['PUT', '/api/v1/auth/wechat/verify', { refuse: 403 }],
      ['POST', '/api/v1/payment/notify', { upstream: 'gateway' }],
      ['GET', '/api/v1/payment/notify', { refuse: 403 }],
      ['POST', '/api/v1/internal/user/create-or-update', { refuse: 403 }],
      ['GET', '/api/v1/internal', { refuse: 403 }],
      ['PUT', '/api/v1/%69nternal/binding/update', { refuse: 403 }],
      ['POST', '/api/v1/payment/x/../../internal/credits/consume', { refuse: 403 }],
      ['GET', '/api/v1/internalish', { refuse: 403 }],
      ['PUT', '/api/v1/INTERNAL/payment/order/update', { refuse: 403 }],
      ['GET', '/api/v1/payment/products', { upstream: 'app' }],
      ['GET', '/api/v1/auth/wechat/verify/more', { upstream: 'app' }],
      ['GET', '/openapi.json', { upstream: 'app' }],
      ['GET', '/docs', { upstream: 'app' }],
      ['GET', '/docs/static/index.html', { upstream: 'app' }],
      ['GET', '/docsx', { upstream: 'simulator' }],
      ['GET', '/', { upstream: 'simulator' }],
      ['GET', '/_sim/state', { upstream: 'simulator' }],
      ['GET', '/cgi-bin/showqrcode?ticket=t', { upstream: 'simulator' }],
      ['GET', '/connect/oauth2/authorize?appid=wx', { upstream: 'simulator' }],
      ['GET', '/%zz', { refuse: 400 }],
    ]
    for (const [method, url, expected] of table) {
      assert.deepEqual(routeRequest(method, url), expected, `${method} ${url}`)
    }
  })
})

interface Seen {
  name: Upstream
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  body: string
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

describe('createFrontProxy', () => {
  it('streams requests and answers to the right upstream with forwarded headers', async () => {
    const seen: Seen[] = []
    const upstreams = (['app', 'gateway', 'simulator'] as const).map((name) =>
      createServer((request, response) => {
        let body = ''
        request.setEncoding('utf8')
        request.on('data', (chunk: string) => (body += chunk))
        request.on('end', () => {
          seen.push({
            name,
            method: request.method ?? '',
            url: request.url ?? '',
            headers: request.headers,
            body,
          })
          response.writeHead(201, { 'content-type': 'text/plain', 'x-upstream': name })
          response.end(`${name}:${body}`)
        })
      }),
    )
    const [app, gateway, simulator] = await Promise.all(upstreams.map(listen))
    const proxy = createFrontProxy()
    const port = await listen(proxy.server)
    try {
      const early = await fetch(`http://127.0.0.1:${port}/api/v1/payment/products`)
      assert.equal(early.status, 503, 'no upstreams yet')
      await early.arrayBuffer()
      proxy.setUpstreams({ app: app!, gateway: gateway!, simulator: simulator! })

      const notify = await fetch(`http://127.0.0.1:${port}/api/v1/payment/notify?x=1`, {
        method: 'POST',
        body: '<xml>paid</xml>',
        headers: { 'x-forwarded-for': '6.6.6.6', 'x-request-id': 'req-1' },
      })
      assert.equal(notify.status, 201)
      assert.equal(notify.headers.get('x-upstream'), 'gateway')
      assert.equal(await notify.text(), 'gateway:<xml>paid</xml>')
      const forwarded = seen.at(-1)!
      assert.equal(forwarded.url, '/api/v1/payment/notify?x=1')
      assert.equal(forwarded.headers['x-forwarded-for'], '127.0.0.1', 'a client XFF is overwritten')
      assert.equal(forwarded.headers['x-request-id'], 'req-1')
      assert.equal(forwarded.headers.host, `127.0.0.1:${port}`)

      const page = await fetch(`http://127.0.0.1:${port}/`)
      assert.equal(await page.text(), 'simulator:')
      const api = await fetch(`http://127.0.0.1:${port}/api/v1/user/credits`)
      assert.equal(await api.text(), 'app:')

      const refused = await fetch(`http://127.0.0.1:${port}/api/v1/internal/x`, { method: 'POST' })
      assert.equal(refused.status, 403)
      assert.deepEqual(await refused.json(), {
        code: 'FORBIDDEN',
        message: 'Not allowed from here',
      })
      assert.equal(seen.length, 3, 'a refused request reaches no upstream')

      await new Promise<void>((resolve) => upstreams[0]!.close(() => resolve()))
      const down = await fetch(`http://127.0.0.1:${port}/api/v1/user/credits`)
      assert.equal(down.status, 503)
      assert.equal(((await down.json()) as { code: string }).code, 'UPSTREAM_UNAVAILABLE')
    } finally {
      await proxy.close()
      for (const server of upstreams) {
        server.closeAllConnections()
        if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()))
      }
    }
  })
})
