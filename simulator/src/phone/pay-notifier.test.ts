// Paying and the pay notification: signatures, WeChat's retry schedule, lost notifications, the shared vector.
import assert from 'node:assert/strict'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { after, before, beforeEach, describe, it } from 'node:test'
import {
  beijingTimeToDate,
  buildXml,
  createPayClient,
  parsePayNotification,
  parseXml,
  renderPayNotifyAnswer,
  signPayParams,
} from '@wxgate/wechat'
import type { PaySignType } from '@wxgate/wechat'
import {
  startTestSimulator,
  TEST_APP_ID,
  TEST_MCH_ID,
  TEST_PAY_KEY,
} from '../start-test-simulator.js'
import type { TestSimulator } from '../start-test-simulator.js'
import { NOTIFY_RETRY_DELAYS_S } from './pay-notifier.js'
import { startGatewayStub } from './start-gateway-stub.js'
import type { GatewayStub } from './start-gateway-stub.js'

interface SignVector {
  id: string
  inputs: { params: Record<string, string>; api_key: string; algorithm: PaySignType }
  expected: { sign: string; request_xml?: string }
}
interface NotifyVector {
  id: string
  inputs: { api_key: string; notify_xml: string }
  expected: { sign: string }
}
const vectorDir = new URL('../../../../shared/wechat-protocol/vectors/', import.meta.url)
const readVectors = <T>(file: string): T[] =>
  (JSON.parse(readFileSync(new URL(file, vectorDir), 'utf8')) as { vectors: T[] }).vectors

/** Independent of @wxgate/wechat: the v2 sign (proven on the shared vectors below). */
function independentSign(
  params: Record<string, string>,
  key: string,
  algorithm: PaySignType,
): string {
  const stringA = Object.keys(params)
    .filter((name) => name !== 'sign' && params[name] !== '')
    .sort()
    .map((name) => `${name}=${params[name]}`)
    .join('&')
  const temp = `${stringA}&key=${key}`
  const digest =
    algorithm === 'MD5'
      ? createHash('md5').update(temp, 'utf8').digest('hex')
      : createHmac('sha256', key).update(temp, 'utf8').digest('hex')
  return digest.toUpperCase()
}

describe('the independent v2 signer', () => {
  it('reproduces every shared sign vector', () => {
    for (const vector of readVectors<SignVector>('pay_v2_sign.json')) {
      const { params, api_key: key, algorithm } = vector.inputs
      assert.equal(independentSign(params, key, algorithm), vector.expected.sign, vector.id)
    }
  })
})

