import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Agent, createServer, request } from 'node:http'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { createLoggerOptions } from '@wxgate/service-kit'
import { computeSignature } from '@wxgate/wechat'
import { installFastPath } from './wechat-verify-fast.js'
import { metricValue } from '../testing/metrics-text.js'
import { startGateway, TEST } from '../testing/gateway-fixture.js'
import type { TestGateway } from '../testing/gateway-fixture.js'

const PATH = '/api/v1/auth/wechat/verify'
const ECHO = 'echo-1234567890 +/=中文'

function signedQuery(extra: Record<string, string> = {}): URLSearchParams {
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = 'n0nce'
  return new URLSearchParams({
    signature: computeSignature([TEST.token, timestamp, nonce]),
    timestamp,
    nonce,
    echostr: ECHO,
    ...extra,
  })
}

interface Answer {
  status: number
  body: string
  contentType: string | null
  requestId: string | null
  nosniff: string | null
}

/** Log lines as objects, without what differs between any two requests. */
type LogLine = Record<string, unknown>

describe('GET …/verify on the listening server (fast path ahead of Fastify)', () => {
  let gateway: TestGateway
  let origin: string
  const lines: LogLine[] = []
  /** Where every gateway of this suite writes its log lines (into `lines`). */
  let sink: Writable

  before(async () => {
    sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line !== '') lines.push(JSON.parse(line) as LogLine)
        }
        callback()
      },
    })
    const logger = pino(createLoggerOptions({ level: 'info', name: 'gateway' }), sink)
    gateway = await startGateway({ appUrl: 'http://127.0.0.1:9', deps: { logger } })
    origin = await gateway.app.listen({ host: '127.0.0.1', port: 0 })
  })
  after(async () => {
    await gateway.close()
  })

  async function overHttp(
    url: string,
    init: { method?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const response = await fetch(`${origin}${url}`, init)
    return {
      status: response.status,
      body: await response.text(),
      contentType: response.headers.get('content-type'),
      requestId: response.headers.get('x-request-id'),
      nosniff: response.headers.get('x-content-type-options'),
    }
  }

  async function throughInject(url: string, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await gateway.app.inject({ method: 'GET', url, headers })
    const header = (name: string): string | null => {
      const value = response.headers[name]
      return typeof value === 'string' ? value : null
    }
    return {
      status: response.statusCode,
      body: response.body,
      contentType: header('content-type'),
      requestId: header('x-request-id'),
      nosniff: header('x-content-type-options'),
    }
  }

  /** The log lines of one request id, each reduced to msg, level and the fields that must match. */
  function logOf(reqId: string): LogLine[] {
    return lines
      .filter((line) => line.reqId === reqId)
      .map((line) => {
        const { time: _t, pid: _p, hostname: _h, responseTime, req, ...rest } = line
        const kept: LogLine = { ...rest }
        if (responseTime !== undefined) kept.responseTime = typeof responseTime
        if (req !== undefined) {
          const { remote_address: _r, ...request } = req as Record<string, unknown>
          kept.req = request
        }
        return kept
      })
  }

  /** Sends the same request both ways (each with its own id) and compares answers and log lines. */
  async function sameAsFastify(url: string): Promise<Answer> {
    const fastId = `fast-${Math.random().toString(36).slice(2)}`
    const refId = fastId.replace('fast-', 'ref-')
    const fast = await overHttp(url, { headers: { 'x-request-id': fastId } })
    const reference = await throughInject(url, { 'x-request-id': refId })
    assert.equal(fast.requestId, fastId)
    assert.deepEqual({ ...fast, requestId: refId }, reference)
    const fastLog = logOf(fastId)
    assert.ok(fastLog.length >= 2, 'the fast path logs the request')
    const expected = logOf(refId).map(
      (line) => JSON.parse(JSON.stringify(line).replaceAll(refId, fastId)) as LogLine,
    )
    // inject has no socket and its own user agent; everything else is the same.
    const strip = (log: LogLine[]): LogLine[] =>
      log.map((line) => {
        if (line.req === undefined) return line
        const { user_agent: _u, ...req } = line.req as Record<string, unknown>
        return { ...line, req }
      })
    assert.deepEqual(strip(fastLog), strip(expected))
    return fast
  }

  it('answers exactly the echostr as text/plain, with the log lines of the Fastify route', async () => {
    const answer = await sameAsFastify(`${PATH}?${signedQuery().toString()}`)
    assert.equal(answer.status, 200)
    assert.equal(answer.body, ECHO)
    assert.equal(answer.contentType, 'text/plain; charset=utf-8')
    assert.equal(answer.nosniff, 'nosniff')
  })

  it('refuses a wrong signature with the route 401 body and a warning', async () => {
    const query = signedQuery({ signature: 'f'.repeat(40) })
    const answer = await sameAsFastify(`${PATH}?${query.toString()}`)
    assert.equal(answer.status, 401)
    assert.deepEqual(JSON.parse(answer.body), {
      code: 'SIGNATURE_INVALID',
      message: 'The request could not be authenticated',
    })
    assert.equal(answer.contentType, 'application/json; charset=utf-8')
    assert.ok(!answer.body.includes(ECHO))
  })

  it('refuses missing parameters and a missing query alike', async () => {
    for (const name of ['signature', 'timestamp', 'nonce']) {
      const query = signedQuery()
      query.delete(name)
      const answer = await sameAsFastify(`${PATH}?${query.toString()}`)
      assert.equal(answer.status, 401, name)
    }
    assert.equal((await sameAsFastify(PATH)).status, 401)
    assert.equal((await sameAsFastify(`${PATH}?signature=&timestamp=1&nonce=x`)).status, 401)
  })

  it('answers 401 when the signature is good but echostr is missing (only a signed echostr gets 200)', async () => {
    const query = signedQuery()
    query.delete('echostr')
    const answer = await sameAsFastify(`${PATH}?${query.toString()}`)
    assert.equal(answer.status, 401)
    assert.equal((JSON.parse(answer.body) as { code: string }).code, 'SIGNATURE_INVALID')
  })

  it('refuses a repeated parameter instead of picking one', async () => {
    const good = signedQuery()
    const signature = good.get('signature') ?? ''
    const twice = `${PATH}?${good.toString()}&signature=${signature}`
    assert.equal((await sameAsFastify(twice)).status, 401)
    const echoTwice = `${PATH}?${good.toString()}&echostr=other`
    assert.equal((await sameAsFastify(echoTwice)).status, 401)
  })

  it('decodes names and values as the Fastify route does', async () => {
    const good = signedQuery()
    good.delete('echostr')
    const raw = `${PATH}?${good.toString()}&%65chostr=a+b%20c%2B%E4%B8%AD`
    const answer = await sameAsFastify(raw)
    assert.equal(answer.status, 200)
    assert.equal(answer.body, 'a b c+中')
    const encodedTwice = `${PATH}?${signedQuery().toString()}&%65chostr=x`
    assert.equal((await sameAsFastify(encodedTwice)).status, 401)
    const noValue = `${PATH}?${good.toString()}&echostr`
    assert.equal((await sameAsFastify(noValue)).status, 401)
    const empties = `${PATH}?&&${good.toString()}&&echostr=ok&`
    assert.equal((await sameAsFastify(empties)).body, 'ok')
  })

  it('keeps a valid caller request id and makes one for an invalid or missing one', async () => {
    const url = `${PATH}?${signedQuery().toString()}`
    assert.equal(
      (await overHttp(url, { headers: { 'x-request-id': 'abc.123:x-y' } })).requestId,
      'abc.123:x-y',
    )
    const bad = await overHttp(url, { headers: { 'x-request-id': 'has space<>' } })
    assert.match(bad.requestId ?? '', /^[0-9a-f-]{36}$/)
    const none = await overHttp(url)
    assert.match(none.requestId ?? '', /^[0-9a-f-]{36}$/)
    assert.notEqual(none.requestId, bad.requestId)
  })

  // TRUST_PROXY unset trusts loopback, where these requests come from: the last forwarded hop.
  for (const [trustProxy, client] of [
    [undefined, '198.51.100.2'],
    ['2', '203.0.113.7'],
    ['false', '127.0.0.1'],
  ] as const) {
    it(`names the client as the route does with TRUST_PROXY=${trustProxy ?? '(unset)'}: ${client}`, async () => {
      const own =
        trustProxy === undefined
          ? gateway
          : await startGateway({
              appUrl: 'http://127.0.0.1:9',
              env: { TRUST_PROXY: trustProxy },
              deps: { logger: pino(createLoggerOptions({ level: 'info', name: 'gateway' }), sink) },
            })
      try {
        const ownOrigin =
          own === gateway ? origin : await own.app.listen({ host: '127.0.0.1', port: 0 })
        const url = `${PATH}?${signedQuery().toString()}`
        const forwarded = '203.0.113.7, 198.51.100.2'
        const id = `fwd-${trustProxy ?? 'default'}`
        await fetch(`${ownOrigin}${url}`, {
          headers: { 'x-request-id': `${id}-fast`, 'x-forwarded-for': forwarded },
        })
        await own.app.inject({
          method: 'GET',
          url,
          headers: { 'x-request-id': `${id}-ref`, 'x-forwarded-for': forwarded },
          remoteAddress: '127.0.0.1',
        })
        const addressOf = (reqId: string): unknown => {
          const line = lines.find((l) => l.reqId === reqId && l.msg === 'incoming request')
          return (line?.req as Record<string, unknown> | undefined)?.remote_address
        }
        assert.equal(addressOf(`${id}-ref`), client)
        assert.equal(addressOf(`${id}-fast`), client)
      } finally {
        if (own !== gateway) await own.close()
      }
    })
  }

  it('never answers HEAD, POST, other paths or a trailing slash with the GET answer', async () => {
    const query = signedQuery().toString()
    const head = await fetch(`${origin}${PATH}?${query}`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(await head.text(), '')
    // POST without a body: the push handling's refusal (wechat-verify-fast.push.test.ts), not the echo.
    const post = await overHttp(`${PATH}?${query}`, { method: 'POST' })
    assert.notEqual(post.body, ECHO)
    const reference = await gateway.app.inject({ method: 'POST', url: `${PATH}?${query}` })
    assert.equal(post.status, reference.statusCode)
    assert.equal(post.body, reference.body)
    const slash = await overHttp(`${PATH}/?${query}`)
    assert.equal(slash.status, 404)
    assert.equal((await overHttp('/healthz')).status, 200)
  })

  it('counts its answers in http_requests_total and the duration histogram, route label included', async () => {
    const labels = (status: string) => ({ method: 'GET', route: PATH, status })
    const read = async (): Promise<string> => (await overHttp('/metrics')).body
    const before = await read()
    const ok0 = metricValue(before, 'http_requests_total', labels('200')) ?? 0
    const no0 = metricValue(before, 'http_requests_total', labels('401')) ?? 0
    const h0 = metricValue(before, 'http_request_duration_seconds_count', labels('200')) ?? 0
    await overHttp(`${PATH}?${signedQuery().toString()}`)
    await overHttp(`${PATH}?${signedQuery().toString()}`)
    await overHttp(`${PATH}?${signedQuery({ signature: 'bad' }).toString()}`)
    const after = await read()
    assert.equal(metricValue(after, 'http_requests_total', labels('200')), ok0 + 2)
    assert.equal(metricValue(after, 'http_requests_total', labels('401')), no0 + 1)
    assert.equal(metricValue(after, 'http_request_duration_seconds_count', labels('200')), h0 + 2)
  })
})

