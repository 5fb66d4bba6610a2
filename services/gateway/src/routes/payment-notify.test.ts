import { after, before, beforeEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { buildPayNotification, parsePayNotifyAnswer } from '@wxgate/wechat'
import { startFakeApp } from '../testing/fake-app.js'
import { metricValue } from '../testing/metrics-text.js'
import type { FakeApp } from '../testing/fake-app.js'
import { startGateway, TEST } from '../testing/gateway-fixture.js'
import type { TestGateway } from '../testing/gateway-fixture.js'

const ORDER = '/api/v1/internal/payment/order/update'
const URL_PATH = '/api/v1/payment/notify'

function notification(
  overrides: Record<string, string | number> = {},
  signType?: 'MD5' | 'HMAC-SHA256',
  apiKey: string = TEST.payKey,
): string {
  return buildPayNotification(
    {
      return_code: 'SUCCESS',
      return_msg: 'OK',
      appid: TEST.appId,
      mch_id: TEST.mchId,
      nonce_str: 'abcdef123456',
      result_code: 'SUCCESS',
      openid: 'o-payer',
      trade_type: 'JSAPI',
      bank_type: 'CMC',
      total_fee: 990,
      cash_fee: 990,
      fee_type: 'CNY',
      transaction_id: '4200001234202611251234567890',
      out_trade_no: 'T20261125000001',
      time_end: '20261125160000',
      ...(signType === undefined ? {} : { sign_type: signType }),
      ...overrides,
    },
    apiKey,
    signType,
  )
}

describe('POST /api/v1/payment/notify', () => {
  let fake: FakeApp
  let gateway: TestGateway
  before(async () => {
    fake = await startFakeApp({ secret: TEST.secret })
    gateway = await startGateway({ appUrl: fake.url, deps: { payDeadlineMs: 300 } })
  })
  after(async () => {
    await gateway.close()
    await fake.close()
  })
  beforeEach(() => {
    fake.calls.length = 0
    fake.on(ORDER, { status: 200, body: { order: {}, changed: true } })
  })

  async function notify(
    body: string,
    headers: Record<string, string> = { 'content-type': 'text/xml' },
  ) {
    const response = await gateway.app.inject({
      method: 'POST',
      url: URL_PATH,
      payload: body,
      headers,
    })
    return {
      response,
      answer: response.statusCode === 200 ? parsePayNotifyAnswer(response.body) : undefined,
    }
  }

  it('records a correctly signed payment with app and answers SUCCESS', async () => {
    const { response, answer } = await notify(notification(), {
      'content-type': 'text/xml',
      'x-request-id': 'pay-req-1',
    })
    assert.equal(response.statusCode, 200)
    assert.equal(answer?.ok, true)
    assert.equal(fake.callsTo(ORDER).length, 1)
    const call = fake.callsTo(ORDER)[0]
    assert.equal(call?.method, 'PUT')
    assert.equal(call?.signed, true)
    assert.equal(call?.headers['x-request-id'], 'pay-req-1')
    assert.deepEqual(call?.body, {
      out_trade_no: 'T20261125000001',
      transaction_id: '4200001234202611251234567890',
      total_fee: 990,
      trade_state: 'SUCCESS',
      paid_at: '2026-11-25T08:00:00.000Z',
      openid: 'o-payer',
    })
  })

  it('accepts HMAC-SHA256 signed notifications too', async () => {
    const { answer } = await notify(notification({}, 'HMAC-SHA256'))
    assert.equal(answer?.ok, true)
    assert.equal(fake.callsTo(ORDER).length, 1)
  })

  it('reads a notification whatever its content type says (curl -d labels it a form)', async () => {
    const forms: Record<string, string>[] = [
      { 'content-type': 'application/x-www-form-urlencoded' },
      {},
    ]
    for (const headers of forms) {
      const { answer } = await notify(notification(), headers)
      assert.equal(answer?.ok, true, JSON.stringify(headers))
    }
    assert.equal(fake.callsTo(ORDER).length, 2)
  })

  it('answers SUCCESS to a duplicate that app reports as already recorded', async () => {
    fake.on(ORDER, { status: 200, body: { order: {}, changed: false } })
    assert.equal((await notify(notification())).answer?.ok, true)
  })

  it('answers FAIL, so WeChat retries, whenever app did not answer 200', async () => {
    for (const behaviour of [
      { status: 404, body: { code: 'ORDER_NOT_FOUND' } },
      { status: 409, body: { code: 'AMOUNT_MISMATCH' } },
      { status: 500 },
      { status: 200, delayMs: 2000 },
      'reset' as const,
    ]) {
      fake.on(ORDER, behaviour)
      const started = Date.now()
      const { response, answer } = await notify(notification())
      assert.equal(response.statusCode, 200)
      assert.equal(answer?.ok, false, JSON.stringify(behaviour))
      assert.ok(Date.now() - started < 1500)
    }
  })

  it('passes a failed payment (result_code FAIL) to app as PAYERROR and acknowledges it once app took it', async () => {
    fake.on(ORDER, { status: 200, body: { order: {}, changed: false } })
    const failed = notification({ result_code: 'FAIL', err_code: 'NOTENOUGH' })
    const { answer } = await notify(failed)
    assert.equal(answer?.ok, true, 'WeChat would resend an unacknowledged result for 24 hours')
    assert.equal((fake.callsTo(ORDER)[0]?.body as { trade_state?: string }).trade_state, 'PAYERROR')
    // Still SUCCESS only with app's word: an order app does not know is refused and retried.
    fake.on(ORDER, { status: 404, body: { code: 'ORDER_NOT_FOUND' } })
    assert.equal((await notify(failed)).answer?.ok, false)
  })

  it('answers FAIL without calling app for a bad sign, another appid or mch_id', async () => {
    const tampered = notification().replace(
      '<total_fee>990</total_fee>',
      '<total_fee>1</total_fee>',
    )
    assert.notEqual(tampered, notification(), 'the tampering applied')
    for (const body of [
      tampered,
      notification({}, 'MD5', 'another-key-another-key-another-k'),
      notification({ appid: 'wxsomeoneelse00000' }),
      notification({ mch_id: '1999999999' }),
    ]) {
      const { answer } = await notify(body)
      assert.equal(answer?.ok, false)
    }
    assert.equal(fake.callsTo(ORDER).length, 0)
  })

  it('answers FAIL to malformed XML, XXE, JSON and empty bodies, whatever their content type', async () => {
    for (const body of [
      'not xml',
      '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><a>&x;</a></xml>',
      '<xml><return_code>SUCCESS</return_code></xml>',
    ]) {
      assert.equal((await notify(body)).answer?.ok, false)
    }
    const empty = await gateway.app.inject({ method: 'POST', url: URL_PATH })
    assert.equal(parsePayNotifyAnswer(empty.body).ok, false)
    const json = await notify('{"a":1}', { 'content-type': 'application/json' })
    assert.equal(json.response.statusCode, 200)
    assert.equal(json.answer?.ok, false, 'judged by its body: not XML')
    const big = await notify(`<xml><a>${'x'.repeat(70 * 1024)}</a></xml>`)
    assert.equal(big.response.statusCode, 413)
    assert.equal(fake.callsTo(ORDER).length, 0)
  })

  it('counts notifications by outcome', async () => {
    await notify(notification())
    await notify(notification({ result_code: 'FAIL', err_code: 'NOTENOUGH' }))
    const metrics = await gateway.app.inject({ method: 'GET', url: '/metrics' })
    for (const outcome of ['success', 'rejected', 'invalid', 'result_fail', 'app_refused']) {
      const value = metricValue(metrics.body, 'pay_notifications_total', { outcome }) ?? 0
      assert.ok(value >= 1, outcome)
    }
  })
})

describe('POST /api/v1/payment/notify without pay settings', () => {
  it('answers FAIL to every notification, so WeChat keeps them', async () => {
    const fake = await startFakeApp({ secret: TEST.secret })
    const gateway = await startGateway({
      appUrl: fake.url,
      env: { WECHAT_PAY_MCHID: undefined, WECHAT_PAY_API_KEY: undefined },
    })
    try {
      const response = await gateway.app.inject({
        method: 'POST',
        url: URL_PATH,
        payload: notification(),
        headers: { 'content-type': 'text/xml' },
      })
      assert.equal(response.statusCode, 200)
      assert.equal(parsePayNotifyAnswer(response.body).ok, false)
      assert.equal(fake.calls.length, 0)
    } finally {
      await gateway.close()
      await fake.close()
    }
  })
})
