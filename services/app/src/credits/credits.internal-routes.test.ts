import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { testDialects } from '../db/test-databases.js'
import { createFakePay } from '../testing/fake-pay.js'
import { createTestApp, type TestApp } from '../testing/test-app.js'

const PATH = '/api/v1/internal/credits/consume'

for (const dialect of testDialects()) {
  describe(`internal credits/consume (${dialect})`, () => {
    let t: TestApp
    before(async () => {
      t = await createTestApp({ dialect, pay: createFakePay().pay })
    })
    after(async () => {
      await t.close()
    })

    async function richUser(openId: string) {
      const { headers } = await t.login(openId)
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        headers,
        payload: { product_id: 'credits_100' },
      })
      const outTradeNo = created.json<{ out_trade_no: string }>().out_trade_no
      await t.internal('PUT', '/api/v1/internal/payment/order/update', {
        out_trade_no: outTradeNo,
        transaction_id: '4200000000000000100',
        total_fee: 990,
        trade_state: 'SUCCESS',
        paid_at: '2026-11-25T08:00:00.000Z',
      })
      return headers
    }

    const consume = (openid: string, amount: number, key: string) =>
      t.internal('POST', PATH, { openid, amount, reason: 'ai_chat', idempotency_key: key })

    it('consumes and returns the first result for a repeated key', async () => {
      await richUser('o_c1')
      const first = await consume('o_c1', 30, 'k-1')
      assert.equal(first.statusCode, 200, first.body)
      const body = first.json<{ credits: number; record: { id: number; change: number } }>()
      assert.equal(body.credits, 70)
      assert.equal(body.record.change, -30)
      const repeat = await consume('o_c1', 30, 'k-1')
      assert.deepEqual(repeat.json(), first.json())
    })

    it('answers 409 when the balance is short, 404 for an unknown user, 400 for a bad amount', async () => {
      const headers = await richUser('o_c2')
      const short = await consume('o_c2', 101, 'k-2')
      assert.equal(short.statusCode, 409)
      assert.equal(short.json<{ code: string }>().code, 'INSUFFICIENT_CREDITS')
      assert.equal((await consume('o_nobody', 1, 'k-3')).statusCode, 404)
      assert.equal((await consume('o_c2', 0, 'k-4')).statusCode, 400)
      assert.equal((await consume('o_c2', -5, 'k-5')).statusCode, 400)
      // 1e20 is an integer to JSON Schema, but no balance holds it exactly: bad input, not a short balance.
      const huge = await consume('o_c2', 1e20, 'k-8')
      assert.equal(huge.statusCode, 400, huge.body)
      assert.equal(huge.json<{ code: string }>().code, 'VALIDATION_FAILED')
      // JSON arrives typed: a string amount or a numeric openid is the caller's mistake, not coerced.
      const typed = [
        { openid: 'o_c2', amount: '10', reason: 'x', idempotency_key: 'k-6' },
        { openid: 123, amount: 10, reason: 'x', idempotency_key: 'k-7' },
      ]
      for (const body of typed) {
        const res = await t.internal('POST', PATH, body)
        assert.equal(res.statusCode, 400, JSON.stringify(body))
      }
      const balance = await t.app.inject({ method: 'GET', url: '/api/v1/user/credits', headers })
      assert.deepEqual(balance.json(), { credits: 100 }, 'nothing was consumed')
    })

    it('consumes once for 20 concurrent calls with one key and never goes negative', async () => {
      const headers = await richUser('o_c3')
      const same = await Promise.all(Array.from({ length: 20 }, () => consume('o_c3', 10, 'same')))
      assert.ok(same.every((r) => r.statusCode === 200))
      const rush = await Promise.all(
        Array.from({ length: 20 }, (_, i) => consume('o_c3', 10, `rush-${i}`)),
      )
      assert.equal(rush.filter((r) => r.statusCode === 200).length, 9)
      assert.ok(rush.every((r) => r.statusCode === 200 || r.statusCode === 409))
      const credits = await t.app.inject({ method: 'GET', url: '/api/v1/user/credits', headers })
      assert.deepEqual(credits.json(), { credits: 0 })
    })
  })
}
