// Hostile inputs sent through nginx: forged WeChat messages, internal-API tricks, broken tokens and bodies.
import { createHmac } from 'node:crypto'
import { signInternalRequest } from '@wxgate/internal-api'
import { buildXml, parsePayNotifyAnswer } from '@wxgate/wechat'
import type { ApiClient, HttpAnswer } from './api-client.js'
import { rawRequest } from './api-client.js'
import type { TopologySecrets } from './harness.js'
import type { PaidOrder } from './wechat-messages.js'
import {
  eventXml,
  NOTIFY_PATH,
  payNotificationXml,
  pushQuery,
  safePush,
  VERIFY_PATH,
} from './wechat-messages.js'

export interface CorpusContext {
  api: ApiClient
  nginxPort: number
  secrets: TopologySecrets
  victim: { openId: string; token: string }
  attacker: { openId: string; token: string }
  /** A pending order of the victim, with the payment WeChat would report for it. */
  victimPending: PaidOrder
  /** A QR login scene nobody has scanned. */
  pendingScene: string
  /** A push WeChat really sent earlier (query and body as on the wire). */
  capturedPush: { query: Record<string, string>; body: string } | undefined
}

export interface CorpusCase {
  name: string
  /** Statuses that are a correct refusal. */
  statuses: readonly number[]
  /** For pay notifications answered 200: the answer must be FAIL. */
  payFail?: boolean
  /** For pay notifications answered 200: the answer must be SUCCESS (taken, though nothing is paid). */
  payAcknowledged?: boolean
  send(): Promise<HttpAnswer | number>
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

export function buildHostileCorpus(ctx: CorpusContext): CorpusCase[] {
  const { api, secrets, victim, attacker, victimPending } = ctx
  const cases: CorpusCase[] = []
  const add = (c: CorpusCase) => cases.push(c)
  const xml =
    (path: string, body: string, method = 'POST') =>
    () =>
      api.request(method, path, { body, contentType: 'text/xml' })

  // --- the internal API through the public entry: always refused by nginx, even correctly signed ---
  const signed = (method: string, path: string, body: unknown, pathForSignature = path) => {
    const raw = JSON.stringify(body)
    const headers = signInternalRequest({
      secret: secrets.internalApiSecret,
      method,
      pathAndQuery: pathForSignature,
      body: raw,
    })
    return () =>
      api.request(method, path, {
        body: raw,
        contentType: 'application/json',
        headers: { ...headers },
      })
  }
  const orderUpdate = {
    out_trade_no: victimPending.outTradeNo,
    transaction_id: '4200000000000000000000000001',
    total_fee: victimPending.totalFee,
    trade_state: 'SUCCESS',
    paid_at: new Date().toISOString(),
  }
  const internalCases: [string, string, string, unknown][] = [
    [
      'signed create-or-update (unsubscribe the victim)',
      'POST',
      '/api/v1/internal/user/create-or-update',
      { openid: victim.openId, subscribed: false, event_time: 4_000_000_000 },
    ],
    [
      'signed order/update (mark the pending order paid)',
      'PUT',
      '/api/v1/internal/payment/order/update',
      orderUpdate,
    ],
    [
      "signed credits/consume (spend the victim's credits)",
      'POST',
      '/api/v1/internal/credits/consume',
      { openid: victim.openId, amount: 10, reason: 'attack', idempotency_key: 'attack-1' },
    ],
    [
      'signed binding/update (log in as the victim on a pending scene)',
      'PUT',
      '/api/v1/internal/binding/update',
      {
        scene_str: ctx.pendingScene,
        openid: victim.openId,
        event: 'SCAN',
        event_time: Math.floor(Date.now() / 1000),
      },
    ],
    [
      'signed binding/create',
      'POST',
      '/api/v1/internal/binding/create',
      { scene_str: 'attack_scene', openid: victim.openId, event: 'SCAN', event_time: 1 },
    ],
  ]
  for (const [name, method, path, body] of internalCases) {
    add({ name: `internal via nginx: ${name}`, statuses: [403], send: signed(method, path, body) })
  }
  const orderPath = '/api/v1/internal/payment/order/update'
  const spellings: [string, string, readonly number[]][] = [
    ['%-encoded "internal"', '/api/v1/%69nternal/payment/order/update', [403]],
    ['double slash', '/api/v1//internal/payment/order/update', [403]],
    ['dot segments', '/api/v1/payment/../internal/payment/order/update', [403]],
    ['encoded dot segments', '/api/v1/payment/%2e%2e/internal/payment/order/update', [403]],
    [';params', '/api/v1/internal;x=1/payment/order/update', [403]],
    ['upper case', '/api/v1/INTERNAL/payment/order/update', [403]],
    ['upper-case prefix', '/API/v1/internal/payment/order/update', [403, 404]],
    ['no trailing slash', '/api/v1/internal', [403]],
  ]
  for (const [name, path, statuses] of spellings) {
    add({
      name: `internal via nginx, ${name}`,
      statuses,
      send: signed('PUT', path, orderUpdate, orderPath),
    })
  }
  add({
    name: 'internal via nginx with X-Forwarded-For/X-Real-IP claiming loopback',
    statuses: [403],
    send: () =>
      api.request('PUT', orderPath, {
        json: orderUpdate,
        headers: { 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1' },
      }),
  })
  add({
    name: 'internal via nginx, absolute-form request target',
    statuses: [403],
    send: () =>
      rawRequest(
        ctx.nginxPort,
        `PUT http://127.0.0.1:8000${orderPath} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      ),
  })

  // --- forged payment notifications for the victim's pending order: answered FAIL (or refused), never paid ---
  const notify =
    (body: string, contentType = 'text/xml') =>
    () =>
      api.request('POST', NOTIFY_PATH, { body, contentType })
  const payCase = (
    name: string,
    body: string,
    statuses: readonly number[] = [200, 400, 401, 413, 415],
  ) => add({ name: `pay notification: ${name}`, statuses, payFail: true, send: notify(body) })
  payCase(
    'signed with a wrong API key',
    payNotificationXml(secrets, victimPending, { apiKey: 'x'.repeat(32) }),
  )
  payCase('no sign', payNotificationXml(secrets, victimPending).replace(/<sign>.*?<\/sign>/, ''))
  payCase(
    'another appid, correctly signed',
    payNotificationXml(secrets, victimPending, { overrides: { appid: 'wx0000000000000bad' } }),
  )
  payCase(
    'another mch_id, correctly signed',
    payNotificationXml(secrets, victimPending, { overrides: { mch_id: '1999999999' } }),
  )
  payCase(
    'total_fee of 1 fen, correctly signed',
    payNotificationXml(secrets, victimPending, { overrides: { total_fee: 1, cash_fee: 1 } }),
  )
  // Signed with the right key, but a failed payment: acknowledged (SUCCESS, or WeChat resends it for 24 h), and
  // the order stays unpaid, which the corpus's final check proves for every case.
  add({
    name: 'pay notification: result_code FAIL, correctly signed',
    statuses: [200],
    payAcknowledged: true,
    send: notify(
      payNotificationXml(secrets, victimPending, {
        overrides: { result_code: 'FAIL', err_code: 'NOTENOUGH' },
      }),
    ),
  })
  payCase(
    'an unknown out_trade_no, correctly signed',
    payNotificationXml(secrets, { ...victimPending, outTradeNo: 'WXG0000000000000000000unknown' }),
  )
  payCase(
    'HMAC-SHA256 with a wrong key',
    payNotificationXml(secrets, victimPending, { apiKey: 'y'.repeat(32), signType: 'HMAC-SHA256' }),
  )
  payCase(
    'sign_type HMAC-SHA256 declared over an MD5 sign',
    payNotificationXml(secrets, victimPending).replace(
      '<xml>',
      '<xml><sign_type><![CDATA[HMAC-SHA256]]></sign_type>',
    ),
  )
  payCase(
    'XXE: external entity in a DOCTYPE',
    `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><return_code>&x;</return_code><out_trade_no>${victimPending.outTradeNo}</out_trade_no></xml>`,
  )
  payCase(
    'entity expansion (billion laughs)',
    `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><a>&lol3;</a></xml>`,
  )
  payCase('a body over 64 KiB', `<xml><a>${'A'.repeat(70 * 1024)}</a></xml>`, [413])
  payCase("a body over nginx's limit", `<xml><a>${'A'.repeat(200 * 1024)}</a></xml>`, [413])
  add({
    name: 'pay notification: JSON instead of XML',
    statuses: [200, 400, 415],
    payFail: true,
    send: notify(
      JSON.stringify({ out_trade_no: victimPending.outTradeNo, result_code: 'SUCCESS' }),
      'application/json',
    ),
  })
  payCase('an empty body', '')
  payCase('malformed XML', `<xml><out_trade_no>${victimPending.outTradeNo}</xml>`)
  payCase('XML nested 60 deep', `${'<a>'.repeat(60)}x${'</a>'.repeat(60)}`)
  payCase(
    'CDATA breakout in out_trade_no',
    payNotificationXml(secrets, {
      ...victimPending,
      outTradeNo: `${victimPending.outTradeNo}]]><total_fee>1</total_fee><x><![CDATA[`,
    }),
  )
  payCase(
    'a repeated total_fee element',
    payNotificationXml(secrets, victimPending).replace('<xml>', '<xml><total_fee>1</total_fee>'),
  )
  add({ name: 'pay notification: GET', statuses: [403, 405], send: () => api.get(NOTIFY_PATH) })
  add({
    name: 'pay notification: PUT',
    statuses: [403, 405],
    send: xml(NOTIFY_PATH, payNotificationXml(secrets, victimPending), 'PUT'),
  })

  // --- forged pushes (the victim "scanning" a pending login scene, or unfollowing) ---
  const scanXml = eventXml({
    toUser: 'gh_0123456789ab',
    fromUser: victim.openId,
    event: 'SCAN',
    eventKey: ctx.pendingScene,
  })
  const unfollowXml = eventXml({
    toUser: 'gh_0123456789ab',
    fromUser: victim.openId,
    event: 'unsubscribe',
  })
  const params = (query: Record<string, string>) => new URLSearchParams(query).toString()
  add({
    name: 'push: echostr with a wrong signature',
    statuses: [401],
    send: () =>
      api.get(`${VERIFY_PATH}?${params({ ...pushQuery('not-the-token'), echostr: 'hello' })}`),
  })
  add({
    name: 'push: echostr without a signature',
    statuses: [400, 401],
    send: () => api.get(`${VERIFY_PATH}?echostr=hello`),
  })
  add({
    name: 'push: plaintext SCAN with a wrong signature',
    statuses: [401],
    send: xml(
      `${VERIFY_PATH}?${params({ ...pushQuery('not-the-token'), openid: victim.openId })}`,
      scanXml,
    ),
  })
  add({
    name: 'push: plaintext unsubscribe without any signature',
    statuses: [400, 401],
    send: xml(VERIFY_PATH, unfollowXml),
  })
  const stale = safePush(secrets, scanXml, { timestamp: Math.floor(Date.now() / 1000) - 3600 })
  add({
    name: 'push: genuine signatures, timestamp an hour old',
    statuses: [401],
    send: xml(stale.path, stale.body),
  })
  const future = safePush(secrets, scanXml, { timestamp: Math.floor(Date.now() / 1000) + 3600 })
  add({
    name: 'push: genuine signatures, timestamp an hour ahead',
    statuses: [401],
    send: xml(future.path, future.body),
  })
  const badMsgSig = safePush(secrets, scanXml, { msgSignature: 'f'.repeat(40) })
  add({
    name: 'push: safe mode with a wrong msg_signature',
    statuses: [401],
    send: xml(badMsgSig.path, badMsgSig.body),
  })
  const otherKey = safePush(secrets, scanXml, { encodingAesKey: 'B'.repeat(43) })
  add({
    name: 'push: encrypted with another EncodingAESKey',
    statuses: [400, 401],
    send: xml(otherKey.path, otherKey.body),
  })
  const otherApp = safePush(secrets, scanXml, { appId: 'wx00000000000000ff' })
  add({
    name: 'push: encrypted for another appid',
    statuses: [400, 401],
    send: xml(otherApp.path, otherApp.body),
  })
  const otherToken = safePush(secrets, scanXml, { token: 'guessed-token' })
  add({
    name: 'push: signed with a guessed token',
    statuses: [401],
    send: xml(otherToken.path, otherToken.body),
  })
  if (ctx.capturedPush !== undefined) {
    const captured = ctx.capturedPush
    const swapped = safePush(secrets, unfollowXml)
    add({
      name: 'push: a captured query replayed with another (validly encrypted) body',
      statuses: [401],
      send: xml(`${VERIFY_PATH}?${params(captured.query)}`, swapped.body),
    })
  }
  const garbage = safePush(secrets, '<xml><ToUserName>gh_0123456789ab</ToUserName><broken></xml>')
  add({
    name: 'push: genuine signatures over malformed XML',
    statuses: [400],
    send: xml(garbage.path, garbage.body),
  })
  const xxe = safePush(
    secrets,
    `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><ToUserName>gh</ToUserName><FromUserName>${victim.openId}</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>unsubscribe</Event><EventKey>&x;</EventKey></xml>`,
  )
  add({
    name: 'push: genuine signatures over an XXE payload',
    statuses: [400],
    send: xml(xxe.path, xxe.body),
  })
  add({
    name: 'push: a body over 64 KiB',
    statuses: [401, 413],
    send: xml(
      `${VERIFY_PATH}?${params(pushQuery(secrets.token))}`,
      `<xml>${'A'.repeat(70 * 1024)}</xml>`,
    ),
  })
  add({ name: 'push: PUT', statuses: [403, 405], send: xml(VERIFY_PATH, scanXml, 'PUT') })
  add({
    name: 'push: DELETE',
    statuses: [403, 405],
    send: () => api.request('DELETE', VERIFY_PATH),
  })

  // --- the public API: tokens, other users' orders, prices, bodies ---
  const [header = '', payload = ''] = victim.token.split('.')
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >
  const noneToken = `${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`
  const forgedBody = `${header}.${b64url({ ...claims, credits: 1_000_000 })}`
  const wrongKeyToken = `${forgedBody}.${createHmac('sha256', 'not-the-jwt-secret-not-the-jwt-secret').update(forgedBody).digest('base64url')}`
  const tamperedToken = `${header}.${b64url({ ...claims, exp: 4_000_000_000 })}.${victim.token.split('.')[2] ?? ''}`
  const credits = (token: string | undefined) => () =>
    api.get('/api/v1/user/credits', token === undefined ? {} : { token })
  add({ name: 'api: credits without a token', statuses: [401], send: credits(undefined) })
  add({
    name: 'api: credits with a garbage bearer token',
    statuses: [401],
    send: credits('garbage'),
  })
  add({ name: 'api: a JWT with alg none', statuses: [401], send: credits(noneToken) })
  add({
    name: 'api: a JWT signed with another secret',
    statuses: [401],
    send: credits(wrongKeyToken),
  })
  add({
    name: 'api: a JWT whose claims were edited',
    statuses: [401],
    send: credits(tamperedToken),
  })
  add({
    name: "api: another user's order",
    statuses: [404],
    send: () =>
      api.get(`/api/v1/payment/orders/${victimPending.outTradeNo}`, { token: attacker.token }),
  })
  add({
    name: "api: unifiedorder for another user's order",
    statuses: [404],
    send: () =>
      api.post('/api/v1/payment/unifiedorder', {
        token: attacker.token,
        json: { out_trade_no: victimPending.outTradeNo, trade_type: 'NATIVE' },
      }),
  })
  const createOrder = (json: unknown) => () =>
    api.post('/api/v1/payment/create-order', { token: victim.token, json })
  add({
    name: 'api: create-order for an unknown product',
    statuses: [400],
    send: createOrder({ product_id: 'credits_999999' }),
  })
  add({
    name: 'api: create-order with product_id as an array',
    statuses: [400],
    send: createOrder({ product_id: ['credits_100'] }),
  })
  add({
    name: 'api: create-order with SQL in product_id',
    statuses: [400],
    send: createOrder({ product_id: "credits_100' OR '1'='1" }),
  })
  add({
    name: 'api: create-order with __proto__ only',
    statuses: [400],
    send: () =>
      api.post('/api/v1/payment/create-order', {
        token: victim.token,
        body: '{"__proto__":{"product_id":"credits_100"}}',
        contentType: 'application/json',
      }),
  })
  add({
    name: 'api: create-order with malformed JSON',
    statuses: [400],
    send: () =>
      api.post('/api/v1/payment/create-order', {
        token: victim.token,
        body: '{"product_id":',
        contentType: 'application/json',
      }),
  })
  add({
    name: 'api: create-order with a 300 KiB body',
    statuses: [413],
    send: createOrder({ product_id: 'credits_100', pad: 'x'.repeat(300 * 1024) }),
  })
  add({
    name: 'api: unifiedorder with an unknown trade_type',
    statuses: [400],
    send: () =>
      api.post('/api/v1/payment/unifiedorder', {
        token: victim.token,
        json: { out_trade_no: victimPending.outTradeNo, trade_type: 'BOGUS' },
      }),
  })
  add({
    name: 'api: an order id with SQL',
    statuses: [400, 404],
    send: () =>
      api.get(`/api/v1/payment/orders/${encodeURIComponent("' OR 1=1 -- ")}`, {
        token: victim.token,
      }),
  })
  add({
    name: 'api: check-follow with SQL in scene_str',
    statuses: [400, 404],
    send: () =>
      api.get(`/api/v1/auth/wechat/check-follow?scene_str=${encodeURIComponent("' OR '1'='1")}`),
  })
  add({
    name: 'api: OAuth login with a forged code and state',
    statuses: [400, 401],
    send: () => api.get('/api/v1/auth/wechat?code=forgedcode&state=forgedstate'),
  })
  add({
    name: 'api: authorize-url with an unknown scope',
    statuses: [400],
    send: () =>
      api.get(
        `/api/v1/auth/wechat/authorize-url?redirect_uri=${encodeURIComponent('https://shop.example.com/cb')}&scope=snsapi_everything`,
      ),
  })
  add({
    name: 'api: get-menu without the admin key',
    statuses: [401, 403],
    send: () => api.get('/api/v1/auth/wechat/get-menu'),
  })
  add({
    name: 'api: create-menu with a guessed admin key',
    statuses: [401, 403],
    send: () =>
      api.post('/api/v1/auth/wechat/create-menu', {
        json: { button: [{ type: 'click', name: 'x', key: 'x' }] },
        headers: { 'x-admin-key': 'admin' },
      }),
  })
  add({
    name: 'api: request smuggling (Content-Length and Transfer-Encoding)',
    statuses: [400],
    send: () =>
      rawRequest(
        ctx.nginxPort,
        'POST /api/v1/payment/create-order HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nPUT /api/v1/internal/payment/order/update HTTP/1.1\r\nHost: x\r\n\r\n',
      ),
  })
  add({ name: 'ops: /metrics is not public', statuses: [404], send: () => api.get('/metrics') })
  add({ name: 'ops: /healthz is not public', statuses: [404], send: () => api.get('/healthz') })
  add({
    name: 'pay notification: a bare SUCCESS with a made-up sign',
    statuses: [200, 400, 401],
    payFail: true,
    send: notify(
      buildXml({ return_code: 'SUCCESS', out_trade_no: victimPending.outTradeNo, sign: 'ABC' }),
    ),
  })
  return cases
}

/** Why an answer is not a correct refusal for `c`, or undefined when it is. */
export function judgeCorpusAnswer(c: CorpusCase, answer: HttpAnswer | number): string | undefined {
  const status = typeof answer === 'number' ? answer : answer.status
  if (!c.statuses.includes(status)) {
    const text = typeof answer === 'number' ? '' : `: ${answer.text.slice(0, 200)}`
    return `answered ${status} (expected ${c.statuses.join('/')})${text}`
  }
  const judged = c.payFail === true || c.payAcknowledged === true
  if (judged && status === 200 && typeof answer !== 'number') {
    let ok: boolean
    try {
      ok = parsePayNotifyAnswer(answer.text).ok
    } catch {
      return `answered 200 with a body that is not a notify answer: ${answer.text.slice(0, 200)}`
    }
    if (ok && c.payFail === true) return 'answered SUCCESS to a forged notification'
    if (!ok && c.payAcknowledged === true)
      return 'answered FAIL, so WeChat would resend it for 24 h'
  }
  return undefined
}
