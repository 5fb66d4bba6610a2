import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { testDialects } from '../db/test-databases.js'
import { createFakePay } from '../testing/fake-pay.js'
import { createTestApp, type TestApp } from '../testing/test-app.js'

const PATH = '/api/v1/internal/payment/order/update'

for (const dialect of testDialects()) {
  describe(`internal payment/order/update (${dialect})`, () => {
    let t: TestApp
    before(async () => {
      t = await createTestApp({ dialect, pay: createFakePay().pay })
    })
    after(async () => {
      await t.close()
    })

    async function order(openId: string) {
      const { headers } = await t.login(openId)
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        headers,
        payload: { product_id: 'credits_100' },
      })
      return { headers, outTradeNo: res.json<{ out_trade_no: string }>().out_trade_no }
    }

    const update = (outTradeNo: string, fields: Record<string, unknown> = {}) =>
      t.internal('PUT', PATH, {
        out_trade_no: outTradeNo,
        transaction_id: '4200000000000000099',
        total_fee: 990,
        trade_state: 'SUCCESS',
        paid_at: '2026-11-25T08:00:00.000Z',
        ...fields,
      })

    it('marks paid once and answers changed:false on repeats', async () => {
      const { headers, outTradeNo } = await order('o_upd')
      const first = await update(outTradeNo)
      assert.equal(first.statusCode, 200, first.body)
      const body = first.json<{ order: { status: string; paid_at: string }; changed: boolean }>()
      assert.equal(body.changed, true)
      assert.equal(body.order.status, 'paid')
      assert.equal(body.order.paid_at, '2026-11-25T08:00:00.000Z')
      const second = await update(outTradeNo)
      assert.equal(second.json<{ changed: boolean }>().changed, false)
      const credits = await t.app.inject({ method: 'GET', url: '/api/v1/user/credits', headers })
      assert.deepEqual(credits.json(), { credits: 100 })
    })

    it('pays once for 20 concurrent updates of one order', async () => {
      const { headers, outTradeNo } = await order('o_upd_race')
      const answers = await Promise.all(Array.from({ length: 20 }, () => update(outTradeNo)))
      assert.ok(answers.every((a) => a.statusCode === 200))
      assert.equal(answers.filter((a) => a.json<{ changed: boolean }>().changed).length, 1)
      const credits = await t.app.inject({ method: 'GET', url: '/api/v1/user/credits', headers })
      assert.deepEqual(credits.json(), { credits: 100 })
      const ledger = await t.db
        .selectFrom('credit_ledger')
        .select('id')
        .where('ref', '=', outTradeNo)
        .execute()
      assert.equal(ledger.length, 1)
    })

    it('answers 409 to an amount mismatch and 404 to an unknown order, moving nothing', async () => {
      const { headers, outTradeNo } = await order('o_upd_bad')
      const mismatch = await update(outTradeNo, { total_fee: 1 })
      assert.equal(mismatch.statusCode, 409)
      assert.equal(mismatch.json<{ code: string }>().code, 'ORDER_AMOUNT_MISMATCH')
      const unknown = await update('UNKNOWN000000000000000')
      assert.equal(unknown.statusCode, 404)
      const detail = await t.app.inject({
        method: 'GET',
        url: `/api/v1/payment/orders/${outTradeNo}`,
        headers,
      })
      assert.equal(detail.json<{ status: string }>().status, 'pending')
    })

    it('records nothing for a trade_state other than SUCCESS', async () => {
      const { outTradeNo } = await order('o_upd_notpay')
      const res = await update(outTradeNo, { trade_state: 'PAYERROR' })
      assert.equal(res.statusCode, 200)
      const body = res.json<{ order: { status: string }; changed: boolean }>()
      assert.deepEqual([body.order.status, body.changed], ['pending', false])
    })

    it('refuses a body that is not the contract’s (400)', async () => {
      const res = await t.internal('PUT', PATH, { out_trade_no: 'X', total_fee: 'lots' })
      assert.equal(res.statusCode, 400)
    })

    it('refuses a paid_at the format accepts but no answer could show (400), moving nothing', async () => {
      const { headers, outTradeNo } = await order('o_upd_paid_at')
      const before = await t.app.inject({ method: 'GET', url: '/api/v1/user/credits', headers })
      for (const paidAt of [
        '2026-12-05T23:59:60Z', // a leap second: no Date holds it
        '9999-12-31T23:59:59-23:59', // year 10000 once the offset is applied
        '0000-01-01T00:00:00+01:00', // year -1
      ]) {
        const res = await update(outTradeNo, { paid_at: paidAt })
        assert.equal(res.statusCode, 400, paidAt)
        assert.equal(res.json<{ code: string }>().code, 'VALIDATION_FAILED')
      }
      const detail = await t.app.inject({
        method: 'GET',
        url: `/api/v1/payment/orders/${outTradeNo}`,
        headers,
      })
      assert.equal(detail.json<{ status: string }>().status, 'pending')
      const after = await t.app.inject({ method: 'GET', url: '/api/v1/user/credits', headers })
      assert.deepEqual(after.json(), before.json())
      assert.equal((await update(outTradeNo)).statusCode, 200, 'a plain time still pays it')
    })
  })
}
