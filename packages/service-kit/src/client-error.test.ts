// Tests for requests node's HTTP parser refuses: the answer's shape, and nothing of the request in the log.
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { buildService, REQUEST_TIMEOUT_MS } from './build-service.js'
import { clientErrorAnswer } from './client-error.js'
import { createLoggerOptions } from './logger.js'

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJlLXZhbHVl'
const ADMIN_KEY = 'admin-key-that-must-not-be-logged'

/** Sends raw bytes and reads until the server closes the socket. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')))
    socket.end(request)
  })
}

function parseAnswer(raw: string): { status: number; headers: string; body: unknown } {
  const split = raw.indexOf('\r\n\r\n')
  assert.notEqual(split, -1, `no header end in ${JSON.stringify(raw)}`)
  const head = raw.slice(0, split)
  return {
    status: Number(head.split(' ')[1]),
    headers: head.toLowerCase(),
    body: JSON.parse(raw.slice(split + 4)) as unknown,
  }
}

describe('requests the HTTP parser refuses', () => {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'))
      callback()
    },
  })
  // trace: the lowest level LOG_LEVEL accepts, where Fastify's default handler logged the raw request.
  const app = buildService({
    name: 'test',
    logger: pino(createLoggerOptions({ level: 'trace', name: 'test' }), stream),
  })
  app.get('/user', () => ({ ok: true }))
  let port = 0

  before(async () => {
    await app.listen({ port: 0, host: '127.0.0.1' })
    port = (app.server.address() as AddressInfo).port
  })
  after(() => app.close())

  it('answers a malformed header with 400 BAD_REQUEST in the error shape, logging no header', async () => {
    const raw = await rawExchange(
      port,
      `GET /user?code=oauth-code-in-query HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        `X-Admin-Key: ${ADMIN_KEY}\r\nBad Header\r\n\r\n`,
    )
    const answer = parseAnswer(raw)
    assert.equal(answer.status, 400)
    assert.deepEqual(answer.body, { code: 'BAD_REQUEST', message: 'bad request' })
    assert.match(answer.headers, /content-type: application\/json/)
    await new Promise((resolve) => setImmediate(resolve))
    const logged = lines.join('')
    assert.match(logged, /HPE_INVALID_HEADER_TOKEN/, 'the refusal is logged with its code')
    assert.ok(!logged.includes('rawPacket'), 'no raw request bytes in the log')
    for (const secret of [TOKEN, ADMIN_KEY, 'oauth-code-in-query']) {
      assert.ok(!logged.includes(secret), `${secret} reached the log`)
    }
  })

  it('answers headers over the limit with 431 HEADERS_TOO_LARGE', async () => {
    const raw = await rawExchange(
      port,
      `GET /user HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(20_000)}\r\n\r\n`,
    )
    const answer = parseAnswer(raw)
    assert.equal(answer.status, 431)
    assert.deepEqual(answer.body, {
      code: 'HEADERS_TOO_LARGE',
      message: 'request headers are too large',
    })
  })

  it('gives a request 30 s to arrive, where Fastify gives it for ever', () => {
    assert.equal(REQUEST_TIMEOUT_MS, 30_000)
    assert.equal(app.server.requestTimeout, REQUEST_TIMEOUT_MS)
    assert.ok(app.server.headersTimeout <= REQUEST_TIMEOUT_MS)
  })

  it('answers a request that took too long with 408 REQUEST_TIMEOUT and closes', () => {
    const answer = parseAnswer(clientErrorAnswer('ERR_HTTP_REQUEST_TIMEOUT'))
    assert.equal(answer.status, 408)
    assert.deepEqual(answer.body, {
      code: 'REQUEST_TIMEOUT',
      message: 'the request did not arrive in time',
    })
    assert.match(answer.headers, /connection: close/)
  })
})
