// Tests for the internal client against a local node:http server.
import assert from 'node:assert/strict'
import { createHook } from 'node:async_hooks'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { InternalApiUnreachableError } from './errors.js'
import { createInternalClient } from './internal-client.js'
import { verifyInternalRequest } from './internal-signature.js'

const SECRET = 'client-test-secret-0123456789-abcdef'

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: Buffer
  remotePort: number | undefined
}

type Handler = (seen: Seen, res: ServerResponse) => void

describe('createInternalClient', () => {
  let server: Server
  let baseUrl: string
  let handler: Handler = (_seen, res) => res.end()
  const seen: Seen[] = []

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const entry = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks),
          remotePort: req.socket.remotePort,
        }
        seen.push(entry)
        handler(entry, res)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  after(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve, reject) =>
      server.close((error) => (error ? reject(error) : resolve())),
    )
  })

  const json =
    (status: number, body: unknown): Handler =>
    (_seen, res) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify(body))
    }

  it('sends a signed JSON request that verifies on the other side, with the request id', async () => {
    handler = json(200, { user: { openid: 'o1' }, created: true })
    const client = createInternalClient({ baseUrl, secret: SECRET, timeoutMs: 2000 })
    try {
      const body = { openid: 'o1', subscribed: true, event_time: 1764057600 }
      const result = await client.createOrUpdateUser(body, { requestId: 'req-123' })
      assert.deepEqual(result, { status: 200, body: { user: { openid: 'o1' }, created: true } })
      const request = seen.at(-1) as Seen
      assert.equal(request.method, 'POST')
      assert.equal(request.url, '/api/v1/internal/user/create-or-update')
      assert.equal(request.headers['x-request-id'], 'req-123')
      assert.equal(request.headers['content-type'], 'application/json')
      assert.deepEqual(JSON.parse(request.body.toString('utf8')), body)
      const verified = verifyInternalRequest({
        secret: SECRET,
        method: request.method,
        pathAndQuery: request.url,
        body: request.body,
        headers: request.headers,
      })
      assert.match(verified.nonce, /^[A-Za-z0-9]{16,64}$/)
    } finally {
      await client.close()
    }
  })

  it('uses the method and path of each call and a new nonce every time', async () => {
    handler = json(200, {})
    const client = createInternalClient({ baseUrl, secret: SECRET, timeoutMs: 2000 })
    try {
      const before = seen.length
      const binding = { scene_str: 's1', openid: 'o1', event: 'SCAN' as const, event_time: 1 }
      await client.createBinding(binding)
      await client.updateBinding(binding)
      await client.updateOrder({
        out_trade_no: 'T1',
        transaction_id: 'W1',
        total_fee: 990,
        trade_state: 'SUCCESS',
        paid_at: '2026-11-25T08:00:00.000Z',
      })
      await client.consumeCredits({ openid: 'o1', amount: 1, reason: 'r', idempotency_key: 'k' })
      const calls = seen.slice(before)
      assert.deepEqual(
        calls.map((c) => `${c.method} ${c.url}`),
        [
          'POST /api/v1/internal/binding/create',
          'PUT /api/v1/internal/binding/update',
          'PUT /api/v1/internal/payment/order/update',
          'POST /api/v1/internal/credits/consume',
        ],
      )
      const nonces = new Set(calls.map((c) => c.headers['x-internal-nonce']))
      assert.equal(nonces.size, 4)
      for (const c of calls) {
        verifyInternalRequest({
          secret: SECRET,
          method: c.method,
          pathAndQuery: c.url,
          body: c.body,
          headers: c.headers,
        })
      }
      // Keep-alive: connections are reused rather than opened per call.
      assert.ok(new Set(calls.map((c) => c.remotePort)).size < calls.length)
    } finally {
      await client.close()
    }
  })

  it('opens at most maxConnections sockets; further calls wait for one and all complete', async () => {
    const open: ServerResponse[] = []
    // Each answer takes 20 ms, so with two sockets four of the six calls must wait for one.
    handler = (_seen, res) => {
      open.push(res)
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{}')
      }, 20)
    }
    const client = createInternalClient({
      baseUrl,
      secret: SECRET,
      timeoutMs: 2000,
      maxConnections: 2,
    })
    try {
      const before = seen.length
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          client.consumeCredits({
            openid: `o${i}`,
            amount: 1,
            reason: 'r',
            idempotency_key: `k${i}`,
          }),
        ),
      )
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200, 200, 200, 200],
      )
      const ports = new Set(seen.slice(before).map((c) => c.remotePort))
      assert.equal(ports.size, 2, `sockets used: ${[...ports].join(', ')}`)
      assert.equal(open.length, 6)
    } finally {
      await client.close()
    }
  })

  it('signs a base path that is part of baseUrl', async () => {
    handler = json(200, {})
    const client = createInternalClient({
      baseUrl: `${baseUrl}/app/`,
      secret: SECRET,
      timeoutMs: 2000,
    })
    try {
      await client.consumeCredits({ openid: 'o1', amount: 1, reason: 'r', idempotency_key: 'k' })
      const request = seen.at(-1) as Seen
      assert.equal(request.url, '/app/api/v1/internal/credits/consume')
      verifyInternalRequest({
        secret: SECRET,
        method: request.method,
        pathAndQuery: request.url,
        body: request.body,
        headers: request.headers,
      })
    } finally {
      await client.close()
    }
  })

  it('returns error answers as they are instead of throwing', async () => {
    const client = createInternalClient({ baseUrl, secret: SECRET, timeoutMs: 2000 })
    try {
      handler = json(409, { code: 'AMOUNT_MISMATCH', message: 'total_fee differs' })
      const conflict = await client.updateOrder({
        out_trade_no: 'T1',
        transaction_id: 'W1',
        total_fee: 1,
        trade_state: 'SUCCESS',
        paid_at: '2026-11-25T08:00:00.000Z',
      })
      assert.deepEqual(conflict, {
        status: 409,
        body: { code: 'AMOUNT_MISMATCH', message: 'total_fee differs' },
      })
      handler = (_seen, res) => {
        res.writeHead(502, { 'content-type': 'text/html' })
        res.end('<h1>bad gateway</h1>')
      }
      assert.deepEqual(await client.ready(), { status: 502, body: '<h1>bad gateway</h1>' })
    } finally {
      await client.close()
    }
  })

  it('pings /readyz without signing', async () => {
    handler = json(200, { status: 'ok' })
    const client = createInternalClient({ baseUrl, secret: SECRET, timeoutMs: 2000 })
    try {
      assert.deepEqual(await client.ready({ requestId: 'r1' }), {
        status: 200,
        body: { status: 'ok' },
      })
      const request = seen.at(-1) as Seen
      assert.equal(request.method, 'GET')
      assert.equal(request.url, '/readyz')
      assert.equal(request.headers['x-internal-signature'], undefined)
      assert.equal(request.headers['x-request-id'], 'r1')
    } finally {
      await client.close()
    }
  })

  it('throws InternalApiUnreachableError with timedOut when app answers too late', async () => {
    handler = (_seen, res) => {
      setTimeout(() => res.end('{}'), 500).unref()
    }
    const client = createInternalClient({ baseUrl, secret: SECRET, timeoutMs: 2000 })
    try {
      await assert.rejects(
        client.consumeCredits(
          { openid: 'o1', amount: 1, reason: 'r', idempotency_key: 'k' },
          { timeoutMs: 50 },
        ),
        (error: unknown) =>
          error instanceof InternalApiUnreachableError &&
          error.timedOut &&
          error.cause !== undefined,
      )
    } finally {
      await client.close()
    }
  })

  it('leaves no timeout timer behind once a call is answered', async () => {
    handler = json(200, { status: 'ok' })
    const client = createInternalClient({ baseUrl, secret: SECRET, timeoutMs: 2000 })
    // Timers of this call's distinctive timeout that are still pending (neither fired nor cleared).
    const pending = new Set<number>()
    const hook = createHook({
      init(asyncId, type, _trigger, resource) {
        if (type === 'Timeout' && (resource as { _idleTimeout?: number })._idleTimeout === 4321) {
          pending.add(asyncId)
        }
      },
      destroy(asyncId) {
        pending.delete(asyncId)
      },
    })
    hook.enable()
    try {
      assert.deepEqual(await client.ready({ timeoutMs: 4321 }), {
        status: 200,
        body: { status: 'ok' },
      })
      await new Promise((resolve) => setImmediate(resolve))
      assert.equal(pending.size, 0)
    } finally {
      hook.disable()
      await client.close()
    }
  })

  it('throws InternalApiUnreachableError with the cause when nothing listens', async () => {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as AddressInfo).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const client = createInternalClient({
      baseUrl: `http://127.0.0.1:${port}`,
      secret: SECRET,
      timeoutMs: 2000,
    })
    try {
      await assert.rejects(client.ready(), (error: unknown) => {
        assert.ok(error instanceof InternalApiUnreachableError)
        assert.equal(error.timedOut, false)
        assert.ok(error.cause instanceof Error)
        return true
      })
    } finally {
      await client.close()
    }
  })

  it('stops when the caller aborts', async () => {
    handler = (_seen, res) => {
      setTimeout(() => res.end('{}'), 500).unref()
    }
    const client = createInternalClient({ baseUrl, secret: SECRET, timeoutMs: 2000 })
    try {
      const controller = new AbortController()
      const pending = client.ready({ signal: controller.signal })
      setTimeout(() => controller.abort(), 20)
      await assert.rejects(
        pending,
        (error: unknown) => error instanceof InternalApiUnreachableError && !error.timedOut,
      )
    } finally {
      await client.close()
    }
  })

  it('close() fails the call in flight, the calls waiting for a socket and any later call', async () => {
    const before = seen.length
    handler = (_seen, res) => {
      setTimeout(() => res.end('{}'), 300).unref()
    }
    const client = createInternalClient({
      baseUrl,
      secret: SECRET,
      timeoutMs: 2000,
      maxConnections: 1,
    })
    const calls = [client.ready(), client.ready(), client.ready()]
    await new Promise((resolve) => setTimeout(resolve, 50))
    await client.close()
    const settled = await Promise.allSettled(calls)
    for (const result of settled) {
      assert.equal(result.status, 'rejected')
      assert.ok(result.reason instanceof InternalApiUnreachableError)
    }
    await assert.rejects(client.ready(), InternalApiUnreachableError)
    // Only the first call ever reached the server: the queued ones were not sent after close().
    await new Promise((resolve) => setTimeout(resolve, 350))
    assert.equal(seen.length - before, 1)
  })

  it('reaches an IPv6 literal in baseUrl', async (t) => {
    const server6 = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"ok":true}')
    })
    const listening = await new Promise<boolean>((resolve) => {
      server6.once('error', () => resolve(false))
      server6.listen(0, '::1', () => resolve(true))
    })
    if (!listening) {
      t.skip('no IPv6 loopback on this machine')
      return
    }
    const { port } = server6.address() as AddressInfo
    const client = createInternalClient({
      baseUrl: `http://[::1]:${port}`,
      secret: SECRET,
      timeoutMs: 2000,
    })
    try {
      assert.deepEqual(await client.ready(), { status: 200, body: { ok: true } })
    } finally {
      await client.close()
      server6.close()
    }
  })

  it('refuses a baseUrl that is not http', () => {
    assert.throws(
      () => createInternalClient({ baseUrl: 'ftp://x', secret: SECRET, timeoutMs: 1 }),
      TypeError,
    )
  })
})
