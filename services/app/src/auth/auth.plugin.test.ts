// Tests for `authenticate`: a correctly signed token whose user is no longer the one stored is refused.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { testDialects } from '../db/test-databases.js'
import { createFakePay } from '../testing/fake-pay.js'
import { createTestApp, type TestApp } from '../testing/test-app.js'

const USER_ROUTES = [
  { method: 'GET', url: '/api/v1/user/credits' },
  { method: 'GET', url: '/api/v1/user/member-status' },
  { method: 'GET', url: '/api/v1/user/credits-usage' },
  { method: 'GET', url: '/api/v1/auth/wechat/check-follow' },
  { method: 'GET', url: '/api/v1/payment/orders' },
  { method: 'POST', url: '/api/v1/payment/create-order', payload: { product_id: 'credits_100' } },
] as const

for (const dialect of testDialects()) {
  describe(`authenticate (${dialect})`, () => {
    let t: TestApp

    before(async () => {
      t = await createTestApp({ dialect, pay: createFakePay().pay })
    })
    after(async () => {
      await t.close()
    })

    async function orderCount(): Promise<number> {
      const row = await t.db
        .selectFrom('payment_orders')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
      return Number(row.n)
    }

    async function expectRefused(token: string, label: string) {
      const before = await orderCount()
      for (const route of USER_ROUTES) {
        const res = await t.app.inject({
          ...route,
          headers: { authorization: `Bearer ${token}` },
        })
        assert.equal(res.statusCode, 401, `${label}: ${route.method} ${route.url} ${res.body}`)
        assert.equal(res.json<{ code: string }>().code, 'UNAUTHENTICATED')
      }
      assert.equal(await orderCount(), before, `${label}: an order was created`)
    }

    it('lets the stored user in on every user route (the check below can pass)', async () => {
      const { headers } = await t.login('o_auth_owner')
      for (const route of USER_ROUTES) {
        const res = await t.app.inject({ ...route, headers })
        assert.equal(res.statusCode, 200, `${route.method} ${route.url} ${res.body}`)
      }
    })

    it('refuses a token whose user id is not stored (a wiped database, JWT_SECRET kept)', async () => {
      const { token } = await t.app.ctx.sessions.issue({ userId: 987_654, openId: 'o_gone' })
      await expectRefused(token, 'unknown id')
    })

    it('refuses a token whose user id now belongs to another openid', async () => {
      const { userId } = await t.login('o_auth_current')
      const { token } = await t.app.ctx.sessions.issue({ userId, openId: 'o_auth_before_reset' })
      await expectRefused(token, 'other openid')
    })
  })
}
