import { after, afterEach, before, beforeEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createDecipheriv, createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import type { FastifyInstance } from 'fastify'
import { closedPort } from '@wxgate/service-kit/testing'
import {
  buildXml,
  computeSignature,
  createMessageCrypto,
  parseReply,
  parseXml,
} from '@wxgate/wechat'
import type { XmlValue } from '@wxgate/wechat'
import { startFakeApp } from '../testing/fake-app.js'
import { metricValue } from '../testing/metrics-text.js'
import type { FakeApp } from '../testing/fake-app.js'
import { startGateway, TEST } from '../testing/gateway-fixture.js'
import type { TestGateway } from '../testing/gateway-fixture.js'
import { createPushSigner, inboundXml } from '../testing/wechat-push.js'
import type { PushMode } from '../testing/wechat-push.js'

const WECHAT_PATH = '/api/v1/auth/wechat/verify'
const USER = '/api/v1/internal/user/create-or-update'
const UPDATE = '/api/v1/internal/binding/update'
const CREATE = '/api/v1/internal/binding/create'
const WELCOME = 'Welcome aboard'
const LOGIN = 'You are logged in'
const env = {
  WECHAT_ENCODING_AES_KEY: TEST.aesKey,
  GATEWAY_WELCOME_TEXT: WELCOME,
  GATEWAY_LOGIN_SUCCESS_TEXT: LOGIN,
}
const signer = createPushSigner({
  token: TEST.token,
  appId: TEST.appId,
  encodingAesKey: TEST.aesKey,
})
const nowS = (): number => Math.floor(Date.now() / 1000)
let createTime = nowS() - 1000
/** Every event gets its own CreateTime so that dedupe never joins two tests' events. */
const nextTime = (): number => (createTime += 1)

/** An independent reading of a safe-mode reply (node:crypto only), so a symmetric bug in the library shows. */
function leaf(value: XmlValue | undefined): string {
  assert.equal(typeof value, 'string')
  return value as string
}

function openReplyIndependently(xml: string): string {
  const fields = parseXml(xml)
  const encrypt = leaf(fields.Encrypt)
  const expected = createHash('sha1')
    .update([TEST.token, leaf(fields.TimeStamp), leaf(fields.Nonce), encrypt].sort().join(''))
    .digest('hex')
  assert.equal(fields.MsgSignature, expected, 'MsgSignature verifies')
  const key = Buffer.from(`${TEST.aesKey}=`, 'base64')
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false)
  const plain = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()])
  const pad = plain[plain.length - 1] ?? 0
  assert.ok(pad >= 1 && pad <= 32)
  const body = plain.subarray(0, plain.length - pad)
  const length = body.readUInt32BE(16)
  assert.equal(body.subarray(20 + length).toString('utf8'), TEST.appId, 'reply carries our appid')
  return body.subarray(20, 20 + length).toString('utf8')
}

async function push(
  app: FastifyInstance,
  fields: Record<string, string | number>,
  mode: PushMode = 'plaintext',
  headers: Record<string, string> = { 'content-type': 'text/xml' },
) {
  const signed = signer.push(inboundXml({ CreateTime: nextTime(), ...fields }), { mode })
  const started = Date.now()
  const response = await app.inject({
    method: 'POST',
    url: signed.url,
    payload: signed.body,
    headers,
  })
  return { response, ms: Date.now() - started, signed }
}

/** The reply's text content, after decrypting (compatible/safe) and checking it like WeChat does. */
function replyText(body: string, mode: PushMode): string | undefined {
  if (body === 'success') return undefined
  const xml = mode === 'plaintext' ? body : openReplyIndependently(body)
  const reply = parseReply(xml)
  assert.equal(reply.toUser, 'o-user-1')
  assert.equal(reply.fromUser, 'gh_test')
  return reply.content
}

