// Tests for buildService through inject(): request ids, error mapping, ops routes, metrics.
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { pino } from 'pino'
import { Counter } from 'prom-client'
import { buildService } from './build-service.js'
import { defineError, RateLimitedError } from './errors.js'
import { createLoggerOptions } from './logger.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function capturedLogger() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'))
      callback()
    },
  })
  const logger = pino(createLoggerOptions({ level: 'info', name: 'test' }), stream)
  return { logger, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) }
}

const OrderNotFound = defineError('ORDER_NOT_FOUND', 'order %s not found', 404)
const UpstreamDown = defineError('UPSTREAM_UNAVAILABLE', 'WeChat is unavailable', 503)

function testService(options: Partial<Parameters<typeof buildService>[0]> = {}) {
  const app = buildService({ name: 'test', bodyLimit: 1024, ...options })
  app.get('/id', (request) => ({ id: request.id }))
  app.post(
    '/items',
    {
      schema: {
        body: {
          type: 'object',
          required: ['name', 'count'],
          properties: { name: { type: 'string', minLength: 1 }, count: { type: 'integer' } },
        },
      },
    },
    (request) => ({ ok: true, body: request.body }),
  )
  app.get('/orders/:id', (request) => {
    throw new OrderNotFound((request.params as { id: string }).id)
  })
  app.get('/orders-with-details', () => {
    throw Object.assign(new OrderNotFound('T9'), { details: { out_trade_no: 'T9' } })
  })
  app.get('/upstream', () => {
    throw Object.assign(new UpstreamDown(), { details: { host: 'internal-host' } })
  })
  app.get('/limited', () => {
    throw Object.assign(new RateLimitedError(), { retryAfterS: 1.2 })
  })
  app.get('/boom', () => {
    throw new Error('database password is hunter2', { cause: new Error('socket closed') })
  })
  return app
}

describe('buildService request ids', () => {
  it('makes an id when the caller sends none and echoes it', async () => {
    const app = testService()
    const res = await app.inject({ method: 'GET', url: '/id' })
    assert.equal(res.statusCode, 200)
    const id = res.headers['x-request-id']
    assert.match(String(id), UUID)
    assert.deepEqual(res.json(), { id })
    await app.close()
  })

  it("keeps a caller's well-formed X-Request-Id", async () => {
    const app = testService()
    const given = 'gw.1234:abc-DEF_9'
    const res = await app.inject({ method: 'GET', url: '/id', headers: { 'x-request-id': given } })
    assert.equal(res.headers['x-request-id'], given)
    assert.deepEqual(res.json(), { id: given })
    await app.close()
  })

  it('replaces an id that is too long or has unsafe characters', async () => {
    const app = testService()
    for (const bad of ['x'.repeat(129), 'has space', 'a\u00e9', 'semi;colon', '']) {
      const res = await app.inject({ method: 'GET', url: '/id', headers: { 'x-request-id': bad } })
      assert.match(String(res.headers['x-request-id']), UUID, bad)
    }
    const longest = 'y'.repeat(128)
    const ok = await app.inject({ method: 'GET', url: '/id', headers: { 'x-request-id': longest } })
    assert.equal(ok.headers['x-request-id'], longest)
    await app.close()
  })

  it('reads and echoes a custom header name, also on errors', async () => {
    const app = testService({ requestIdHeader: 'X-Correlation-Id' })
    const res = await app.inject({
      method: 'GET',
      url: '/nope',
      headers: { 'x-correlation-id': 'c1' },
    })
    assert.equal(res.statusCode, 404)
    assert.equal(res.headers['x-correlation-id'], 'c1')
    await app.close()
  })
})

