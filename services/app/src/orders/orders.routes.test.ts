import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { testDialects } from '../db/test-databases.js'
import { createFakePay } from '../testing/fake-pay.js'
import { createTestApp, type TestApp } from '../testing/test-app.js'

interface OrderJson {
  out_trade_no: string
  product_id: string
  amount_fen: number
  status: string
  created_at: string
  expires_at: string
  paid_at: string | null
}

for (const dialect of testDialects()) {
  describe(`payment routes (${dialect})`, () => {
    let t: TestApp
    const fake = createFakePay()

    before(async () => {
      t = await createTestApp({ dialect, pay: fake.pay })
    })
    after(async () => {
      await t.close()
    })

    async function createOrder(headers: Record<string, string>, productId = 'credits_100') {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        headers,
        payload: { product_id: productId },
      })
      assert.equal(res.statusCode, 200, res.body)
      return res.json<OrderJson>()
    }

    it('lists the built-in catalog without authentication', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/payment/products' })
      assert.equal(res.statusCode, 200)
      assert.deepEqual(res.json<{ products: unknown[] }>().products[0], {
        id: 'credits_100',
        name: '100 credits',
        price_fen: 990,
        credits: 100,
        member_days: 0,
      })
    })

    it('creates an order priced from the catalog, never from the client', async () => {
      const { headers } = await t.login('o_create')
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        headers,
        payload: { product_id: 'credits_500' },
      })
      assert.equal(res.statusCode, 200)
      const order = res.json<OrderJson>()
      assert.equal(order.amount_fen, 3990)
      assert.equal(order.status, 'pending')
      assert.match(order.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      const priced = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        headers,
        payload: { product_id: 'credits_500', amount_fen: 1 },
      })
      assert.equal(priced.json<OrderJson>().amount_fen, 3990, 'a client-sent amount is ignored')
    })

    it('refuses create-order without a valid token (401), with bad input or an unknown product (400)', async () => {
      const anonymous = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        payload: { product_id: 'credits_100' },
      })
      assert.equal(anonymous.statusCode, 401)
      assert.equal(anonymous.json<{ code: string }>().code, 'UNAUTHENTICATED')
      const forged = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl' },
        payload: { product_id: 'credits_100' },
      })
      assert.equal(forged.statusCode, 401)
      const { headers } = await t.login('o_refusals')
      const missing = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        headers,
        payload: {},
      })
      assert.equal(missing.statusCode, 400)
      assert.equal(missing.json<{ code: string }>().code, 'VALIDATION_FAILED')
      const unknown = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        headers,
        payload: { product_id: 'gold_bar' },
      })
      assert.equal(unknown.statusCode, 400)
      assert.equal(unknown.json<{ code: string }>().code, 'PRODUCT_NOT_FOUND')
    })

    it('refuses every order route without a valid token (401 UNAUTHENTICATED), before checking its input', async () => {
      const routes = [
        {
          method: 'POST',
          url: '/api/v1/payment/create-order',
          payload: { product_id: 'credits_100' },
        },
        {
          method: 'POST',
          url: '/api/v1/payment/unifiedorder',
          payload: { out_trade_no: 'X1', trade_type: 'NATIVE' },
        },
        { method: 'GET', url: '/api/v1/payment/orders' },
        { method: 'GET', url: '/api/v1/payment/orders/X1' },
        // Input the route would refuse with 400: credentials are checked first.
        { method: 'POST', url: '/api/v1/payment/create-order', payload: {} },
        { method: 'POST', url: '/api/v1/payment/create-order' },
        { method: 'POST', url: '/api/v1/payment/unifiedorder', payload: { trade_type: 'CASH' } },
        { method: 'GET', url: '/api/v1/payment/orders?page=abc&status=lost' },
        { method: 'GET', url: '/api/v1/payment/orders/%20bad%20' },
        { method: 'GET', url: `/api/v1/payment/orders/${'x'.repeat(150)}` },
      ] as const
      for (const route of routes) {
        for (const authorization of [undefined, 'Bearer not-a-token', 'Basic dXNlcjpwdw==']) {
          const res = await t.app.inject({
            ...route,
            headers: authorization === undefined ? {} : { authorization },
          })
          assert.equal(res.statusCode, 401, `${route.method} ${route.url} with ${authorization}`)
          assert.equal(res.json<{ code: string }>().code, 'UNAUTHENTICATED')
        }
      }
    })

    it('answers unifiedorder for JSAPI, NATIVE and MWEB and reuses the prepay id', async () => {
      const { headers } = await t.login('o_unified')
      const call = (outTradeNo: string, tradeType: string) =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/payment/unifiedorder',
          headers,
          payload: { out_trade_no: outTradeNo, trade_type: tradeType },
        })
      const first = await createOrder(headers)
      const jsapi = await call(first.out_trade_no, 'JSAPI')
      assert.equal(jsapi.statusCode, 200, jsapi.body)
      const jsapiBody = jsapi.json<{ prepay_id: string; pay_params: Record<string, string> }>()
      assert.deepEqual(Object.keys(jsapiBody.pay_params).sort(), [
        'appId',
        'nonceStr',
        'package',
        'paySign',
        'signType',
        'timeStamp',
      ])
      const repeat = await call(first.out_trade_no, 'JSAPI')
      assert.equal(repeat.json<{ prepay_id: string }>().prepay_id, jsapiBody.prepay_id)
      const otherType = await call(first.out_trade_no, 'NATIVE')
      assert.equal(otherType.statusCode, 409)
      assert.equal(otherType.json<{ code: string }>().code, 'ORDER_TRADE_TYPE_MISMATCH')

      const second = await createOrder(headers)
      const native = (await call(second.out_trade_no, 'NATIVE')).json<{
        trade_type: string
        code_url: string
      }>()
      assert.equal(native.trade_type, 'NATIVE')
      assert.match(native.code_url, /^weixin:\/\//)
      const third = await createOrder(headers)
      const mweb = (await call(third.out_trade_no, 'MWEB')).json<{
        trade_type: string
        mweb_url: string
      }>()
      assert.equal(mweb.trade_type, 'MWEB')
      assert.match(mweb.mweb_url, /^https:\/\//)
      const bad = await call(third.out_trade_no, 'APP')
      assert.equal(bad.statusCode, 400)
    })

    it("answers 404 for another user's order and 409 for a paid one", async () => {
      const owner = await t.login('o_owner')
      const stranger = await t.login('o_stranger')
      const order = await createOrder(owner.headers)
      const asStranger = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/unifiedorder',
        headers: stranger.headers,
        payload: { out_trade_no: order.out_trade_no, trade_type: 'NATIVE' },
      })
      assert.equal(asStranger.statusCode, 404)
      const detail = await t.app.inject({
        method: 'GET',
        url: `/api/v1/payment/orders/${order.out_trade_no}`,
        headers: stranger.headers,
      })
      assert.equal(detail.statusCode, 404)
      const paid = await t.internal('PUT', '/api/v1/internal/payment/order/update', {
        out_trade_no: order.out_trade_no,
        transaction_id: '4200000000000000010',
        total_fee: 990,
        trade_state: 'SUCCESS',
        paid_at: '2026-11-25T08:00:00.000Z',
      })
      assert.equal(paid.statusCode, 200, paid.body)
      const again = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/unifiedorder',
        headers: owner.headers,
        payload: { out_trade_no: order.out_trade_no, trade_type: 'NATIVE' },
      })
      assert.equal(again.statusCode, 409)
      assert.equal(again.json<{ code: string }>().code, 'ORDER_ALREADY_PAID')
    })

    it('lists only the caller’s orders, paged and filtered by status', async () => {
      const me = await t.login('o_lister')
      const other = await t.login('o_lister_other')
      const created = []
      for (let i = 0; i < 3; i += 1) created.push(await createOrder(me.headers))
      await createOrder(other.headers)
      await t.internal('PUT', '/api/v1/internal/payment/order/update', {
        out_trade_no: created[0]?.out_trade_no,
        transaction_id: '4200000000000000011',
        total_fee: 990,
        trade_state: 'SUCCESS',
        paid_at: '2026-11-25T08:00:00.000Z',
      })
      const page = await t.app.inject({
        method: 'GET',
        url: '/api/v1/payment/orders?page=1&page_size=2',
        headers: me.headers,
      })
      assert.equal(page.statusCode, 200)
      const body = page.json<{
        orders: OrderJson[]
        total: number
        page: number
        page_size: number
      }>()
      assert.equal(body.total, 3)
      assert.equal(body.page_size, 2)
      assert.deepEqual(
        body.orders.map((o) => o.out_trade_no),
        [created[2]?.out_trade_no, created[1]?.out_trade_no],
      )
      const paid = await t.app.inject({
        method: 'GET',
        url: '/api/v1/payment/orders?status=paid',
        headers: me.headers,
      })
      const paidBody = paid.json<{ orders: OrderJson[]; total: number }>()
      assert.equal(paidBody.total, 1)
      assert.equal(paidBody.orders[0]?.status, 'paid')
      assert.ok(paidBody.orders[0]?.paid_at)
      const invalid = await t.app.inject({
        method: 'GET',
        url: '/api/v1/payment/orders?page_size=0&status=lost',
        headers: me.headers,
      })
      assert.equal(invalid.statusCode, 400)
      const anonymous = await t.app.inject({ method: 'GET', url: '/api/v1/payment/orders' })
      assert.equal(anonymous.statusCode, 401)
    })

    it('shows one order to its owner and 404 for an unknown number', async () => {
      const me = await t.login('o_detail')
      const order = await createOrder(me.headers, 'member_month')
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/payment/orders/${order.out_trade_no}`,
        headers: me.headers,
      })
      assert.equal(res.statusCode, 200)
      assert.equal(res.json<OrderJson>().product_id, 'member_month')
      const unknown = await t.app.inject({
        method: 'GET',
        url: '/api/v1/payment/orders/NOSUCHORDER',
        headers: me.headers,
      })
      assert.equal(unknown.statusCode, 404)
      assert.equal(unknown.json<{ code: string }>().code, 'ORDER_NOT_FOUND')
      // However the number looks: 404, never 400 that would tell it apart from a real one.
      for (const number of ['does.not.exist', 'x'.repeat(40), 'x'.repeat(101), '%E4%B8%AD%20%27']) {
        const odd = await t.app.inject({
          method: 'GET',
          url: `/api/v1/payment/orders/${number}`,
          headers: me.headers,
        })
        assert.equal(odd.statusCode, 404, number)
      }
      const prepay = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/unifiedorder',
        headers: me.headers,
        payload: { out_trade_no: 'no such order, really', trade_type: 'NATIVE' },
      })
      assert.equal(prepay.statusCode, 404)
    })
  })

  describe(`expired orders as their owner sees them (${dialect})`, () => {
    let t: TestApp
    let clock = Date.parse('2026-11-25T08:00:00.000Z')

    before(async () => {
      t = await createTestApp({ dialect, pay: createFakePay().pay, now: () => clock })
    })
    after(async () => {
      await t.close()
    })

    it('shows a pending order past expires_at as closed, before reconciliation closes it', async () => {
      const me = await t.login('o_expiring')
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        headers: me.headers,
        payload: { product_id: 'credits_100' },
      })
      const order = created.json<OrderJson & { closed_at: string | null }>()
      assert.equal(order.status, 'pending')
      const fresh = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        headers: me.headers,
        payload: { product_id: 'credits_500' },
      })
      assert.equal(fresh.statusCode, 200)
      clock = Date.parse(order.expires_at) + 1000
      const later = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        headers: me.headers,
        payload: { product_id: 'member_month' },
      })
      const laterOrder = later.json<OrderJson>()

      const detail = await t.app.inject({
        method: 'GET',
        url: `/api/v1/payment/orders/${order.out_trade_no}`,
        headers: me.headers,
      })
      assert.equal(detail.statusCode, 200)
      const shown = detail.json<OrderJson & { closed_at: string | null }>()
      assert.equal(shown.status, 'closed')
      assert.equal(shown.closed_at, order.expires_at)

      async function list(status: string) {
        const res = await t.app.inject({
          method: 'GET',
          url: `/api/v1/payment/orders?status=${status}`,
          headers: me.headers,
        })
        assert.equal(res.statusCode, 200)
        return res.json<{ orders: OrderJson[]; total: number }>()
      }
      const closed = await list('closed')
      assert.equal(closed.total, 2)
      assert.deepEqual(
        closed.orders.map((o) => o.status),
        ['closed', 'closed'],
      )
      const pending = await list('pending')
      assert.equal(pending.total, 1)
      assert.equal(pending.orders[0]?.out_trade_no, laterOrder.out_trade_no)

      const prepay = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/unifiedorder',
        headers: me.headers,
        payload: { out_trade_no: order.out_trade_no, trade_type: 'NATIVE' },
      })
      assert.equal(prepay.statusCode, 409)

      // Reconciliation closes the row later; what the owner sees does not change.
      const report = await t.app.reconcileJob.runOnce()
      assert.equal(report.closed, 2)
      const reconciled = await t.app.inject({
        method: 'GET',
        url: `/api/v1/payment/orders/${order.out_trade_no}`,
        headers: me.headers,
      })
      assert.deepEqual(reconciled.json(), shown)
    })

    it('lists as pending only orders it shows pending, when one expires while the list runs', async () => {
      const me = await t.login('o_expiring_mid_list')
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        headers: me.headers,
        payload: { product_id: 'credits_100' },
      })
      const order = created.json<OrderJson>()
      clock = Date.parse(order.expires_at) - 1
      // The list's queries take 2 ms of the clock, across the order's expiry.
      const list = t.app.ctx.orders.list.bind(t.app.ctx.orders)
      t.app.ctx.orders.list = async (...args) => {
        const result = await list(...args)
        clock += 2
        return result
      }
      try {
        const res = await t.app.inject({
          method: 'GET',
          url: '/api/v1/payment/orders?status=pending',
          headers: me.headers,
        })
        const shown = res.json<{ orders: OrderJson[]; total: number }>()
        assert.equal(shown.total, 1)
        assert.deepEqual(
          shown.orders.map((o) => [o.out_trade_no, o.status]),
          [[order.out_trade_no, 'pending']],
        )
      } finally {
        t.app.ctx.orders.list = list
      }
    })
  })
}

describe('payment routes without WeChat Pay configured', () => {
  it('creates orders but answers unifiedorder 503 PAY_NOT_CONFIGURED, changing nothing', async () => {
    const t = await createTestApp({
      dialect: 'sqlite',
      env: {
        WECHAT_PAY_MCHID: undefined,
        WECHAT_PAY_API_KEY: undefined,
        WECHAT_PAY_NOTIFY_URL: undefined,
      },
    })
    try {
      const { headers } = await t.login('o_no_pay')
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        headers,
        payload: { product_id: 'credits_100' },
      })
      assert.equal(created.statusCode, 200, created.body)
      const order = created.json<OrderJson>()
      const prepay = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/unifiedorder',
        headers,
        payload: { out_trade_no: order.out_trade_no, trade_type: 'NATIVE' },
      })
      assert.equal(prepay.statusCode, 503)
      assert.equal(prepay.json<{ code: string }>().code, 'PAY_NOT_CONFIGURED')
      const detail = await t.app.inject({
        method: 'GET',
        url: `/api/v1/payment/orders/${order.out_trade_no}`,
        headers,
      })
      assert.deepEqual(detail.json(), order)
    } finally {
      await t.close()
    }
  })
})