describe('POST /api/v1/auth/wechat/verify', () => {
  let fake: FakeApp
  let gateway: TestGateway
  before(async () => {
    fake = await startFakeApp({ secret: TEST.secret })
    gateway = await startGateway({ appUrl: fake.url, env })
  })
  after(async () => {
    await gateway.close()
    await fake.close()
  })
  beforeEach(() => {
    fake.calls.length = 0
    fake.onAny({ status: 200, body: {} })
    fake.on(USER, { status: 200, body: {} })
    fake.on(UPDATE, { status: 200, body: {} })
    fake.on(CREATE, { status: 200, body: {} })
  })

  for (const mode of ['plaintext', 'compatible', 'safe'] as const) {
    describe(`in ${mode} mode`, () => {
      it('welcomes a follow after telling app the user subscribed', async () => {
        const { response } = await push(gateway.app, { MsgType: 'event', Event: 'subscribe' }, mode)
        assert.equal(response.statusCode, 200)
        assert.equal(replyText(response.body, mode), WELCOME)
        assert.deepEqual(
          fake.calls.map((c) => [
            c.path,
            (c.body as { subscribed?: boolean }).subscribed,
            c.signed,
          ]),
          [[USER, true, true]],
        )
      })

      it('answers a follow through a login QR code with the login-success text and binds the scene', async () => {
        const { response } = await push(
          gateway.app,
          { MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_login-1', Ticket: 't' },
          mode,
        )
        assert.equal(replyText(response.body, mode), LOGIN)
        assert.deepEqual(
          fake.calls.map((c) => c.path),
          [USER, UPDATE],
        )
        assert.deepEqual(
          (fake.calls[1]?.body as { scene_str: string; event: string }).scene_str,
          'login-1',
        )
        assert.equal((fake.calls[1]?.body as { event: string }).event, 'subscribe')
      })

      it('answers a scan with the login-success text and binds the scene', async () => {
        const { response } = await push(
          gateway.app,
          { MsgType: 'event', Event: 'SCAN', EventKey: 'login-2', Ticket: 't' },
          mode,
        )
        assert.equal(replyText(response.body, mode), LOGIN)
        assert.deepEqual(
          fake.calls.map((c) => c.path),
          [USER, UPDATE],
        )
        assert.equal((fake.calls[1]?.body as { event: string }).event, 'SCAN')
      })

      it('answers `success` to an unfollow after telling app', async () => {
        const { response } = await push(
          gateway.app,
          { MsgType: 'event', Event: 'unsubscribe' },
          mode,
        )
        assert.equal(response.statusCode, 200)
        assert.equal(response.body, 'success')
        assert.deepEqual(
          fake.calls.map((c) => [c.path, (c.body as { subscribed: boolean }).subscribed]),
          [[USER, false]],
        )
      })

      it('answers `success` to texts, menu events and unknown kinds without calling app', async () => {
        const kinds: Record<string, string>[] = [
          { MsgType: 'text', Content: 'hello', MsgId: `${nextTime()}000` },
          { MsgType: 'event', Event: 'CLICK', EventKey: 'menu-1' },
          { MsgType: 'event', Event: 'VIEW', EventKey: 'https://example.com/' },
          { MsgType: 'event', Event: 'LOCATION', Latitude: '1', Longitude: '2', Precision: '3' },
          {
            MsgType: 'image',
            PicUrl: 'https://example.com/a.png',
            MediaId: 'm',
            MsgId: `${nextTime()}001`,
          },
        ]
        for (const fields of kinds) {
          const { response } = await push(gateway.app, fields, mode)
          assert.equal(response.statusCode, 200, JSON.stringify(fields))
          assert.equal(response.body, 'success')
        }
        assert.equal(fake.calls.length, 0)
      })

      it('answers `success` to events that carry lists (an element repeated below the root)', async () => {
        // Shapes from WeChat's documentation: a mass send of two articles, a menu photo event of two pictures.
        const lists = [
          '<Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>1000001625</MsgID>' +
            '<Status><![CDATA[send success]]></Status><CopyrightCheckResult><Count>2</Count>' +
            '<ResultList><item><ArticleIdx>1</ArticleIdx></item><item><ArticleIdx>2</ArticleIdx></item>' +
            '</ResultList><CheckState>2</CheckState></CopyrightCheckResult>',
          '<Event><![CDATA[pic_photo_or_album]]></Event><EventKey><![CDATA[6]]></EventKey>' +
            '<SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum><![CDATA[a]]></PicMd5Sum></item>' +
            '<item><PicMd5Sum><![CDATA[b]]></PicMd5Sum></item></PicList></SendPicsInfo>',
        ]
        for (const body of lists) {
          const xml =
            '<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[o-user-1]]>' +
            `</FromUserName><CreateTime>${nextTime()}</CreateTime><MsgType><![CDATA[event]]></MsgType>` +
            `${body}</xml>`
          const signed = signer.push(xml, { mode })
          const response = await gateway.app.inject({
            method: 'POST',
            url: signed.url,
            payload: signed.body,
            headers: { 'content-type': 'text/xml' },
          })
          assert.equal(response.statusCode, 200, response.body)
          assert.equal(response.body, 'success')
        }
        assert.equal(fake.calls.length, 0)
      })
    })
  }

  it('records a scan of a QR code app does not know as a new binding, and welcomes the follow', async () => {
    fake.on(UPDATE, { status: 404, body: { code: 'SCENE_NOT_FOUND', message: 'unknown' } })
    const { response } = await push(gateway.app, {
      MsgType: 'event',
      Event: 'subscribe',
      EventKey: 'qrscene_channel-7',
    })
    assert.equal(replyText(response.body, 'plaintext'), WELCOME)
    assert.deepEqual(
      fake.calls.map((c) => c.path),
      [USER, UPDATE, CREATE],
    )
    assert.deepEqual(fake.calls[2]?.body, fake.calls[1]?.body)
  })

  it('has one effect for WeChat retries of one message, in every mode', async () => {
    const fields = {
      MsgType: 'event',
      Event: 'subscribe',
      CreateTime: nextTime(),
      FromUserName: 'o-user-1',
    }
    const xml = inboundXml(fields)
    for (const mode of ['plaintext', 'safe', 'compatible'] as const) {
      const signed = signer.push(xml, { mode })
      const response = await gateway.app.inject({
        method: 'POST',
        url: signed.url,
        payload: signed.body,
      })
      assert.equal(response.statusCode, 200)
      assert.equal(replyText(response.body, mode), WELCOME, 'every retry still gets its reply')
    }
    assert.equal(fake.callsTo(USER).length, 1)
  })

  it('passes the request id from WeChat through to app', async () => {
    const { response } = await push(
      gateway.app,
      { MsgType: 'event', Event: 'subscribe' },
      'plaintext',
      {
        'content-type': 'text/xml',
        'x-request-id': 'wechat-req-123',
      },
    )
    assert.equal(response.statusCode, 200)
    assert.equal(fake.calls[0]?.headers['x-request-id'], 'wechat-req-123')
  })

  it('accepts the content types WeChat uses, with or without a charset, and none at all', async () => {
    for (const type of [
      'text/xml',
      'application/xml',
      'text/plain',
      'text/xml; charset=utf-8',
      undefined,
    ]) {
      const signed = signer.push(
        inboundXml({ MsgType: 'text', Content: 'x', MsgId: `${nextTime()}` }),
      )
      const response = await gateway.app.inject({
        method: 'POST',
        url: signed.url,
        payload: signed.body,
        headers: type === undefined ? {} : { 'content-type': type },
      })
      assert.equal(response.statusCode, 200, String(type))
    }
  })
})

describe('POST /api/v1/auth/wechat/verify when app misbehaves', () => {
  let fake: FakeApp
  let gateway: TestGateway
  before(async () => {
    fake = await startFakeApp({ secret: TEST.secret })
  })
  after(async () => {
    await fake.close()
  })
  afterEach(async () => {
    await gateway.close()
  })
  beforeEach(async () => {
    fake.reset()
    gateway = await startGateway({
      appUrl: fake.url,
      env,
      deps: { pushDeadlineMs: 300, spoolBackoff: { initialMs: 20, maxMs: 40 } },
    })
  })

  it('answers within the deadline when app is slow, and delivers the event later', async () => {
    let slow = true
    fake.on(USER, () => (slow ? { status: 200, delayMs: 3000 } : { status: 200 }))
    const { response, ms } = await push(gateway.app, { MsgType: 'event', Event: 'subscribe' })
    assert.equal(replyText(response.body, 'plaintext'), WELCOME)
    assert.ok(ms < 1500, `answered in ${ms} ms`)
    slow = false
    await fake.waitFor(USER, 2)
  })

  it('keeps events while app answers 500 and delivers them in order per user once it recovers', async () => {
    let failing = true
    fake.on(USER, () => (failing ? { status: 500 } : { status: 200 }))
    const events = [
      { FromUserName: 'o-user-1', Event: 'subscribe' },
      { FromUserName: 'o-user-1', Event: 'unsubscribe' },
      { FromUserName: 'o-user-2', Event: 'subscribe' },
      { FromUserName: 'o-user-1', Event: 'subscribe' },
    ]
    for (const e of events) {
      const { response } = await push(gateway.app, { MsgType: 'event', ...e })
      assert.equal(response.statusCode, 200)
    }
    const metrics = await gateway.app.inject({ method: 'GET', url: '/metrics' })
    assert.equal(metricValue(metrics.body, 'gateway_spool_depth', {}), 4)
    failing = false
    const deliveredAt = fake.calls.length
    await fake.waitFor(USER, deliveredAt + 4)
    const delivered = fake.calls
      .slice(deliveredAt)
      .map((c) => c.body as { openid: string; subscribed: boolean; event_time: number })
    const user1 = delivered.filter((b) => b.openid === 'o-user-1')
    assert.deepEqual(
      user1.map((b) => b.subscribed),
      [true, false, true],
    )
    assert.ok(user1.every((b, i) => i === 0 || b.event_time > (user1[i - 1]?.event_time ?? 0)))
    await waitForEmptySpool(gateway)
  })

  it('spools the event when app is down and still replies', async () => {
    fake.on(USER, 'reset')
    const { response, ms } = await push(
      gateway.app,
      { MsgType: 'event', Event: 'subscribe' },
      'safe',
    )
    assert.equal(response.statusCode, 200)
    assert.equal(replyText(response.body, 'safe'), WELCOME)
    assert.ok(ms < 1500)
    assert.ok(
      (await readdir(gateway.spoolDir)).some((f) => f.endsWith('.json')),
      'on disk',
    )
  })

  it('drops an event app refuses for good (410 for the binding) and does not retry it', async () => {
    fake.on(UPDATE, { status: 410, body: { code: 'SCENE_EXPIRED' } })
    const { response } = await push(gateway.app, {
      MsgType: 'event',
      Event: 'SCAN',
      EventKey: 'old',
    })
    assert.equal(response.statusCode, 200)
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(fake.callsTo(UPDATE).length, 1)
    assert.equal(fake.callsTo(CREATE).length, 0)
    assert.deepEqual(await readdir(gateway.spoolDir), [])
  })
})

async function waitForEmptySpool(gateway: TestGateway): Promise<void> {
  // A deadline in time, not in polls: each readdir is slower on a loaded CI machine.
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const files = (await readdir(gateway.spoolDir)).filter((f) => f.endsWith('.json'))
    if (files.length === 0) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  assert.fail('spool did not drain')
}

describe('the spool across a gateway restart', () => {
  it('delivers what a stopped gateway kept, in order per user, from a new gateway on the same directory', async () => {
    const fake = await startFakeApp({ secret: TEST.secret })
    fake.onAny('reset')
    const first = await startGateway({ appUrl: fake.url, env, deps: { pushDeadlineMs: 300 } })
    const spoolDir = first.spoolDir
    const sent: { openid: string; subscribed: boolean }[] = []
    for (const [openid, event] of [
      ['o-a', 'subscribe'],
      ['o-b', 'subscribe'],
      ['o-a', 'unsubscribe'],
      ['o-a', 'subscribe'],
      ['o-b', 'unsubscribe'],
    ] as const) {
      const { response } = await push(first.app, {
        MsgType: 'event',
        Event: event,
        FromUserName: openid,
      })
      assert.equal(response.statusCode, 200)
      sent.push({ openid, subscribed: event === 'subscribe' })
    }
    await first.app.close()
    assert.equal((await readdir(spoolDir)).filter((f) => f.endsWith('.json')).length, 5)

    fake.calls.length = 0
    fake.onAny({ status: 200 })
    const second = await startGateway({ appUrl: fake.url, env, spoolDir })
    try {
      await fake.waitFor(USER, 5)
      const got = fake.calls.map((c) => c.body as { openid: string; subscribed: boolean })
      for (const openid of ['o-a', 'o-b']) {
        assert.deepEqual(
          got.filter((b) => b.openid === openid).map((b) => b.subscribed),
          sent.filter((b) => b.openid === openid).map((b) => b.subscribed),
        )
      }
      assert.ok(fake.calls.every((c) => c.signed))
      await waitForEmptySpool(second)
    } finally {
      await second.close()
      await first.close()
      await fake.close()
    }
  })
})

describe('the age limit of a push', () => {
  it('counts whole seconds: exactly WECHAT_PUSH_MAX_AGE_S off is accepted, one more is not', async () => {
    const fake = await startFakeApp({ secret: TEST.secret })
    // Late in a second, where a fractional clock would make a 300 s old timestamp 300.999 s old.
    const nowS = 1_900_000_000
    const edgy = await startGateway({ appUrl: fake.url, deps: { now: () => nowS * 1000 + 999 } })
    try {
      const statusAt = async (offset: number): Promise<number> => {
        const signed = signer.push(
          inboundXml({ MsgType: 'event', Event: 'subscribe', CreateTime: nowS + offset }),
          { timestampS: nowS + offset },
        )
        const response = await edgy.app.inject({
          method: 'POST',
          url: signed.url,
          payload: signed.body,
          headers: { 'content-type': 'text/xml' },
        })
        return response.statusCode
      }
      assert.deepEqual(
        [await statusAt(-300), await statusAt(300), await statusAt(-301), await statusAt(301)],
        [200, 200, 401, 401],
      )
    } finally {
      await edgy.close()
      await fake.close()
    }
  })
})

describe('refusing pushes', () => {
  let fake: FakeApp
  let gateway: TestGateway
  let plainOnly: TestGateway
  before(async () => {
    fake = await startFakeApp({ secret: TEST.secret })
    gateway = await startGateway({ appUrl: fake.url, env })
    plainOnly = await startGateway({ appUrl: fake.url })
  })
  after(async () => {
    await plainOnly.close()
    await gateway.close()
    await fake.close()
  })
  beforeEach(() => {
    fake.calls.length = 0
  })
  const follow = () => inboundXml({ MsgType: 'event', Event: 'subscribe', CreateTime: nextTime() })

  async function send(
    url: string,
    payload: string,
    headers: Record<string, string> = {},
    app = gateway.app,
  ) {
    const started = Date.now()
    const response = await app.inject({ method: 'POST', url, payload, headers })
    assert.ok(Date.now() - started < 1000, 'answered fast')
    return response
  }

  it('refuses a wrong signature with a 401 that does not say what was wrong', async () => {
    const signed = signer.push(follow())
    const response = await send(
      signed.url.replace(/signature=[0-9a-f]{40}/, `signature=${'0'.repeat(40)}`),
      signed.body,
    )
    assert.equal(response.statusCode, 401)
    assert.equal(response.json<{ code: string }>().code, 'SIGNATURE_INVALID')
    const stale = signer.push(follow(), { timestampS: nowS() - 301 })
    const staleResponse = await send(stale.url, stale.body)
    assert.equal(staleResponse.statusCode, 401)
    assert.deepEqual(
      staleResponse.json(),
      response.json(),
      'the same answer for every failed check',
    )
    assert.equal(fake.calls.length, 0)
  })

  it('refuses pushes whose timestamp is too far in the past or the future, and accepts the edge', async () => {
    for (const offset of [-301, 301, -86_400]) {
      const signed = signer.push(follow(), { timestampS: nowS() + offset })
      assert.equal((await send(signed.url, signed.body)).statusCode, 401, String(offset))
    }
    const edge = signer.push(follow(), { timestampS: nowS() - 295 })
    assert.equal((await send(edge.url, edge.body)).statusCode, 200)
  })

  it('refuses a push with missing or repeated query parameters', async () => {
    const signed = signer.push(follow())
    const url = new URL(signed.url, 'http://x')
    for (const name of ['signature', 'timestamp', 'nonce']) {
      const q = new URLSearchParams(url.search)
      q.delete(name)
      assert.equal((await send(`${url.pathname}?${q}`, signed.body)).statusCode, 401, name)
    }
    const q = new URLSearchParams(url.search)
    q.append('signature', 'other')
    assert.equal((await send(`${url.pathname}?${q}`, signed.body)).statusCode, 401)
  })

  it('takes two plaintext pushes under one query, but not a safe-mode query stripped to plaintext', async () => {
    // A sender with a fixed nonce, twice within a second: the same query, two messages.
    const signed = signer.push(follow())
    assert.equal((await send(signed.url, signed.body)).statusCode, 200)
    const second = inboundXml({ MsgType: 'event', Event: 'unsubscribe', CreateTime: nextTime() })
    assert.equal((await send(signed.url, second)).statusCode, 200)
    const retried = await send(signed.url, signed.body)
    assert.equal(retried.statusCode, 200, 'an identical plaintext retry is fine')
    assert.deepEqual(
      fake.calls.map((c) => (c.body as { subscribed: boolean }).subscribed),
      [true, false],
      'each message once',
    )
    const safe = signer.push(follow(), { mode: 'safe' })
    assert.equal((await send(safe.url, safe.body)).statusCode, 200)
    assert.equal((await send(safe.url, safe.body)).statusCode, 200, 'an identical retry is fine')
    const query = new URL(safe.url, 'http://x').searchParams
    query.delete('encrypt_type')
    query.delete('msg_signature')
    const forged = inboundXml({ MsgType: 'event', Event: 'unsubscribe', CreateTime: nextTime() })
    const downgraded = await send(`${WECHAT_PATH}?${query}`, forged)
    assert.equal(downgraded.statusCode, 401, 'a safe-mode query stripped to plaintext')
    assert.equal(fake.calls.length, 3, 'the forged unsubscribe had no effect')
    assert.equal((fake.calls[2]?.body as { subscribed: boolean }).subscribed, true)
  })

  it('with Redis away: still refuses a stripped query it saw, and answers 503 to a plaintext push it cannot check', async () => {
    const withoutRedis = await startGateway({
      appUrl: fake.url,
      env: { ...env, REDIS_URL: `redis://127.0.0.1:${await closedPort()}/0` },
    })
    try {
      const safe = signer.push(follow(), { mode: 'safe' })
      const taken = await send(safe.url, safe.body, {}, withoutRedis.app)
      assert.equal(taken.statusCode, 200, 'pushes are processed without Redis')
      const query = new URL(safe.url, 'http://x').searchParams
      query.delete('encrypt_type')
      query.delete('msg_signature')
      const forged = inboundXml({ MsgType: 'event', Event: 'unsubscribe', CreateTime: nextTime() })
      const downgraded = await send(`${WECHAT_PATH}?${query}`, forged, {}, withoutRedis.app)
      assert.equal(downgraded.statusCode, 401, 'this gateway saw the query')
      // Another gateway's query cannot be checked: WeChat never sends plaintext alone to an
      // account that encrypts, and retries a 503.
      const plain = signer.push(follow())
      const unchecked = await send(plain.url, plain.body, {}, withoutRedis.app)
      assert.equal(unchecked.statusCode, 503)
      assert.equal(unchecked.json<{ code: string }>().code, 'PUSH_CHECK_UNAVAILABLE')
      assert.equal(fake.calls.length, 1, 'only the encrypted push reached app')
    } finally {
      await withoutRedis.close()
    }
  })

  it('refuses every plaintext push with WECHAT_PUSH_ENCRYPTED_ONLY, taking compatible and safe mode', async () => {
    const encryptedOnly = await startGateway({
      appUrl: fake.url,
      env: { ...env, WECHAT_PUSH_ENCRYPTED_ONLY: 'true' },
    })
    try {
      // A captured query with a body of the sender's choosing: what plaintext mode cannot tell from WeChat.
      const plain = signer.push(follow())
      const refused = await send(plain.url, plain.body, {}, encryptedOnly.app)
      assert.equal(refused.statusCode, 401)
      assert.equal(refused.json<{ code: string }>().code, 'SIGNATURE_INVALID')
      assert.equal(fake.calls.length, 0)
      for (const mode of ['compatible', 'safe'] as const) {
        const signed = signer.push(follow(), { mode })
        const taken = await send(signed.url, signed.body, {}, encryptedOnly.app)
        assert.equal(taken.statusCode, 200, `${mode}: ${taken.body}`)
      }
      assert.equal(fake.calls.length, 2)
      // Without the setting the same plaintext push is taken: plaintext mode keeps working by default.
      assert.equal((await send(plain.url, plain.body)).statusCode, 200)
    } finally {
      await encryptedOnly.close()
    }
  })

  it('refuses a safe-mode push whose msg_signature does not cover its Encrypt', async () => {
    const signed = signer.push(follow(), { mode: 'safe' })
    const other = signer.push(follow(), { mode: 'safe' })
    const url = signed.url.replace(/msg_signature=[0-9a-f]+/, 'msg_signature=' + '1'.repeat(40))
    assert.equal((await send(url, signed.body)).statusCode, 401)
    // A genuine envelope under another push's signatures: replayed with a fresh query.
    assert.equal((await send(signed.url, other.body)).statusCode, 401)
    const missing = signed.url.replace(/&msg_signature=[0-9a-f]+/, '')
    assert.equal((await send(missing, signed.body)).statusCode, 401)
    assert.equal(fake.calls.length, 0)
  })

  it('refuses a correctly signed envelope encrypted for another appid', async () => {
    const foreign = createMessageCrypto({
      token: TEST.token,
      encodingAesKey: TEST.aesKey,
      appId: 'wxotherappid00000',
    })
    const timestamp = String(nowS())
    const nonce = 'n0nce'
    const encrypt = foreign.encrypt(follow())
    const query = new URLSearchParams({
      signature: computeSignature([TEST.token, timestamp, nonce]),
      timestamp,
      nonce,
      encrypt_type: 'aes',
      msg_signature: foreign.msgSignature(timestamp, nonce, encrypt),
    })
    const response = await send(
      `/api/v1/auth/wechat/verify?${query}`,
      buildXml({ ToUserName: 'gh_test', Encrypt: encrypt }),
    )
    assert.equal(response.statusCode, 401)
    assert.equal(response.json<{ code: string }>().code, 'SIGNATURE_INVALID')
    assert.equal(fake.calls.length, 0)
  })

  it('refuses a tampered ciphertext', async () => {
    const signed = signer.push(follow(), { mode: 'safe' })
    const encrypt = leaf(parseXml(signed.body).Encrypt)
    const flipped = `${encrypt.slice(0, 10)}${encrypt[10] === 'A' ? 'B' : 'A'}${encrypt.slice(11)}`
    const timestamp = signed.timestamp
    const query = new URLSearchParams({
      signature: computeSignature([TEST.token, timestamp, signed.nonce]),
      timestamp,
      nonce: signed.nonce,
      encrypt_type: 'aes',
      msg_signature: computeSignature([TEST.token, timestamp, signed.nonce, flipped]),
    })
    const response = await send(
      `/api/v1/auth/wechat/verify?${query}`,
      buildXml({ Encrypt: flipped }),
    )
    assert.ok([400, 401].includes(response.statusCode), String(response.statusCode))
    assert.equal(fake.calls.length, 0)
  })

  it('refuses encrypted pushes when no EncodingAESKey is configured', async () => {
    const signed = signer.push(follow(), { mode: 'safe' })
    const response = await send(signed.url, signed.body, {}, plainOnly.app)
    assert.equal(response.statusCode, 400)
  })

  it('never expands entities: XXE and billion laughs are malformed XML', async () => {
    const xxe =
      '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
      '<xml><ToUserName>gh</ToUserName><FromUserName>&xxe;</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>'
    const lol =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><Content>&lol3;</Content></xml>'
    for (const body of [xxe, lol]) {
      const signed = signer.push(body)
      const response = await send(signed.url, signed.body, { 'content-type': 'text/xml' })
      assert.equal(response.statusCode, 400)
      assert.ok(!response.body.includes('root:'), 'nothing from the file system')
      const safe = signer.push(body, { mode: 'safe' })
      assert.equal((await send(safe.url, safe.body)).statusCode, 400, 'also inside an envelope')
    }
  })

  it('refuses deep nesting, non-XML and messages missing their fields with 400', async () => {
    const deep = `<xml>${'<a>'.repeat(2000)}x${'</a>'.repeat(2000)}</xml>`
    const bodies = [
      deep,
      'this is not xml',
      '{"ToUserName":"gh"}',
      '<xml><ToUserName>gh</ToUserName>',
      '<xml><ToUserName>gh</ToUserName><MsgType>text</MsgType></xml>',
      '<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>soon</CreateTime><MsgType>event</MsgType></xml>',
    ]
    for (const body of bodies) {
      const signed = signer.push(body)
      const response = await send(signed.url, signed.body, { 'content-type': 'text/xml' })
      assert.equal(response.statusCode, 400, body.slice(0, 40))
      assert.equal(response.json<{ code: string }>().code, 'MESSAGE_INVALID')
    }
    const empty = signer.push('')
    assert.equal((await send(empty.url, '', { 'content-type': 'text/xml' })).statusCode, 400)
  })

  it('refuses a body over 64 KiB with 413; judges the body, not its content type', async () => {
    const big = `<xml><Content>${'a'.repeat(1024 * 1024)}</Content></xml>`
    const signed = signer.push(big)
    const response = await send(signed.url, signed.body, { 'content-type': 'text/xml' })
    assert.equal(response.statusCode, 413)
    const json = signer.push(follow())
    const refused = await send(json.url, '{"a":1}', { 'content-type': 'application/json' })
    assert.equal(refused.statusCode, 400)
    assert.equal(refused.json<{ code: string }>().code, 'MESSAGE_INVALID')
    // What `curl -d` sends: XML labelled as a form is still XML.
    const form = signer.push(follow())
    const type = 'application/x-www-form-urlencoded'
    assert.equal((await send(form.url, form.body, { 'content-type': type })).statusCode, 200)
    const untyped = signer.push(follow())
    assert.equal((await send(untyped.url, untyped.body, { 'content-type': '' })).statusCode, 415)
  })

  it('checks the signature before the body: an unsigned 1 MiB body gets 401', async () => {
    const response = await send(
      '/api/v1/auth/wechat/verify?signature=x&timestamp=1&nonce=2',
      'a'.repeat(1024 * 1024),
    )
    assert.equal(response.statusCode, 401)
  })

  it('keeps serving after the hostile set', async () => {
    const signed = signer.push(
      inboundXml({ MsgType: 'event', Event: 'subscribe', CreateTime: nextTime() }),
    )
    const response = await send(signed.url, signed.body)
    assert.equal(response.statusCode, 200)
    const metrics = await gateway.app.inject({ method: 'GET', url: '/metrics' })
    const count = (name: string, labels: Record<string, string>) =>
      metricValue(metrics.body, name, labels) ?? 0
    assert.ok(count('wechat_events_total', { type: 'invalid', outcome: 'rejected' }) >= 10)
    assert.ok(count('wechat_events_total', { type: 'subscribe', outcome: 'delivered' }) >= 1)
    assert.ok(
      count('app_call_duration_seconds_count', { call: 'user/create-or-update', status: '2xx' }) >=
        1,
    )
  })
})

describe('a published safe-mode vector through the gateway', () => {
  it('decrypts the generated inbound text vector and answers with an encrypted reply', async () => {
    const file = new URL(
      '../../../../../shared/wechat-protocol/vectors/generated_mp.json',
      import.meta.url,
    )
    const vectors = JSON.parse(readFileSync(file, 'utf8')) as {
      vectors: { id: string; inputs: Record<string, unknown> }[]
    }
    const vector = vectors.vectors.find((v) => v.id === 'mp_decrypt_generated_xml_inbound_text')
    assert.ok(vector)
    const inputs = vector.inputs as {
      token: string
      encoding_aes_key: string
      receive_id: string
      query: Record<string, string>
      envelope: string
    }
    const fake = await startFakeApp({ secret: TEST.secret })
    const gateway = await startGateway({
      appUrl: fake.url,
      env: {
        WECHAT_TOKEN: inputs.token,
        WECHAT_APPID: inputs.receive_id,
        WECHAT_ENCODING_AES_KEY: inputs.encoding_aes_key,
        GATEWAY_DEFAULT_REPLY_TEXT: 'got it',
      },
      deps: { now: () => Number(inputs.query.timestamp) * 1000 },
    })
    try {
      const response = await gateway.app.inject({
        method: 'POST',
        url: `/api/v1/auth/wechat/verify?${new URLSearchParams(inputs.query)}`,
        payload: inputs.envelope,
        headers: { 'content-type': 'text/xml' },
      })
      assert.equal(response.statusCode, 200)
      const crypto = createMessageCrypto({
        token: inputs.token,
        encodingAesKey: inputs.encoding_aes_key,
        appId: inputs.receive_id,
      })
      const reply = parseReply(crypto.openReply(response.body))
      assert.equal(reply.content, 'got it')
      assert.equal(reply.toUser, 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o')
      assert.equal(reply.fromUser, 'gh_7f083739789a')
    } finally {
      await gateway.close()
      await fake.close()
    }
  })
})

describe('GET /api/v1/auth/wechat/verify', () => {
  let fake: FakeApp
  let gateway: TestGateway
  before(async () => {
    fake = await startFakeApp({ secret: TEST.secret })
    gateway = await startGateway({ appUrl: fake.url })
  })
  after(async () => {
    await gateway.close()
    await fake.close()
  })

  it('answers exactly the echostr as text/plain when the signature is valid', async () => {
    const response = await gateway.app.inject({
      method: 'GET',
      url: signer.verifyUrl('4375120948345356249'),
    })
    assert.equal(response.statusCode, 200)
    assert.equal(response.body, '4375120948345356249')
    assert.match(String(response.headers['content-type']), /^text\/plain/)
  })

  it('answers the official vector', async () => {
    const file = new URL(
      '../../../../../shared/wechat-protocol/vectors/mp_signature.json',
      import.meta.url,
    )
    const vectors = JSON.parse(readFileSync(file, 'utf8')) as {
      vectors: {
        id: string
        inputs: { parts: Record<string, string>; echostr: string }
        expected: { sha1_hex: string; response_body: string }
      }[]
    }
    const vector = vectors.vectors.find((v) => v.id === 'mp_sig_official_url_verify')
    assert.ok(vector)
    const official = await startGateway({
      appUrl: fake.url,
      env: { WECHAT_TOKEN: vector.inputs.parts.token },
    })
    try {
      const query = new URLSearchParams({
        signature: vector.expected.sha1_hex,
        timestamp: vector.inputs.parts.timestamp ?? '',
        nonce: vector.inputs.parts.nonce ?? '',
        echostr: vector.inputs.echostr,
      })
      const response = await official.app.inject({
        method: 'GET',
        url: `/api/v1/auth/wechat/verify?${query}`,
      })
      assert.equal(response.statusCode, 200)
      assert.equal(response.body, vector.expected.response_body)
    } finally {
      await official.close()
    }
  })

  it('refuses a wrong or missing signature with 401 and never echoes echostr', async () => {
    const good = new URL(signer.verifyUrl('secret-echo'), 'http://x')
    const wrong = new URLSearchParams(good.search)
    wrong.set('signature', 'f'.repeat(40))
    const tampered = new URLSearchParams(good.search)
    tampered.set('nonce', 'other')
    const missing = new URLSearchParams(good.search)
    missing.delete('signature')
    for (const q of [wrong, tampered, missing]) {
      const response = await gateway.app.inject({ method: 'GET', url: `${good.pathname}?${q}` })
      assert.equal(response.statusCode, 401)
      assert.ok(!response.body.includes('secret-echo'))
    }
  })
})