describe('buildService error handling', () => {
  it('answers schema validation failures with 400 VALIDATION_FAILED and the issues', async () => {
    const app = testService()
    const res = await app.inject({ method: 'POST', url: '/items', payload: { name: '' } })
    assert.equal(res.statusCode, 400)
    const body = res.json<{
      code: string
      message: string
      details: { in: string; path: string }[]
    }>()
    assert.equal(body.code, 'VALIDATION_FAILED')
    assert.equal(typeof body.message, 'string')
    assert.ok(body.details.length >= 1)
    assert.ok(body.details.every((d) => d.in === 'body'))
    assert.ok(body.details.some((d) => d.path === '/count' || d.path === '/name'))
    await app.close()
  })

  it('coerces query strings (text) but never JSON bodies, which arrive typed', async () => {
    const app = buildService({ name: 'coerce-test' })
    const schema = {
      type: 'object',
      properties: { n: { type: 'integer' }, s: { type: 'string' } },
      additionalProperties: false,
    }
    app.post('/echo', { schema: { querystring: schema, body: schema } }, (request) => ({
      query: request.query,
      body: request.body,
    }))
    const fromQuery = await app.inject({ method: 'POST', url: '/echo?n=2', payload: { n: 3 } })
    assert.equal(fromQuery.statusCode, 200, fromQuery.body)
    assert.deepEqual(fromQuery.json(), { query: { n: 2 }, body: { n: 3 } })
    for (const payload of [{ n: '3' }, { s: 123 }, { s: true }, { s: ['x'] }]) {
      const res = await app.inject({ method: 'POST', url: '/echo', payload })
      assert.equal(res.statusCode, 400, JSON.stringify(payload))
      assert.equal(res.json<{ code: string }>().code, 'VALIDATION_FAILED')
    }
    const listInQuery = await app.inject({ method: 'POST', url: '/echo?s=a&s=b', payload: {} })
    assert.equal(listInQuery.statusCode, 400, 'a repeated query value is not taken for one')
    await app.close()
  })

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const app = testService()
    const res = await app.inject({
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(2000), count: 1 }),
    })
    assert.equal(res.statusCode, 413)
    assert.equal(res.json<{ code: string }>().code, 'PAYLOAD_TOO_LARGE')
    await app.close()
  })

  it('answers an unsupported content type with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const app = testService()
    const res = await app.inject({
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'application/x-unknown' },
      payload: 'abc',
    })
    assert.equal(res.statusCode, 415)
    assert.equal(res.json<{ code: string }>().code, 'UNSUPPORTED_MEDIA_TYPE')
    await app.close()
  })

  it('answers malformed or empty JSON with 400 BODY_INVALID', async () => {
    const app = testService()
    for (const payload of ['{"name": ', '']) {
      const res = await app.inject({
        method: 'POST',
        url: '/items',
        headers: { 'content-type': 'application/json' },
        payload,
      })
      assert.equal(res.statusCode, 400, JSON.stringify(payload))
      assert.equal(res.json<{ code: string }>().code, 'BODY_INVALID')
    }
    await app.close()
  })

  it('answers a defined error with its code, status and message, with 4xx details', async () => {
    const app = testService()
    const res = await app.inject({ method: 'GET', url: '/orders/T1' })
    assert.equal(res.statusCode, 404)
    assert.deepEqual(res.json(), { code: 'ORDER_NOT_FOUND', message: 'order T1 not found' })
    const detailed = await app.inject({ method: 'GET', url: '/orders-with-details' })
    assert.deepEqual(detailed.json(), {
      code: 'ORDER_NOT_FOUND',
      message: 'order T9 not found',
      details: { out_trade_no: 'T9' },
    })
    await app.close()
  })

  it('keeps the code of a defined 5xx error but never its details', async () => {
    const app = testService()
    const res = await app.inject({ method: 'GET', url: '/upstream' })
    assert.equal(res.statusCode, 503)
    assert.deepEqual(res.json(), { code: 'UPSTREAM_UNAVAILABLE', message: 'WeChat is unavailable' })
    await app.close()
  })

  it('answers the shared rate-limit error with 429 RATE_LIMITED and Retry-After', async () => {
    const app = testService()
    const res = await app.inject({ method: 'GET', url: '/limited' })
    assert.equal(res.statusCode, 429)
    assert.equal(res.headers['retry-after'], '2')
    assert.equal(res.json<{ code: string }>().code, 'RATE_LIMITED')
    await app.close()
  })

  it('answers anything else with a bare 500 INTERNAL_ERROR and logs it with its cause', async () => {
    const { logger, entries } = capturedLogger()
    const app = testService({ logger })
    const res = await app.inject({ method: 'GET', url: '/boom' })
    assert.equal(res.statusCode, 500)
    assert.deepEqual(res.json(), { code: 'INTERNAL_ERROR', message: 'internal error' })
    assert.ok(!res.body.includes('hunter2'))
    const logged = entries().find((e) => e.code === 'INTERNAL_ERROR')
    assert.ok(logged !== undefined)
    assert.equal(logged.level, 50)
    assert.match(JSON.stringify(logged.err), /socket closed/)
    await app.close()
  })

  it('answers other framework 4xx errors with their status and BAD_REQUEST', async () => {
    const app = testService()
    const res = await app.inject({
      method: 'GET',
      url: '/orders/%E0%A4%A',
      headers: { 'x-request-id': 'bad-url-1' },
    })
    assert.equal(res.statusCode, 400)
    assert.equal(res.headers['x-request-id'], 'bad-url-1')
    assert.deepEqual(res.json(), { code: 'BAD_REQUEST', message: 'bad request' })
    await app.close()
  })

  it('answers unknown routes with 404 NOT_FOUND', async () => {
    const app = testService()
    const res = await app.inject({ method: 'GET', url: '/missing?x=1' })
    assert.equal(res.statusCode, 404)
    const body = res.json<{ code: string; message: string }>()
    assert.equal(body.code, 'NOT_FOUND')
    assert.equal(body.message, 'route GET /missing not found')
    await app.close()
  })

  it('logs request URLs without credential query values', async () => {
    const { logger, entries } = capturedLogger()
    const app = testService({ logger })
    await app.inject({ method: 'GET', url: '/id?signature=SECRET-SIG&nonce=n' })
    const text = JSON.stringify(entries())
    assert.ok(!text.includes('SECRET-SIG'))
    assert.match(text, /signature=\[redacted\]&nonce=n/)
    await app.close()
  })
})

