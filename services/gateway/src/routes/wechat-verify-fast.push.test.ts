// POST …/verify on the listening server (the fast path) answers exactly as the Fastify route does
// (app.inject), for every way a push can go: both run wechat-push.ts; this proves the carrying.
import { after, before, beforeEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { createLoggerOptions } from '@wxgate/service-kit'
import { computeSignature, parseReply } from '@wxgate/wechat'
import { startFakeApp } from '../testing/fake-app.js'
import type { FakeApp } from '../testing/fake-app.js'
import { metricValue } from '../testing/metrics-text.js'
import { startGateway, TEST } from '../testing/gateway-fixture.js'
import type { TestGateway } from '../testing/gateway-fixture.js'
import { createPushSigner, inboundXml } from '../testing/wechat-push.js'
import type { PushMode } from '../testing/wechat-push.js'

const PATH = '/api/v1/auth/wechat/verify'
const REPLY = 'We will get back to you'
const signer = createPushSigner({
  token: TEST.token,
  appId: TEST.appId,
  encodingAesKey: TEST.aesKey,
})
let createTime = Math.floor(Date.now() / 1000) - 2000
let msgId = 1_000_000

interface Sent {
  url: string
  body: string
  headers: Record<string, string>
}

interface Answer {
  status: number
  contentType: string | undefined
  requestId: string | undefined
  body: string
}

/** A fresh request each time: its own nonce, CreateTime and MsgId, so neither path sees the other's. */
type Make = () => Sent

const text = (mode: PushMode, content = 'hello'): Make => {
  return () => {
    const signed = signer.push(
      inboundXml({
        CreateTime: (createTime += 1),
        MsgType: 'text',
        Content: content,
        MsgId: (msgId += 1),
      }),
      { mode },
    )
    return { url: signed.url, body: signed.body, headers: { 'content-type': 'text/xml' } }
  }
}

/** The same push with its query edited (parameters set, or deleted with undefined). */
const withQuery = (make: Make, edits: Record<string, string | undefined>): Make => {
  return () => {
    const sent = make()
    const [path, search = ''] = sent.url.split('?')
    const query = new URLSearchParams(search)
    for (const [name, value] of Object.entries(edits)) {
      if (value === undefined) query.delete(name)
      else query.set(name, value)
    }
    return { ...sent, url: `${path}?${query}` }
  }
}

function sign(timestamp: string, nonce: string): string {
  return computeSignature([TEST.token, timestamp, nonce])
}

describe('POST …/verify on the listening server (fast path ahead of Fastify)', () => {
  let fake: FakeApp
  let gateway: TestGateway
  let port = 0
  const lines: Record<string, unknown>[] = []

  before(async () => {
    fake = await startFakeApp({ secret: TEST.secret })
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
        }
        callback()
      },
    })
    gateway = await startGateway({
      appUrl: fake.url,
      env: { WECHAT_ENCODING_AES_KEY: TEST.aesKey, GATEWAY_DEFAULT_REPLY_TEXT: REPLY },
      deps: { logger: pino(createLoggerOptions({ level: 'info', name: 'gateway' }), stream) },
    })
    const origin = await gateway.app.listen({ host: '127.0.0.1', port: 0 })
    port = Number(new URL(origin).port)
  })
  after(async () => {
    await gateway.close()
    await fake.close()
  })
  beforeEach(() => {
    fake.onAny({ status: 200, body: {} })
  })

  /**
   * Over a socket, with the body sent as given (a Content-Length, or chunked); `split` sends its two
   * halves 20 ms apart, so the server reads it in two chunks.
   */
  function overHttp(
    sent: Sent,
    options: { chunked?: boolean; split?: boolean } = {},
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const body = Buffer.from(sent.body, 'utf8')
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: sent.url,
          headers: options.chunked
            ? { ...sent.headers, 'transfer-encoding': 'chunked' }
            : { ...sent.headers, 'content-length': String(body.length) },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              contentType: res.headers['content-type'],
              requestId: res.headers['x-request-id'] as string | undefined,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          )
        },
      )
      req.on('error', reject)
      if (options.split !== true) {
        req.end(body)
        return
      }
      const half = Math.floor(body.length / 2)
      req.write(body.subarray(0, half))
      setTimeout(() => req.end(body.subarray(half)), 20)
    })
  }

  async function throughInject(sent: Sent): Promise<Answer> {
    const response = await gateway.app.inject({
      method: 'POST',
      url: sent.url,
      payload: sent.body,
      headers: sent.headers,
    })
    const header = (name: string): string | undefined => {
      const value = response.headers[name]
      return typeof value === 'string' ? value : undefined
    }
    return {
      status: response.statusCode,
      contentType: header('content-type'),
      requestId: header('x-request-id'),
      body: response.body,
    }
  }

  /** What must be equal: the reply's content for a 200 (it is encrypted afresh each time), else all. */
  function comparable(answer: Answer, mode: PushMode | undefined): unknown {
    assert.ok(answer.requestId !== undefined && answer.requestId !== '', 'X-Request-Id is set')
    if (answer.status !== 200 || answer.body === 'success') {
      return { status: answer.status, contentType: answer.contentType, body: answer.body }
    }
    const xml =
      mode === 'plaintext' || mode === undefined
        ? answer.body
        : signer.crypto?.decrypt(
            /<Encrypt><!\[CDATA\[([^\]]+)\]\]><\/Encrypt>/.exec(answer.body)?.[1] ?? '',
          )
    const reply = parseReply(xml ?? '')
    return {
      status: 200,
      contentType: answer.contentType,
      to: reply.toUser,
      content: reply.content,
    }
  }

  async function fastPathPosts(): Promise<number> {
    const metrics = (await gateway.app.inject({ method: 'GET', url: '/metrics' })).body
    return metricValue(metrics, 'gateway_fast_path_requests_total', { method: 'POST' }) ?? 0
  }

  /** POSTs to the WeChat URL answered with `status`, as http_request_duration_seconds counts them. */
  async function timedPosts(status: string): Promise<number> {
    const metrics = (await gateway.app.inject({ method: 'GET', url: '/metrics' })).body
    return (
      metricValue(metrics, 'http_request_duration_seconds_count', {
        method: 'POST',
        route: PATH,
        status,
      }) ?? 0
    )
  }

  /** Sends a push over the socket (which the fast path must answer) and through app.inject. */
  async function expectSame(make: Make, mode?: PushMode): Promise<Answer> {
    const before = await fastPathPosts()
    const fast = await overHttp(make())
    assert.equal((await fastPathPosts()) - before, 1, 'answered by the fast path')
    const reference = await throughInject(make())
    assert.deepEqual(comparable(fast, mode), comparable(reference, mode))
    return fast
  }

  for (const mode of ['plaintext', 'compatible', 'safe'] as const) {
    it(`answers a ${mode} text message with the same reply`, async () => {
      const answer = await expectSame(text(mode), mode)
      assert.equal(answer.status, 200)
      assert.equal((comparable(answer, mode) as { content: string }).content, REPLY)
    })
  }

  it('reads XML under any content type, as the route does (curl -d labels it a form)', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'application/json']) {
      const answer = await expectSame(
        () => ({ ...text('safe')(), headers: { 'content-type': type } }),
        'safe',
      )
      assert.equal(answer.status, 200, `${type}: ${answer.body}`)
    }
  })

  it('reads a push that arrives in two chunks, split inside a character, like one that does not', async () => {
    const before = await fastPathPosts()
    // 3-byte characters after an odd-length prefix: the halves split one of them.
    const make = text('plaintext', `x${'长'.repeat(200)}`)
    const split = await overHttp(make(), { split: true })
    assert.equal((await fastPathPosts()) - before, 1, 'answered by the fast path')
    assert.deepEqual(
      comparable(split, 'plaintext'),
      comparable(await overHttp(make()), 'plaintext'),
    )
    assert.equal(split.status, 200)
  })

  it('answers a follow like the route: app told, welcome text', async () => {
    const follow: Make = () => {
      const signed = signer.push(
        inboundXml({ CreateTime: (createTime += 1), MsgType: 'event', Event: 'subscribe' }),
        { mode: 'safe' },
      )
      return { url: signed.url, body: signed.body, headers: { 'content-type': 'text/xml' } }
    }
    fake.calls.length = 0
    const answer = await expectSame(follow, 'safe')
    assert.equal(answer.status, 200)
    assert.equal(fake.calls.length, 2, 'app heard of both follows')
  })

  const stale = String(Math.floor(Date.now() / 1000) - 3600)
  const refusals: [string, Make, number][] = [
    ['no signature', withQuery(text('safe'), { signature: undefined }), 401],
    ['a wrong signature', withQuery(text('safe'), { signature: 'f'.repeat(40) }), 401],
    ['a timestamp that is not a number', withQuery(text('safe'), { timestamp: '12x' }), 401],
    [
      'a stale timestamp (correctly signed)',
      withQuery(text('safe'), { timestamp: stale, nonce: 'n1', signature: sign(stale, 'n1') }),
      401,
    ],
    [
      'encrypt_type=aes without msg_signature',
      withQuery(text('safe'), { msg_signature: undefined }),
      401,
    ],
    ['a wrong msg_signature', withQuery(text('safe'), { msg_signature: 'a'.repeat(40) }), 401],
    ['an unknown encrypt_type', withQuery(text('safe'), { encrypt_type: 'rsa' }), 400],
    ['an empty content type', () => ({ ...text('safe')(), headers: { 'content-type': '' } }), 415],
    [
      'a content type of parameters only',
      () => ({ ...text('safe')(), headers: { 'content-type': ';charset=utf-8' } }),
      415,
    ],
    ['an empty body', () => ({ ...text('plaintext')(), body: '' }), 400],
    ['a body that is not XML', () => ({ ...text('plaintext')(), body: 'not xml at all' }), 400],
    [
      'an encrypted body that does not decrypt',
      () => {
        const sent = text('safe')()
        return {
          ...sent,
          body: sent.body.replace(/<Encrypt><!\[CDATA\[[^\]]+/, '<Encrypt><![CDATA[AAAA'),
        }
      },
      401,
    ],
  ]
  for (const [what, make, status] of refusals) {
    it(`refuses ${what} with the route's status, body and content type`, async () => {
      const answer = await expectSame(make)
      assert.equal(answer.status, status, answer.body)
      assert.match(answer.body, /^\{"code":"[A-Z_]+","message":"[^"]+"\}$/)
    })
  }

  it('reads a malformed escape in the query as Fastify does: as written, signed as written', async () => {
    // Its own timestamp per request: one signature per request, so no replay claim joins them. Counted
    // down from one reading of the clock: read per request, a second ticking over between two requests
    // could hand both the same timestamp (and the second a replayed query).
    const now = Math.floor(Date.now() / 1000)
    let offset = 0
    for (const nonce of ['%41%zz', '%E4%B8', 'n%zz+1']) {
      const make: Make = () => {
        const timestamp = String(now - (offset += 1))
        const asRead = nonce.replaceAll('+', ' ')
        const xml = inboundXml({
          CreateTime: (createTime += 1),
          MsgType: 'text',
          Content: 'hi',
          MsgId: (msgId += 1),
        })
        return {
          url: `${PATH}?signature=${sign(timestamp, asRead)}&timestamp=${timestamp}&nonce=${nonce}`,
          body: xml,
          headers: { 'content-type': 'text/xml' },
        }
      }
      const answer = await expectSame(make, 'plaintext')
      assert.equal(answer.status, 200, `${nonce}: ${answer.body}`)
    }
  })

  it('takes a plaintext query again with another body, and refuses a stripped safe-mode query, as the route does', async () => {
    const reused = async (send: (sent: Sent) => Promise<Answer>): Promise<number[]> => {
      const first = text('plaintext')()
      const again = { ...first, body: text('plaintext')().body }
      const safe = text('safe')()
      const url = new URL(safe.url, 'http://x')
      url.searchParams.delete('encrypt_type')
      url.searchParams.delete('msg_signature')
      const stripped = { ...safe, url: `${url.pathname}?${url.searchParams}`, body: first.body }
      const statuses: number[] = []
      for (const sent of [first, first, again, safe, stripped])
        statuses.push((await send(sent)).status)
      return statuses
    }
    assert.deepEqual(await reused(overHttp), [200, 200, 200, 200, 401])
    assert.deepEqual(await reused(throughInject), [200, 200, 200, 200, 401])
  })

  it('leaves bodies WeChat never sends to Fastify: too large (413) and chunked', async () => {
    const before = await fastPathPosts()
    const large = { ...text('plaintext')(), body: `<xml>${'x'.repeat(70 * 1024)}</xml>` }
    assert.equal((await overHttp(large)).status, 413)
    const chunked = await overHttp(text('safe')(), { chunked: true })
    assert.equal(chunked.status, 200)
    assert.equal((comparable(chunked, 'safe') as { content: string }).content, REPLY)
    assert.equal(await fastPathPosts(), before, "both were Fastify's")
  })

  it('echoes a caller X-Request-Id, logs the refusal with it, and counts the request under the route', async () => {
    const before = await timedPosts('401')
    const sent = withQuery(text('safe'), { signature: 'f'.repeat(40) })()
    const answer = await overHttp({
      ...sent,
      headers: { ...sent.headers, 'x-request-id': 'req-fast-1' },
    })
    assert.equal(answer.status, 401)
    assert.equal(answer.requestId, 'req-fast-1')
    assert.equal((await timedPosts('401')) - before, 1)
    const logged = lines.filter((line) => line.reqId === 'req-fast-1')
    assert.deepEqual(
      logged.map((line) => line.msg),
      ['incoming request', 'wechat push refused', 'request refused', 'request completed'],
    )
    assert.equal(logged[1]?.code, 'SIGNATURE_MISMATCH')
  })

  it('logs a push whose client leaves mid-body as the route does: refused with 400, not timed', async () => {
    /** Sends the head and part of the body on a raw socket, then closes it; returns the log lines. */
    const abandon = async (requestId: string, chunked: boolean): Promise<unknown[]> => {
      const sent = text('safe')()
      const part = sent.body.slice(0, 40)
      const framing = chunked
        ? `transfer-encoding: chunked\r\n\r\n${part.length.toString(16)}\r\n${part}\r\n`
        : `content-length: ${Buffer.byteLength(sent.body)}\r\n\r\n${part}`
      const socket = connect(port, '127.0.0.1')
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve).once('error', reject)
      })
      socket.write(
        `POST ${sent.url} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: text/xml\r\n` +
          `x-request-id: ${requestId}\r\n${framing}`,
      )
      await sleep(30)
      socket.destroy()
      const mine = (): Record<string, unknown>[] => lines.filter((l) => l.reqId === requestId)
      // Nothing answers, so nothing to wait for but the refusal's line (or a second without it).
      for (let waited = 0; waited < 1000 && !mine().some((l) => l.msg === 'request refused');) {
        await sleep(10)
        waited += 10
      }
      await sleep(50) // and any line that would follow it
      return mine().map(({ msg, code, statusCode, error }) => ({ msg, code, statusCode, error }))
    }
    const [postsBefore, timedBefore] = [await fastPathPosts(), await timedPosts('400')]
    const fast = await abandon('req-abandoned-fast', false)
    assert.equal((await fastPathPosts()) - postsBefore, 1, 'the fast path took the first')
    const reference = await abandon('req-abandoned-fastify', true)
    assert.equal((await fastPathPosts()) - postsBefore, 1, 'Fastify took the chunked one')
    assert.deepEqual(fast, reference)
    assert.deepEqual(fast, [
      { msg: 'incoming request', code: undefined, statusCode: undefined, error: undefined },
      { msg: 'request refused', code: 'BAD_REQUEST', statusCode: 400, error: 'aborted' },
    ])
    // No answer was written, so neither path times one.
    assert.equal(await timedPosts('400'), timedBefore)
  })
})