describe("the fast path's answers, written at the end of their turn", () => {
  it('keeps pipelined answers in request order, a Fastify answer between two of its own', async () => {
    const gateway = await startGateway({ appUrl: 'http://127.0.0.1:9' })
    try {
      await gateway.app.listen({ host: '127.0.0.1', port: 0 })
      const { port } = gateway.app.server.address() as AddressInfo
      const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`
      const first = signedQuery({ echostr: 'first-answer' })
      const last = signedQuery({ echostr: 'last-answer' })
      const socket = connect(port, '127.0.0.1')
      let received = ''
      socket.setEncoding('utf8')
      const done = new Promise<void>((resolve, reject) => {
        socket.on('data', (chunk: string) => {
          received += chunk
          if (received.includes('last-answer')) resolve()
        })
        socket.on('error', reject)
      })
      // All three in one packet: the fast path takes the first and last, Fastify the one between.
      socket.write(
        get(`${PATH}?${first.toString()}`) + get('/healthz') + get(`${PATH}?${last.toString()}`),
      )
      await done
      socket.destroy()
      assert.equal(received.match(/HTTP\/1\.1 200 OK/g)?.length, 3)
      const order = ['first-answer', '"ok"', 'last-answer'].map((text) => received.indexOf(text))
      assert.ok(
        order.every((at) => at >= 0),
        received,
      )
      assert.deepEqual(
        [...order].sort((a, b) => a - b),
        order,
      )
    } finally {
      await gateway.close()
    }
  })

  it('closes a kept-alive connection whose answer was still queued when close() began', async () => {
    const gateway = await startGateway({ appUrl: 'http://127.0.0.1:9' })
    const agent = new Agent({ keepAlive: true })
    try {
      await gateway.app.listen({ host: '127.0.0.1', port: 0 })
      const { port } = gateway.app.server.address() as AddressInfo
      let closed: Promise<void> | undefined
      // Runs after the fast path took the request, before its answer is written: close begins then.
      gateway.app.server.on('request', () => {
        closed ??= gateway.app.close()
      })
      const answer = await new Promise<{ status: number; connection: string; body: string }>(
        (resolve, reject) => {
          const req = request(
            { port, host: '127.0.0.1', path: `${PATH}?${signedQuery().toString()}`, agent },
            (res) => {
              let body = ''
              res.setEncoding('utf8')
              res.on('data', (chunk: string) => (body += chunk))
              res.on('end', () =>
                resolve({
                  status: res.statusCode ?? 0,
                  connection: String(res.headers.connection),
                  body,
                }),
              )
            },
          )
          req.on('error', reject)
          req.end()
        },
      )
      assert.deepEqual(answer, { status: 200, connection: 'close', body: ECHO })
      // Without the close header the kept-alive socket holds close() until the client lets go.
      const outcome = await Promise.race([
        closed?.then(() => 'closed'),
        new Promise((resolve) => setTimeout(resolve, 3000, 'still open after 3 s')),
      ])
      assert.equal(outcome, 'closed')
    } finally {
      agent.destroy()
      await gateway.close()
    }
  })
})

describe('installFastPath', () => {
  it('answers what the fast path takes and hands everything else to the original listener', async () => {
    const server = createServer((_req, res) => res.end('framework'))
    installFastPath(server, (req, res) => {
      if (req.url !== '/fast') return false
      res.end('fast')
      return true
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as AddressInfo
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/fast`)).text(), 'fast')
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/other`)).text(), 'framework')
      assert.equal(server.listeners('request').length, 1)
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('refuses a server without exactly one request listener', () => {
    assert.throws(() => installFastPath(createServer(), () => false), /one request listener/)
  })
})