describe('buildService ops routes', () => {
  it('answers /healthz with 200', async () => {
    const app = testService()
    const res = await app.inject({ method: 'GET', url: '/healthz' })
    assert.equal(res.statusCode, 200)
    assert.deepEqual(res.json(), { status: 'ok' })
    await app.close()
  })

  it('answers /readyz with 200 when every check passes', async () => {
    const app = testService()
    let called = 0
    app.addReadinessCheck('database', () => {
      called += 1
    })
    app.addReadinessCheck('redis', () => Promise.resolve(true))
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    assert.equal(res.statusCode, 200)
    assert.deepEqual(res.json(), { status: 'ready', checks: ['database', 'redis'] })
    assert.equal(called, 1)
    await app.close()
  })

  it('answers /readyz with 503 NOT_READY naming the failed checks only', async () => {
    const app = testService()
    app.addReadinessCheck('database', () => Promise.reject(new Error('ECONNREFUSED db-host:3306')))
    app.addReadinessCheck('app', () => false)
    app.addReadinessCheck('slow', () => new Promise(() => {}), { timeoutMs: 20 })
    app.addReadinessCheck('fine', () => undefined)
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    assert.equal(res.statusCode, 503)
    assert.deepEqual(res.json(), {
      code: 'NOT_READY',
      message: 'service is not ready',
      details: { failed: ['database', 'app', 'slow'] },
    })
    assert.ok(!res.body.includes('db-host'))
    await app.close()
  })

  it('refuses a second readiness check with the same name', async () => {
    const app = testService()
    app.addReadinessCheck('database', () => true)
    assert.throws(() => app.addReadinessCheck('database', () => true), /already registered/)
    await app.close()
  })
})

