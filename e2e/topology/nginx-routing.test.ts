// The shipped nginx templates alone, in front of echo servers: routing, refusals, headers and body limits.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { rawRequest } from './api-client.js'
import type { NginxInstance } from './harness.js'
import { findNginx, freePort, renderTemplate, startNginx } from './harness.js'

interface Echo {
  name: string
  url: string
  method: string
  xff: string | undefined
  realIp: string | undefined
  requestId: string | undefined
  bytes: number
}

const nginxBin = findNginx()

describe(
  'the nginx templates (deploy/nginx) in front of echo upstreams',
  {
    skip: nginxBin === undefined ? 'nginx is not installed' : false,
  },
  () => {
    let nginx: NginxInstance
    let dir: string
    const servers: Server[] = []

    const echo = async (name: string): Promise<number> => {
      const port = await freePort()
      const server = createServer((request, response) => {
        let bytes = 0
        request.on('data', (chunk: Buffer) => {
          bytes += chunk.length
        })
        request.on('end', () => {
          const body: Echo = {
            name,
            url: request.url ?? '',
            method: request.method ?? '',
            xff: request.headers['x-forwarded-for'] as string | undefined,
            realIp: request.headers['x-real-ip'] as string | undefined,
            requestId: request.headers['x-request-id'] as string | undefined,
            bytes,
          }
          response.setHeader('content-type', 'application/json')
          response.end(JSON.stringify(body))
        })
      })
      await new Promise<void>((done) => server.listen(port, '127.0.0.1', done))
      servers.push(server)
      return port
    }

    const call = async (
      method: string,
      path: string,
      init: { headers?: Record<string, string>; body?: string } = {},
    ) => {
      const response = await fetch(nginx.baseUrl + path, { method, ...init })
      const text = await response.text()
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      return {
        status: response.status,
        headers: response.headers,
        json: json as Echo & { code?: string },
      }
    }

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'wxgate-nginx-'))
      const gatewayPorts = [await echo('gateway-1'), await echo('gateway-2')]
      const appPorts = [await echo('app-1'), await echo('app-2')]
      nginx = await startNginx({
        bin: nginxBin ?? 'nginx',
        dir,
        port: await freePort(),
        internalPort: await freePort(),
        gatewayPorts,
        appPorts,
      })
    })

    after(async () => {
      await nginx?.stop()
      await Promise.all(servers.map((server) => new Promise((done) => server.close(done))))
      await rm(dir, { recursive: true, force: true })
    })

    it('refuses to render a template placeholder it has no value for', () => {
      assert.throws(() => renderTemplate('listen ${NGINX_LISTEN};', {}), /NGINX_LISTEN/)
      assert.equal(
        renderTemplate('listen ${NGINX_LISTEN}; $host', { NGINX_LISTEN: '80' }),
        'listen 80; $host',
      )
    })

    it('sends the three WeChat URLs to the gateways and the rest of /api/v1/ to the apps', async () => {
      const verifyGet = await call('GET', '/api/v1/auth/wechat/verify?signature=s&echostr=e')
      const verifyPost = await call('POST', '/api/v1/auth/wechat/verify?signature=s', {
        body: '<xml/>',
      })
      const notify = await call('POST', '/api/v1/payment/notify', { body: '<xml/>' })
      const api = await call('GET', '/api/v1/user/credits')
      const openapi = await call('GET', '/openapi.json')
      assert.match(verifyGet.json.name, /^gateway-/)
      assert.equal(verifyGet.json.url, '/api/v1/auth/wechat/verify?signature=s&echostr=e')
      assert.match(verifyPost.json.name, /^gateway-/)
      assert.match(notify.json.name, /^gateway-/)
      assert.match(api.json.name, /^app-/)
      assert.match(openapi.json.name, /^app-/)
      const spelled = await call('GET', '/api/v1/auth/wechat//verify?a=b')
      assert.match(spelled.json.name, /^gateway-/)
      assert.equal(
        spelled.json.url,
        '/api/v1/auth/wechat/verify?a=b',
        'the gateway gets the normalized path',
      )
    })

    it('spreads requests over both instances of a pool', async () => {
      const seen = new Set<string>()
      for (let i = 0; i < 6; i++) {
        seen.add((await call('POST', '/api/v1/payment/notify', { body: '<xml/>' })).json.name)
        seen.add((await call('GET', '/api/v1/payment/products')).json.name)
      }
      assert.deepEqual([...seen].sort(), ['app-1', 'app-2', 'gateway-1', 'gateway-2'])
    })

    it('refuses the internal API in every spelling with a JSON 403', async () => {
      const paths = [
        '/api/v1/internal/user/create-or-update',
        '/api/v1/internal',
        '/api/v1/%69nternal/payment/order/update',
        '/api/v1//internal/payment/order/update',
        '/api/v1/payment/../internal/payment/order/update',
        '/api/v1/payment/%2e%2e/internal/payment/order/update',
        '/api/v1/internal;x=1/payment/order/update',
        '/api/v1/INTERNAL/payment/order/update',
      ]
      for (const path of paths) {
        for (const method of ['GET', 'POST', 'PUT']) {
          const answer = await call(method, path, method === 'GET' ? {} : { body: '{}' })
          assert.equal(answer.status, 403, `${method} ${path}`)
          assert.equal(answer.json.code, 'FORBIDDEN', `${method} ${path}`)
        }
      }
    })

    it('allows only GET and POST on verify and only POST on notify', async () => {
      for (const [method, path] of [
        ['PUT', '/api/v1/auth/wechat/verify'],
        ['DELETE', '/api/v1/auth/wechat/verify'],
        ['GET', '/api/v1/payment/notify'],
        ['PUT', '/api/v1/payment/notify'],
      ] as const) {
        assert.equal((await call(method, path)).status, 403, `${method} ${path}`)
      }
    })

    it('does not expose the services’ ops endpoints and answers unknown paths with a JSON 404', async () => {
      for (const path of ['/healthz', '/readyz', '/metrics', '/', '/api/v2/x']) {
        const answer = await call('GET', path)
        assert.equal(answer.status, 404, path)
        assert.equal(answer.json.code, 'NOT_FOUND', path)
      }
    })

    it('tells the services the client address it saw, whatever X-Forwarded-For the client sent', async () => {
      const answer = await call('GET', '/api/v1/user/credits', {
        headers: { 'x-forwarded-for': '203.0.113.9', 'x-real-ip': '203.0.113.9' },
      })
      assert.equal(answer.json.xff, '127.0.0.1')
      assert.equal(answer.json.realIp, '127.0.0.1')
    })

    it('keeps a sane caller request id, replaces an unsafe one, and returns it on every answer', async () => {
      const kept = await call('GET', '/api/v1/user/credits', {
        headers: { 'x-request-id': 'abc-123.x:y' },
      })
      assert.equal(kept.json.requestId, 'abc-123.x:y')
      assert.equal(kept.headers.get('x-request-id'), 'abc-123.x:y')
      const replaced = await call('GET', '/api/v1/user/credits', {
        headers: { 'x-request-id': 'bad id "quoted"' },
      })
      assert.match(replaced.json.requestId ?? '', /^[0-9a-f]{32}$/)
      assert.equal(replaced.headers.get('x-request-id'), replaced.json.requestId)
      const made = await call('GET', '/api/v1/internal/x')
      assert.match(
        made.headers.get('x-request-id') ?? '',
        /^[0-9a-f]{32}$/,
        'nginx’s own answers carry one too',
      )
    })

    it('limits bodies: 128 KiB on the WeChat URLs, 256 KiB elsewhere, with a JSON 413', async () => {
      const fits = await call('POST', '/api/v1/auth/wechat/verify', {
        body: 'x'.repeat(100 * 1024),
      })
      assert.equal(fits.json.bytes, 100 * 1024, 'the gateway enforces its own 64 KiB limit')
      const tooLarge = await call('POST', '/api/v1/payment/notify', {
        body: 'x'.repeat(140 * 1024),
      })
      assert.equal(tooLarge.status, 413)
      assert.equal(tooLarge.json.code, 'PAYLOAD_TOO_LARGE')
      const apiFits = await call('POST', '/api/v1/payment/create-order', {
        body: 'x'.repeat(200 * 1024),
      })
      assert.equal(apiFits.json.bytes, 200 * 1024)
      const apiTooLarge = await call('POST', '/api/v1/payment/create-order', {
        body: 'x'.repeat(300 * 1024),
      })
      assert.equal(apiTooLarge.status, 413)
    })

    it('refuses a request carrying both Content-Length and Transfer-Encoding', async () => {
      const status = await rawRequest(
        nginx.port,
        'POST /api/v1/payment/create-order HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      )
      assert.equal(status, 400)
    })

    it('passes internal calls from the gateways to the apps byte for byte, telling the gateway’s address', async () => {
      const response = await fetch(
        `${nginx.internalUrl}/api/v1/internal/payment/order/update?a=%2F&b=1`,
        {
          method: 'PUT',
          headers: { 'x-forwarded-for': '203.0.113.9', 'x-request-id': 'internal-1' },
          body: '{}',
        },
      )
      const body = (await response.json()) as Echo
      assert.match(body.name, /^app-/)
      assert.equal(body.url, '/api/v1/internal/payment/order/update?a=%2F&b=1')
      assert.equal(body.method, 'PUT')
      assert.equal(body.xff, '127.0.0.1')
      assert.equal(body.requestId, 'internal-1')
    })

    it('answers a JSON 502 when every instance of a pool is down', async () => {
      await Promise.all(servers.map((server) => new Promise((done) => server.close(done))))
      servers.length = 0
      const answer = await call('GET', '/api/v1/payment/products')
      assert.equal(answer.status, 502, 'nginx keeps its own status (502 bad gateway, 504 timeout)')
      assert.equal(answer.json.code, 'UPSTREAM_UNAVAILABLE')

      // A failed upstream is an [error] line with the request line in it: the OAuth code must not be there.
      const login = await call(
        'GET',
        '/api/v1/auth/wechat?code=OAUTHCODEinQUERY&state=STATEinQUERY',
      )
      assert.equal(login.status, 502)
      const logs = await Promise.all(
        ['error.log', 'access.log'].map((name) => readFile(join(dir, name), 'utf8')),
      )
      for (const text of logs) {
        assert.ok(!text.includes('OAUTHCODEinQUERY') && !text.includes('STATEinQUERY'))
      }
      assert.match(logs[1] ?? '', /"upstream_status":"502/, 'the failure is in the access log')
    })
  },
)