describe('paying and the pay notification', () => {
  let merchant: GatewayStub
  let sim: TestSimulator
  before(async () => {
    merchant = await startGatewayStub('/notify')
    sim = await startTestSimulator({ timeScale: 100_000, pushTimeoutMs: 500 })
    sim.platform.addUser({ openId: 'oBuyer', subscribed: true })
  })
  after(async () => {
    await sim.close()
    await merchant.close()
  })
  beforeEach(() => {
    merchant.received.length = 0
    merchant.respond = () => ({ body: renderPayNotifyAnswer(true) })
  })
  const newOrder = async (outTradeNo: string, signType: PaySignType = 'MD5') => {
    const client = createPayClient({
      appId: TEST_APP_ID,
      mchId: TEST_MCH_ID,
      apiKey: TEST_PAY_KEY,
      baseUrl: sim.baseUrl,
      signType,
    })
    await client.unifiedOrder({
      outTradeNo,
      body: 'credits',
      totalFee: 3990,
      spbillCreateIp: '198.51.100.1',
      notifyUrl: merchant.url,
      tradeType: 'JSAPI',
      openId: 'oBuyer',
      attach: 'a1',
    })
    return client
  }

  it('marks the order paid and sends a signed notification, accepted on the first try', async () => {
    const client = await newOrder('notify-md5')
    const payStarted = sim.now()
    const paid = await sim.phone.pay('notify-md5')
    const payEnded = sim.now()
    assert.match(paid.transactionId, /^\d{28}$/)
    // time_end is in whole seconds: from the second the payment began in to when it ended. (Compared
    // with the time after the call within a second, it failed whenever the call crossed a second.)
    const timeEnd = beijingTimeToDate(paid.timeEnd).getTime()
    assert.ok(timeEnd >= Math.floor(payStarted / 1000) * 1000, `${timeEnd} ≥ ${payStarted}`)
    assert.ok(timeEnd <= payEnded, `${timeEnd} ≤ ${payEnded}`)
    assert.equal(paid.notification?.ok, true)
    assert.equal(paid.notification?.attempts, 1)
    const xml = merchant.received[0]?.body ?? ''
    const fields = parseXml(xml) as Record<string, string>
    assert.equal(fields.sign, independentSign(fields, TEST_PAY_KEY, 'MD5'))
    assert.equal(fields.sign_type, undefined)
    const notification = parsePayNotification(xml, {
      apiKey: TEST_PAY_KEY,
      appId: TEST_APP_ID,
      mchId: TEST_MCH_ID,
    })
    assert.equal(notification.outTradeNo, 'notify-md5')
    assert.equal(notification.totalFee, 3990)
    assert.equal(notification.transactionId, paid.transactionId)
    assert.equal(notification.openId, 'oBuyer')
    assert.equal(fields.is_subscribe, 'Y')
    assert.equal(fields.attach, 'a1')
    const query = await client.orderQuery({ outTradeNo: 'notify-md5' })
    assert.equal(query.tradeState, 'SUCCESS')
    assert.equal(query.timeEnd, paid.timeEnd)
  })

  it('signs the notification of an HMAC-SHA256 order with HMAC-SHA256 and says so', async () => {
    await newOrder('notify-hmac', 'HMAC-SHA256')
    await sim.phone.pay('notify-hmac')
    const fields = parseXml(merchant.received[0]?.body ?? '') as Record<string, string>
    assert.equal(fields.sign_type, 'HMAC-SHA256')
    assert.equal(fields.sign, independentSign(fields, TEST_PAY_KEY, 'HMAC-SHA256'))
  })

  it('retries a refused notification on WeChat schedule until it is accepted', async () => {
    await newOrder('notify-retry')
    let calls = 0
    merchant.respond = () => {
      calls++
      if (calls === 1) return { status: 500, body: 'oops' }
      if (calls === 2) return { body: renderPayNotifyAnswer(false, 'busy') }
      if (calls === 3) return { body: 'not xml' }
      return { body: renderPayNotifyAnswer(true) }
    }
    const paid = await sim.phone.pay('notify-retry')
    assert.equal(paid.notification?.ok, false)
    assert.equal(paid.notification?.pending, true)
    const outcome = await sim.phone.notificationSettled('notify-retry')
    assert.equal(outcome.ok, true)
    assert.equal(outcome.attempts, 4)
    const records = sim.records.notifications.filter(
      (record) => record.outTradeNo === 'notify-retry',
    )
    assert.deepEqual(
      records.map((record) => record.retryInS),
      [15, 15, 30, undefined],
    )
    assert.equal(new Set(merchant.received.map((push) => push.body)).size, 1)
  })

  it('gives up after the 24 h schedule: 16 tries in all', async () => {
    await newOrder('notify-never')
    merchant.respond = () => ({ body: renderPayNotifyAnswer(false) })
    await sim.phone.pay('notify-never')
    const outcome = await sim.phone.notificationSettled('notify-never')
    assert.equal(outcome.ok, false)
    assert.equal(outcome.pending, false)
    assert.equal(outcome.attempts, NOTIFY_RETRY_DELAYS_S.length + 1)
    const delays = sim.records.notifications
      .filter((record) => record.outTradeNo === 'notify-never')
      .map((record) => record.retryInS)
    assert.deepEqual(delays, [...NOTIFY_RETRY_DELAYS_S, undefined])
    assert.equal(
      NOTIFY_RETRY_DELAYS_S.reduce((sum, s) => sum + s, 0),
      24 * 3600 + 4 * 60,
    )
  })

  it('loses the notification on deliver: false while orderquery still says SUCCESS', async () => {
    const client = await newOrder('notify-lost')
    const paid = await sim.phone.pay('notify-lost', { deliver: false })
    assert.equal(paid.notification, undefined)
    assert.equal(merchant.received.length, 0)
    assert.equal((await client.orderQuery({ outTradeNo: 'notify-lost' })).tradeState, 'SUCCESS')
    await assert.rejects(sim.phone.pay('notify-lost'), { code: 'ORDER_NOT_PAYABLE' })
  })

  it('refuses to pay an order past its time_expire, a JSAPI order as someone else, or an unknown order', async () => {
    const client = createPayClient({
      appId: TEST_APP_ID,
      mchId: TEST_MCH_ID,
      apiKey: TEST_PAY_KEY,
      baseUrl: sim.baseUrl,
    })
    await client.unifiedOrder({
      outTradeNo: 'notify-expiring',
      body: 'x',
      totalFee: 1,
      spbillCreateIp: '198.51.100.1',
      notifyUrl: merchant.url,
      tradeType: 'JSAPI',
      openId: 'oBuyer',
      timeExpire: new Date(sim.now() + 600_000),
    })
    await assert.rejects(sim.phone.pay('notify-expiring', { openId: 'oSomeoneElse' }), {
      code: 'ORDER_NOT_PAYABLE',
    })
    sim.advanceClock(600_000)
    await assert.rejects(sim.phone.pay('notify-expiring'), { code: 'ORDER_NOT_PAYABLE' })
    await assert.rejects(sim.phone.pay('no-such-order'), { code: 'ORDER_NOT_FOUND' })
  })
})

