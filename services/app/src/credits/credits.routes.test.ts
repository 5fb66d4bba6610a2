import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { testDialects } from '../db/test-databases.js'
import { createFakePay } from '../testing/fake-pay.js'
import { createTestApp, type TestApp } from '../testing/test-app.js'

for (const dialect of testDialects()) {
  describe(`user credits routes (${dialect})`, () => {
    let t: TestApp

    before(async () => {
      t = await createTestApp({ dialect, pay: createFakePay().pay })
    })
    after(async () => {
      await t.close()
    })

    async function buy(headers: Record<string, string>, productId: string, fee: number) {
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        headers,
        payload: { product_id: productId },
      })
      const { out_trade_no: outTradeNo } = created.json<{ out_trade_no: string }>()
      const res = await t.internal('PUT', '/api/v1/internal/payment/order/update', {
        out_trade_no: outTradeNo,
        transaction_id: `42000000${outTradeNo.slice(-10)}`,
        total_fee: fee,
        trade_state: 'SUCCESS',
        paid_at: '2026-11-25T08:00:00.000Z',
      })
      assert.equal(res.statusCode, 200, res.body)
      return outTradeNo
    }

    it('refuses every user route without a token, before checking its query', async () => {
      for (const url of [
        '/api/v1/user/credits',
        '/api/v1/user/member-status',
        '/api/v1/user/credits-usage',
        '/api/v1/user/credits-usage?page=0&page_size=1000',
      ]) {
        const res = await t.app.inject({ method: 'GET', url })
        assert.equal(res.statusCode, 401, url)
        assert.equal(res.json<{ code: string }>().code, 'UNAUTHENTICATED')
      }
    })

    it('shows credits, membership and the usage history after purchases and a consume', async () => {
      const { headers } = await t.login('o_wallet')
      const start = await t.app.inject({ method: 'GET', url: '/api/v1/user/credits', headers })
      assert.deepEqual(start.json(), { credits: 0 })
      const notMember = await t.app.inject({
        method: 'GET',
        url: '/api/v1/user/member-status',
        headers,
      })
      assert.deepEqual(notMember.json(), { is_member: false, member_expires_at: null })

      const ref = await buy(headers, 'credits_100', 990)
      await buy(headers, 'member_month', 2990)
      const consumed = await t.internal('POST', '/api/v1/internal/credits/consume', {
        openid: 'o_wallet',
        amount: 40,
        reason: 'ai_chat',
        idempotency_key: 'chat-1',
      })
      assert.equal(consumed.statusCode, 200, consumed.body)

      const credits = await t.app.inject({ method: 'GET', url: '/api/v1/user/credits', headers })
      assert.deepEqual(credits.json(), { credits: 60 })
      const member = await t.app.inject({
        method: 'GET',
        url: '/api/v1/user/member-status',
        headers,
      })
      const memberBody = member.json<{ is_member: boolean; member_expires_at: string }>()
      assert.equal(memberBody.is_member, true)
      assert.ok(Date.parse(memberBody.member_expires_at) > Date.now() + 29 * 86_400_000)

      const usage = await t.app.inject({
        method: 'GET',
        url: '/api/v1/user/credits-usage?page=1&page_size=2',
        headers,
      })
      assert.equal(usage.statusCode, 200)
      const body = usage.json<{
        records: { change: number; balance_after: number; reason: string; ref: string }[]
        total: number
        page: number
        page_size: number
      }>()
      assert.equal(body.total, 3)
      assert.equal(body.page_size, 2)
      assert.deepEqual(body.records[0], {
        ...body.records[0],
        change: -40,
        balance_after: 60,
        reason: 'ai_chat',
        ref: 'chat-1',
      })
      const rest = await t.app.inject({
        method: 'GET',
        url: '/api/v1/user/credits-usage?page=2&page_size=2',
        headers,
      })
      const last = rest.json<{ records: { change: number; reason: string; ref: string }[] }>()
        .records
      assert.deepEqual(
        last.map((r) => [r.change, r.reason, r.ref]),
        [[100, 'purchase', ref]],
      )
      const invalid = await t.app.inject({
        method: 'GET',
        url: '/api/v1/user/credits-usage?page=0',
        headers,
      })
      assert.equal(invalid.statusCode, 400)
    })
  })
}
