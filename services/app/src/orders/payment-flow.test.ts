import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { createSimulator, type Simulator } from '@wxgate/simulator'
import { parsePayNotification, renderPayNotifyAnswer, renderSignedPayXml } from '@wxgate/wechat'
import { testDialects } from '../db/test-databases.js'
import { TEST_ENV } from '../testing/test-config.js'
import { createTestApp, type TestApp } from '../testing/test-app.js'

// The app against the WeChat simulator, with a stand-in for the gateway's notify URL.
/** A logged-in user's new order, and the unifiedorder answer for it. */
async function orderAndPrepay(
  t: TestApp,
  openId: string,
  {
    productId = 'credits_100',
    tradeType = 'NATIVE',
  }: { productId?: string; tradeType?: string } = {},
) {
  const me = await t.login(openId)
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/v1/payment/create-order',
    headers: me.headers,
    payload: { product_id: productId },
  })
  const outTradeNo = created.json<{ out_trade_no: string }>().out_trade_no
  const prepay = await t.app.inject({
    method: 'POST',
    url: '/api/v1/payment/unifiedorder',
    headers: me.headers,
    payload: { out_trade_no: outTradeNo, trade_type: tradeType },
  })
  return { ...me, outTradeNo, prepay }
}

for (const dialect of testDialects()) {
  describe(`payment flow against the WeChat simulator (${dialect})`, () => {
    let sim: Simulator
    let t: TestApp
    let notifyServer: Server
    let offsetMs = 0
    const now = () => Date.now() + offsetMs

    before(async () => {
      sim = await createSimulator({
        appId: TEST_ENV.WECHAT_APPID,
        appSecret: TEST_ENV.WECHAT_SECRET,
        token: 'sim-token',
        mchId: TEST_ENV.WECHAT_PAY_MCHID,
        payApiKey: TEST_ENV.WECHAT_PAY_API_KEY,
      })
      await sim.listen({ host: '127.0.0.1', port: 0 })
      // What the gateway does with a notification: verify it, then order/update; SUCCESS only on 200.
      notifyServer = createServer((req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (chunk: Buffer) => chunks.push(chunk))
        req.on('end', () => {
          const xml = Buffer.concat(chunks).toString('utf8')
          const answer = async () => {
            const n = parsePayNotification(xml, {
              apiKey: TEST_ENV.WECHAT_PAY_API_KEY,
              appId: TEST_ENV.WECHAT_APPID,
              mchId: TEST_ENV.WECHAT_PAY_MCHID,
            })
            const result = await t.internal('PUT', '/api/v1/internal/payment/order/update', {
              out_trade_no: n.outTradeNo,
              transaction_id: n.transactionId,
              total_fee: n.totalFee,
              trade_state: n.resultCode === 'SUCCESS' ? 'SUCCESS' : 'PAYERROR',
              paid_at: n.paidAt.toISOString(),
              ...(n.openId !== undefined ? { openid: n.openId } : {}),
            })
            return result.statusCode === 200
          }
          answer().then(
            (ok) => res.end(renderPayNotifyAnswer(ok, ok ? 'OK' : 'not recorded')),
            (error: unknown) => res.end(renderPayNotifyAnswer(false, String(error))),
          )
        })
      })
      await new Promise<void>((resolve) => notifyServer.listen(0, '127.0.0.1', resolve))
      const { port } = notifyServer.address() as AddressInfo
      t = await createTestApp({
        dialect,
        now,
        env: {
          WECHAT_API_BASE_URL: sim.baseUrl,
          WECHAT_PAY_API_BASE_URL: sim.baseUrl,
          WECHAT_PAY_NOTIFY_URL: `http://127.0.0.1:${port}/api/v1/payment/notify`,
          RECONCILE_MIN_AGE_S: '0',
        },
      })
    })
    after(async () => {
      await t.close()
      await sim.close()
      await new Promise((resolve) => notifyServer.close(resolve))
    })

    async function prepaidOrder(openId: string, productId = 'credits_100') {
      const { prepay, ...order } = await orderAndPrepay(t, openId, { productId })
      assert.equal(prepay.statusCode, 200, prepay.body)
      return order
    }

    async function status(headers: Record<string, string>, outTradeNo: string) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/payment/orders/${outTradeNo}`,
        headers,
      })
      return res.json<{ status: string }>().status
    }

    async function credits(headers: Record<string, string>) {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/user/credits', headers })
      return res.json<{ credits: number }>().credits
    }

    it('records a notified payment once and WeChat hears SUCCESS', async () => {
      const { headers, outTradeNo } = await prepaidOrder('o_flow_notify')
      const paid = await sim.phone.pay(outTradeNo)
      assert.equal(paid.notification?.ok, true)
      assert.equal(await status(headers, outTradeNo), 'paid')
      assert.equal(await credits(headers), 100)
      assert.equal(sim.platform.order(outTradeNo)?.tradeState, 'SUCCESS')
    })

    it('finds a payment whose notification never arrives by reconciliation (orderquery)', async () => {
      const { headers, outTradeNo } = await prepaidOrder('o_flow_lost', 'credits_500')
      await sim.phone.pay(outTradeNo, { deliver: false })
      assert.equal(await status(headers, outTradeNo), 'pending')
      const report = await t.app.reconcileJob.runOnce()
      assert.ok(report.paid >= 1, JSON.stringify(report))
      assert.equal(await status(headers, outTradeNo), 'paid')
      assert.equal(await credits(headers), 500)
      const ledger = await t.db
        .selectFrom('credit_ledger')
        .select('id')
        .where('ref', '=', outTradeNo)
        .execute()
      assert.equal(ledger.length, 1)
      const metrics = await t.app.inject({ method: 'GET', url: '/metrics' })
      assert.match(
        metrics.body,
        /wxgate_orders_paid_total\{[^}]*source="reconciliation"[^}]*\} [1-9]/,
      )
    })

    it('closes an expired order with closeorder, and records it paid when WeChat says ORDERPAID', async () => {
      const unpaid = await prepaidOrder('o_flow_expire')
      const paidLate = await prepaidOrder('o_flow_orderpaid')
      await sim.phone.pay(paidLate.outTradeNo, { deliver: false })
      offsetMs += 7201_000
      try {
        await t.app.reconcileJob.runOnce()
      } finally {
        offsetMs -= 7201_000
      }
      assert.equal(await status(unpaid.headers, unpaid.outTradeNo), 'closed')
      assert.equal(sim.platform.order(unpaid.outTradeNo)?.tradeState, 'CLOSED')
      assert.equal(await status(paidLate.headers, paidLate.outTradeNo), 'paid')
      assert.equal(await credits(paidLate.headers), 100)
      const closeCalls = sim.records.apiCalls.filter((c) => c.api === '/pay/closeorder')
      assert.ok(closeCalls.length >= 2)
    })

    it('answers 409 when WeChat says ORDERPAID, also when asking WeChat about it then fails', async () => {
      sim.platform.failNext('/pay/unifiedorder', 'ORDERPAID')
      sim.platform.failNext('/pay/orderquery', 'SYSTEMERROR')
      const { headers, outTradeNo, prepay: res } = await orderAndPrepay(t, 'o_flow_orderpaid')
      assert.equal(res.statusCode, 409, res.body)
      assert.equal(res.json<{ code: string }>().code, 'ORDER_ALREADY_PAID')
      assert.equal(await status(headers, outTradeNo), 'pending', 'nothing recorded without WeChat')
    })

    it('prepares JSAPI and MWEB payments that WeChat accepts', async () => {
      for (const tradeType of ['JSAPI', 'MWEB'] as const) {
        // A JSAPI payer must be a user of this Official Account (WeChat checks appid + openid).
        sim.platform.addUser({ openId: `o_flow_${tradeType}`, subscribed: true })
        const { outTradeNo, prepay } = await orderAndPrepay(t, `o_flow_${tradeType}`, { tradeType })
        assert.equal(prepay.statusCode, 200, prepay.body)
        const body = prepay.json<{ prepay_id: string; mweb_url?: string; pay_params?: object }>()
        assert.equal(sim.platform.order(outTradeNo)?.prepayId, body.prepay_id)
        if (tradeType === 'MWEB') assert.match(body.mweb_url ?? '', /^https?:\/\//)
        else assert.ok(body.pay_params)
      }
    })

    it('survives an access token invalidated mid-run (40001): one refresh, then success', async () => {
      // A login QR code is made with the access token.
      const qrCode = () => t.app.inject({ method: 'POST', url: '/api/v1/auth/wechat/qrcode' })
      assert.equal((await qrCode()).statusCode, 200)
      const tokensBefore = sim.records.tokenRequests.length
      sim.platform.invalidateAccessTokens()
      const afterInvalidation = await qrCode()
      assert.equal(afterInvalidation.statusCode, 200, afterInvalidation.body)
      assert.equal(sim.records.tokenRequests.length, tokensBefore + 1)
      assert.ok(sim.records.apiCalls.some((c) => c.errcode === 40001))
    })
  })
}

describe('unifiedorder against WeChat Pay answers that must not be used', () => {
  // A stand-in for WeChat Pay answering every unifiedorder with `answer`: a real client refuses each.
  let answer = ''
  let payServer: Server
  let t: TestApp
  before(async () => {
    payServer = createServer((req, res) => {
      req.resume()
      req.on('end', () => res.end(answer))
    })
    await new Promise<void>((resolve) => payServer.listen(0, '127.0.0.1', resolve))
    const { port } = payServer.address() as AddressInfo
    t = await createTestApp({
      dialect: 'sqlite',
      env: { WECHAT_PAY_API_BASE_URL: `http://127.0.0.1:${port}` },
    })
  })
  after(async () => {
    await t.close()
    await new Promise((resolve) => payServer.close(resolve))
  })

  const success = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: TEST_ENV.WECHAT_APPID,
    mch_id: TEST_ENV.WECHAT_PAY_MCHID,
    nonce_str: 'n0nce',
    result_code: 'SUCCESS',
    trade_type: 'NATIVE',
    prepay_id: 'wx_prepay_forged',
    code_url: 'weixin://wxpay/bizpayurl?pr=forged',
  }
  const cases = {
    'signed with another key': renderSignedPayXml(success, 'a'.repeat(32)),
    'for another merchant': renderSignedPayXml(
      { ...success, mch_id: '1900000999' },
      TEST_ENV.WECHAT_PAY_API_KEY,
    ),
  }
  for (const [name, xml] of Object.entries(cases)) {
    it(`answers 502 WECHAT_BAD_ANSWER for an answer ${name}, and keeps the order unprepared`, async () => {
      answer = xml
      const { userId, outTradeNo, prepay } = await orderAndPrepay(t, `o_bad_answer_${name.length}`)
      assert.equal(prepay.statusCode, 502, prepay.body)
      assert.equal(prepay.json<{ code: string }>().code, 'WECHAT_BAD_ANSWER')
      const row = await t.app.ctx.orders.findOwned(userId, outTradeNo)
      assert.equal(row.prepay_id, null, 'the forged prepay id was not kept')
    })
  }
})