describe('the notification of the shared vector', () => {
  it('is reproduced with the same sign from the vector order', async () => {
    const order = readVectors<SignVector>('generated_pay_v2.json').find(
      (vector) => vector.id === 'v2_unifiedorder_generated_md5',
    )
    const notify = readVectors<NotifyVector>('generated_pay_v2.json').find(
      (vector) => vector.id === 'v2_payment_notify_generated',
    )
    assert.ok(order && notify)
    const expected = parseXml(notify.inputs.notify_xml) as Record<string, string>
    const queued: Buffer[] = []
    let clock = Date.UTC(2024, 0, 2, 7, 4, 5)
    const sim = await startTestSimulator({
      appId: order.inputs.params.appid,
      mchId: order.inputs.params.mch_id,
      payApiKey: order.inputs.api_key,
      now: () => clock,
      randomBytes: (size) => queued.shift() ?? randomBytes(size),
      pushTimeoutMs: 200,
    })
    try {
      sim.platform.addUser({ openId: order.inputs.params.openid, subscribed: true })
      // The vector notification carries no device_info, which WeChat echoes from the order: leave it out.
      const { device_info: _deviceInfo, ...params } = order.inputs.params
      const answer = await fetch(`${sim.baseUrl}/pay/unifiedorder`, {
        method: 'POST',
        body: buildXml({ ...params, sign: signPayParams(params, order.inputs.api_key) }),
      })
      assert.equal(parseXml(await answer.text()).result_code, 'SUCCESS')
      clock = beijingTimeToDate(expected.time_end ?? '').getTime()
      // transaction_id = 4200 + 24 random digits; then the notification's nonce_str (24 bytes, base64url).
      queued.push(
        Buffer.from([...(expected.transaction_id ?? '').slice(4)].map(Number)),
        Buffer.from(expected.nonce_str ?? '', 'base64url'),
      )
      // notify_url is example.com (unreachable offline): the record keeps what was sent.
      await sim.phone.pay(expected.out_trade_no ?? '')
      const sent = parseXml(sim.records.notifications[0]?.xml ?? '') as Record<string, string>
      assert.equal(sent.sign, notify.expected.sign)
      const { attach: _attach, ...expectedFields } = expected
      assert.deepEqual({ ...sent }, expectedFields)
    } finally {
      await sim.close()
    }
  })
})