describe('buildService metrics', () => {
  it('counts requests by route pattern and status and exposes default metrics', async () => {
    const app = testService()
    await app.inject({ method: 'GET', url: '/orders/T1' })
    await app.inject({ method: 'GET', url: '/orders/T2' })
    await app.inject({ method: 'GET', url: '/missing' })
    const res = await app.inject({ method: 'GET', url: '/metrics' })
    assert.equal(res.statusCode, 200)
    assert.match(String(res.headers['content-type']), /^text\/plain/)
    assert.match(
      res.body,
      /^http_requests_total\{method="GET",route="\/orders\/:id",status="404",service="test"\} 2$/m,
    )
    assert.match(
      res.body,
      /^http_requests_total\{method="GET",route="unmatched",status="404",service="test"\} 1$/m,
    )
    const durationCount = res.body
      .split('\n')
      .find(
        (l) =>
          l.startsWith('http_request_duration_seconds_count') && l.includes('route="/orders/:id"'),
      )
    assert.ok(durationCount?.includes('status="404"'))
    assert.ok(durationCount?.endsWith(' 2'))
    assert.match(res.body, /^process_cpu_user_seconds_total/m)
    await app.close()
  })

  it('keeps http_requests_total equal to the requests answered across repeated scrapes', async () => {
    const app = testService()
    const countOf = (body: string, route: string, status: string) =>
      body
        .split('\n')
        .find(
          (l) =>
            l.startsWith('http_requests_total{') &&
            l.includes(`route="${route}"`) &&
            l.includes(`status="${status}"`),
        )
    await app.inject({ method: 'GET', url: '/id' })
    const first = await app.inject({ method: 'GET', url: '/metrics' })
    assert.ok(countOf(first.body, '/id', '200')?.endsWith(' 1'), first.body)
    await app.inject({ method: 'GET', url: '/id' })
    await app.inject({ method: 'GET', url: '/orders/T3' })
    const second = await app.inject({ method: 'GET', url: '/metrics' })
    assert.ok(countOf(second.body, '/id', '200')?.endsWith(' 2'), second.body)
    assert.ok(countOf(second.body, '/orders/:id', '404')?.endsWith(' 1'), second.body)
    // The first scrape is itself a request answered by /metrics.
    assert.ok(countOf(second.body, '/metrics', '200')?.endsWith(' 1'), second.body)
    await app.close()
  })

  it('gives each instance its own registry so several apps live in one process', async () => {
    const a = testService({ name: 'a' })
    const b = testService({ name: 'b' })
    await a.ready()
    await b.ready()
    assert.notEqual(a.metrics.registry, b.metrics.registry)
    new Counter({ name: 'wechat_calls_total', help: 'calls', registers: [a.metrics.registry] }).inc(
      3,
    )
    await a.inject({ method: 'GET', url: '/id' })
    const metricsA = (await a.inject({ method: 'GET', url: '/metrics' })).body
    const metricsB = (await b.inject({ method: 'GET', url: '/metrics' })).body
    assert.match(metricsA, /^wechat_calls_total\{service="a"\} 3$/m)
    assert.doesNotMatch(metricsB, /wechat_calls_total/)
    assert.match(metricsA, /route="\/id"/)
    assert.doesNotMatch(metricsB, /route="\/id"/)
    await a.close()
    await b.close()
  })
})

describe('request validation', () => {
  it('refuses an array where the schema asks for a string instead of unwrapping it', async () => {
    const app = buildService({ name: 'test' })
    app.post(
      '/things',
      {
        schema: {
          body: {
            type: 'object',
            required: ['id'],
            properties: { id: { type: 'string' } },
          },
        },
      },
      (request, reply) => reply.send(request.body),
    )
    const wrapped = await app.inject({ method: 'POST', url: '/things', payload: { id: ['x'] } })
    assert.equal(wrapped.statusCode, 400)
    assert.equal(wrapped.json<{ code: string }>().code, 'VALIDATION_FAILED')
    const plain = await app.inject({ method: 'POST', url: '/things', payload: { id: 'x' } })
    assert.deepEqual(plain.json(), { id: 'x' })
    await app.close()
  })

  it('refuses Infinity and NaN for a number, in a query string and in a JSON body', async () => {
    // Ajv skips minimum/maximum for a number that is not finite, and `integer` lets Infinity through, so
    // `?page=Infinity` reached SQL as `offset Infinity` (500) until numbers were checked strictly.
    const app = buildService({ name: 'test' })
    const page = { type: 'integer', minimum: 1, maximum: 100 }
    app.post(
      '/pages',
      {
        schema: {
          querystring: { type: 'object', properties: { page } },
          body: { type: 'object', properties: { page } },
        },
      },
      (request, reply) => reply.send({ query: request.query, body: request.body }),
    )
    const post = (query: string, body: string) =>
      app.inject({
        method: 'POST',
        url: `/pages?${query}`,
        headers: { 'content-type': 'application/json' },
        payload: body,
      })
    for (const value of ['Infinity', '-Infinity', '1e309', 'NaN']) {
      const answer = await post(`page=${value}`, '{}')
      assert.equal(answer.statusCode, 400, `?page=${value}`)
      assert.equal(answer.json<{ code: string }>().code, 'VALIDATION_FAILED')
    }
    for (const value of ['1e309', '-1e309']) {
      const answer = await post('', `{"page": ${value}}`)
      assert.equal(answer.statusCode, 400, `{"page": ${value}}`)
    }
    const fine = await post('page=2', '{"page": 3}')
    assert.deepEqual(fine.json(), { query: { page: 2 }, body: { page: 3 } })
    await app.close()
  })
})