describe('paying the way the user meets the order', () => {
  let sim: TestSimulator
  before(async () => {
    sim = await startTestSimulator()
  })
  after(async () => {
    await sim.close()
  })
  const client = () =>
    createPayClient({
      appId: TEST_APP_ID,
      mchId: TEST_MCH_ID,
      apiKey: TEST_PAY_KEY,
      baseUrl: sim.baseUrl,
    })
  const base = {
    body: 'credits',
    totalFee: 990,
    spbillCreateIp: '198.51.100.1',
    notifyUrl: 'http://127.0.0.1:9/notify',
  }

  it('pays a NATIVE order by scanning its code_url, as any user', async () => {
    const native = await client().unifiedOrder({
      ...base,
      outTradeNo: 'link-native',
      tradeType: 'NATIVE',
      productId: 'p1',
    })
    const paid = await sim.phone.payByLink({ codeUrl: native.codeUrl ?? '' }, { deliver: false })
    assert.equal(paid.outTradeNo, 'link-native')
    assert.ok(sim.platform.getUser(paid.openId))
    await assert.rejects(sim.phone.payByLink({ codeUrl: 'weixin://wxpay/bizpayurl?pr=nope' }), {
      code: 'ORDER_NOT_FOUND',
    })
  })

  it('serves the MWEB cashier page, pays on confirm and returns to redirect_url, within 5 minutes', async () => {
    const mweb = await client().unifiedOrder({
      ...base,
      outTradeNo: 'link-mweb',
      tradeType: 'MWEB',
      sceneInfo: {
        h5_info: { type: 'Wap', wap_url: 'https://shop.example.com', wap_name: 'shop' },
      },
    })
    const url = `${mweb.mwebUrl ?? ''}&redirect_url=${encodeURIComponent('https://shop.example.com/done')}`
    assert.ok(url.startsWith(sim.baseUrl))
    const page = await fetch(url)
    assert.equal(page.status, 200)
    assert.match(await page.text(), /¥9\.90/)
    const confirm = await fetch(url, { method: 'POST', body: '', redirect: 'manual' })
    assert.equal(confirm.status, 302)
    assert.equal(confirm.headers.get('location'), 'https://shop.example.com/done')
    assert.equal(sim.platform.order('link-mweb')?.tradeState, 'SUCCESS')

    const late = await client().unifiedOrder({
      ...base,
      outTradeNo: 'link-mweb-late',
      tradeType: 'MWEB',
      sceneInfo: {
        h5_info: { type: 'Wap', wap_url: 'https://shop.example.com', wap_name: 'shop' },
      },
    })
    sim.advanceClock(5 * 60_000)
    const expired = await fetch(late.mwebUrl ?? '', { method: 'POST', body: '' })
    assert.equal(expired.status, 409)
    assert.equal(sim.platform.order('link-mweb-late')?.tradeState, 'NOTPAY')
  })

  it('keeps the prepay_id on an MWEB repeat and gives a fresh link; each link dies 5 minutes after it was given', async () => {
    const mwebOrder = {
      ...base,
      outTradeNo: 'link-mweb-again',
      tradeType: 'MWEB' as const,
      sceneInfo: {
        h5_info: { type: 'Wap' as const, wap_url: 'https://shop.example.com', wap_name: 'shop' },
      },
    }
    const pay = (mwebUrl: string | undefined) =>
      fetch(
        `${mwebUrl ?? ''}&redirect_url=${encodeURIComponent('https://shop.example.com/done')}`,
        {
          method: 'POST',
          body: '',
          redirect: 'manual',
        },
      )
    const first = await client().unifiedOrder(mwebOrder)
    sim.advanceClock(4 * 60_000)
    const again = await client().unifiedOrder(mwebOrder)
    assert.equal(again.prepayId, first.prepayId)
    assert.notEqual(again.mwebUrl, first.mwebUrl)
    sim.advanceClock(2 * 60_000)
    assert.equal((await pay(first.mwebUrl)).status, 409, 'the first link died at 5 minutes')
    const forged = (again.mwebUrl ?? '').replace(/package=\d+/, 'package=0000000000')
    assert.equal((await pay(forged)).status, 404, 'a link WeChat never gave')
    assert.equal(sim.platform.order('link-mweb-again')?.tradeState, 'NOTPAY')
    const paid = await pay(again.mwebUrl)
    assert.equal(paid.status, 302)
    assert.equal(sim.platform.order('link-mweb-again')?.tradeState, 'SUCCESS')
  })
})
