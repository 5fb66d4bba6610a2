import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyBaseLogger } from 'fastify'
import { createCreditsService } from '../credits/credits.service.js'
import { createTestDatabase, testDialects, type TestDatabase } from '../db/test-databases.js'
import { createReconcileJob } from '../jobs/reconcile-orders.js'
import { BUILT_IN_CATALOG, createCatalog } from '../products/products.catalog.js'
import { createFakePay } from '../testing/fake-pay.js'
import { createUsersService } from '../users/users.service.js'
import { createOrdersService, MWEB_URL_REUSE_MS, PREPAY_REUSE_MS } from './orders.service.js'
import type { OrderRow } from './orders.table.js'

const DAY = 86_400_000
const silentLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
} as unknown as FastifyBaseLogger

function errorCode(code: string) {
  return (error: { code?: string }) => error.code === code
}

for (const dialect of testDialects()) {
  describe(`orders service (${dialect})`, () => {
    let database: TestDatabase
    let clock = Date.parse('2026-11-25T08:00:00.000Z')
    const now = () => clock
    const fake = createFakePay()
    const paidEvents: string[] = []
    let orders: ReturnType<typeof createOrdersService>
    let users: ReturnType<typeof createUsersService>
    let credits: ReturnType<typeof createCreditsService>

    async function newUser(openId: string) {
      return (await users.createOrUpdate({ openId, subscribed: true })).user
    }

    /** A new credits_100 order of `user` and the unifiedorder input for it, but for the trade type. */
    async function orderWithInput(
      user: { id: number; openid: string },
      { service = orders, clientIp = '127.0.0.1' } = {},
    ) {
      const order = await service.createOrder({
        userId: user.id,
        openId: user.openid,
        productId: 'credits_100',
      })
      const input = {
        userId: user.id,
        openId: user.openid,
        outTradeNo: order.out_trade_no,
        clientIp,
      }
      return { order, input }
    }

    async function userRow(id: number) {
      const row = await users.findById(id)
      assert.ok(row)
      return row
    }

    function payment(outTradeNo: string, totalFee: number, tradeState = 'SUCCESS') {
      return {
        outTradeNo,
        transactionId: `4200000${outTradeNo.slice(-8)}`,
        totalFee,
        tradeState,
        paidAt: new Date(clock),
      }
    }

    /** An orders service on the test database, as one app instance has it. */
    function ordersService() {
      return createOrdersService({
        db: database.db,
        now,
        pay: fake.pay,
        catalog: createCatalog(BUILT_IN_CATALOG),
        notifyUrl: 'https://example.com/notify',
        orderExpireS: 7200,
        onPaid: (order) => paidEvents.push(order.out_trade_no),
      })
    }

    before(async () => {
      database = await createTestDatabase(dialect)
      users = createUsersService({ db: database.db, now })
      credits = createCreditsService({ db: database.db, now })
      orders = ordersService()
    })
    after(async () => {
      await database.destroy()
    })

    it('creates a pending order priced from the catalog', async () => {
      const user = await newUser('o_create')
      const order = await orders.createOrder({
        userId: user.id,
        openId: user.openid,
        productId: 'credits_500',
      })
      assert.equal(order.status, 'pending')
      assert.equal(order.amount_fen, 3990)
      assert.equal(order.credits, 500)
      assert.equal(order.expires_at, clock + 7200_000)
      assert.match(order.out_trade_no, /^[0-9A-Z]{30}$/)
    })

    it('refuses an unknown product with PRODUCT_NOT_FOUND', async () => {
      const user = await newUser('o_unknown_product')
      await assert.rejects(
        orders.createOrder({ userId: user.id, openId: user.openid, productId: 'free_money' }),
        errorCode('PRODUCT_NOT_FOUND'),
      )
    })

    it('pays an order once: status, credits, ledger row, all together', async () => {
      const user = await newUser('o_pay')
      const order = await orders.createOrder({
        userId: user.id,
        openId: user.openid,
        productId: 'credits_100',
      })
      const first = await orders.recordPayment(payment(order.out_trade_no, 990))
      assert.equal(first.changed, true)
      assert.equal(first.order.status, 'paid')
      assert.equal(first.order.paid_at, clock)
      const again = await orders.recordPayment(payment(order.out_trade_no, 990))
      assert.equal(again.changed, false)
      assert.equal((await userRow(user.id)).credits, 100)
      const ledger = await credits.history(user.id, { page: 1, pageSize: 10 })
      assert.equal(ledger.total, 1)
      assert.equal(ledger.records[0]?.reason, 'purchase')
      assert.equal(ledger.records[0]?.ref, order.out_trade_no)
      assert.equal(ledger.records[0]?.balance_after, 100)
      assert.deepEqual(
        paidEvents.filter((o) => o === order.out_trade_no),
        [order.out_trade_no],
      )
    })

    it('pays with user, order and ledger ids past 2^31 (a 32-bit id would fail the payment)', async () => {
      const past = 2 ** 31 + 1_000
      await database.db
        .insertInto('wechat_users')
        .values({
          id: past,
          openid: 'o_wide_ids',
          subscribed: 1,
          created_at: clock,
          updated_at: clock,
        })
        .execute()
      const { order } = await orderWithInput({ id: past, openid: 'o_wide_ids' })
      await database.db
        .updateTable('payment_orders')
        .set({ id: past + 1 })
        .where('id', '=', order.id)
        .execute()
      // The ledger's next id follows the largest one it holds.
      await database.db
        .insertInto('credit_ledger')
        .values({
          id: past + 2,
          user_id: past,
          delta: 0,
          balance_after: 0,
          reason: 'grant',
          idempotency_key: 'wide-ids',
          created_at: clock,
        })
        .execute()
      const paid = await orders.recordPayment(payment(order.out_trade_no, 990))
      assert.equal(paid.order.id, past + 1)
      assert.equal(paid.order.status, 'paid')
      assert.equal((await userRow(past)).credits, 100)
      const ledger = await credits.history(past, { page: 1, pageSize: 10 })
      assert.equal(ledger.records[0]?.id, past + 3)
      assert.equal(ledger.records[0]?.balance_after, 100)
    })

    it('pays once, credits once, one ledger row for 20 concurrent updates', async () => {
      const user = await newUser('o_concurrent')
      const order = await orders.createOrder({
        userId: user.id,
        openId: user.openid,
        productId: 'credits_100',
      })
      const results = await Promise.all(
        Array.from({ length: 20 }, () => orders.recordPayment(payment(order.out_trade_no, 990))),
      )
      assert.equal(results.filter((r) => r.changed).length, 1)
      assert.ok(results.every((r) => r.order.status === 'paid'))
      assert.equal((await userRow(user.id)).credits, 100)
      const rows = await database.db
        .selectFrom('credit_ledger')
        .selectAll()
        .where('ref', '=', order.out_trade_no)
        .execute()
      assert.equal(rows.length, 1)
      assert.equal(await credits.ledgerSum(user.id), 100)
    })

    it('returns the paid order exactly as it is stored', async () => {
      const user = await newUser('o_stored')
      const order = await orders.createOrder({
        userId: user.id,
        openId: user.openid,
        productId: 'credits_100',
      })
      const { order: returned } = await orders.recordPayment({
        ...payment(order.out_trade_no, 990),
        openId: 'o_payer',
      })
      assert.deepEqual(returned, await orders.findOwned(user.id, order.out_trade_no))
      assert.equal(returned.payer_openid, 'o_payer')
    })

    it('keeps every balance_after exact while payments and consumes for one user race', async () => {
      const user = await newUser('o_race')
      const newOrder = () =>
        orders.createOrder({ userId: user.id, openId: user.openid, productId: 'credits_100' })
      await orders.recordPayment(payment((await newOrder()).out_trade_no, 990))
      const racing = await Promise.all(Array.from({ length: 8 }, newOrder))
      await Promise.all([
        ...racing.map((o) => orders.recordPayment(payment(o.out_trade_no, 990))),
        ...Array.from({ length: 8 }, (_, i) =>
          credits.consume({
            openId: user.openid,
            amount: 10,
            reason: 'race',
            idempotencyKey: `r${i}`,
          }),
        ),
      ])
      const rows = await database.db
        .selectFrom('credit_ledger')
        .selectAll()
        .where('user_id', '=', user.id)
        .orderBy('id', 'asc')
        .execute()
      assert.equal(rows.length, 17)
      let balance = 0
      for (const row of rows) {
        balance += row.delta
        assert.equal(row.balance_after, balance)
      }
      assert.equal((await userRow(user.id)).credits, 900 - 80)
      assert.equal(balance, 900 - 80)
    })

    it('refuses an amount mismatch with 409 and does not mark the order paid', async () => {
      const user = await newUser('o_mismatch')
      const order = await orders.createOrder({
        userId: user.id,
        openId: user.openid,
        productId: 'credits_100',
      })
      await assert.rejects(
        orders.recordPayment(payment(order.out_trade_no, 1)),
        errorCode('ORDER_AMOUNT_MISMATCH'),
      )
      const row = await orders.findOwned(user.id, order.out_trade_no)
      assert.equal(row.status, 'pending')
      assert.equal((await userRow(user.id)).credits, 0)
    })

    it('answers ORDER_NOT_FOUND for an unknown order', async () => {
      await assert.rejects(
        orders.recordPayment(payment('NOPE0000000000000000', 990)),
        errorCode('ORDER_NOT_FOUND'),
      )
    })

    it('records nothing for a trade_state other than SUCCESS', async () => {
      const user = await newUser('o_notpay')
      const order = await orders.createOrder({
        userId: user.id,
        openId: user.openid,
        productId: 'credits_100',
      })
      const result = await orders.recordPayment(payment(order.out_trade_no, 990, 'PAYERROR'))
      assert.equal(result.changed, false)
      assert.equal(result.order.status, 'pending')
      assert.equal((await userRow(user.id)).credits, 0)
    })

    it('extends membership from the later of now and the current expiry', async () => {
      const user = await newUser('o_member')
      const buy = async () => {
        const order = await orders.createOrder({
          userId: user.id,
          openId: user.openid,
          productId: 'member_month',
        })
        await orders.recordPayment(payment(order.out_trade_no, 2990))
      }
      await buy()
      assert.equal((await userRow(user.id)).member_expires_at, clock + 30 * DAY)
      const firstExpiry = clock + 30 * DAY
      await buy()
      assert.equal((await userRow(user.id)).member_expires_at, firstExpiry + 30 * DAY)
      clock += 100 * DAY
      await buy()
      assert.equal((await userRow(user.id)).member_expires_at, clock + 30 * DAY)
      const ledger = await credits.history(user.id, { page: 1, pageSize: 10 })
      assert.equal(ledger.total, 3, 'one ledger record per purchase, even without credits')
      assert.ok(ledger.records.every((r) => r.delta === 0 && r.reason === 'purchase'))
    })

    it('reuses a valid prepay id for the same trade type and refuses another type (409)', async () => {
      const user = await newUser('o_prepay')
      const { order, input } = await orderWithInput(user, { clientIp: '::ffff:127.0.0.1' })
      const a = await orders.unifiedOrder({ ...input, tradeType: 'NATIVE' })
      const b = await orders.unifiedOrder({ ...input, tradeType: 'NATIVE' })
      assert.equal(a.prepay_id, b.prepay_id)
      assert.ok(a.trade_type === 'NATIVE' && a.code_url.startsWith('weixin://'))
      await assert.rejects(
        orders.unifiedOrder({ ...input, tradeType: 'JSAPI' }),
        errorCode('ORDER_TRADE_TYPE_MISMATCH'),
      )
      clock += 116 * 60_000
      const renewed = await orders.unifiedOrder({ ...input, tradeType: 'NATIVE' })
      assert.notEqual(renewed.prepay_id, a.prepay_id, 'an old prepay id is renewed, not reused')
      const calls = fake.calls.filter(
        (call) => call.api === 'unifiedorder' && call.outTradeNo === order.out_trade_no,
      )
      assert.equal(calls.length, 2)
    })

    describe('a prepay id WeChat gives again', () => {
      // Like WeChat: within 2 hours a repeat call answers with the prepay id given before (and, for H5, a
      // fresh link: calls are numbered into it); `renew` makes the next call a new prepay id.
      const firstAnswers = new Map<string, Awaited<ReturnType<typeof fake.pay.unifiedOrder>>>()
      const calls: string[] = []
      const weChatLike = () =>
        createOrdersService({
          db: database.db,
          now,
          pay: {
            ...fake.pay,
            async unifiedOrder(input) {
              calls.push(input.outTradeNo)
              const answer =
                firstAnswers.get(input.outTradeNo) ?? (await fake.pay.unifiedOrder(input))
              firstAnswers.set(input.outTradeNo, answer)
              return answer.mwebUrl === undefined
                ? answer
                : { ...answer, mwebUrl: `${answer.mwebUrl}&call=${calls.length}` }
            },
          },
          catalog: createCatalog(BUILT_IN_CATALOG),
          notifyUrl: 'https://example.com/notify',
          orderExpireS: 86_400,
        })
      const callsFor = (outTradeNo: string) => calls.filter((call) => call === outTradeNo).length
      const minutes = (n: number) => {
        clock += n * 60_000
      }

      async function prepare(tradeType: 'JSAPI' | 'MWEB') {
        const service = weChatLike()
        const user = await newUser(`o_again_${tradeType}`)
        const { order, input } = await orderWithInput(user, { service })
        return {
          call: () => service.unifiedOrder({ ...input, tradeType }),
          calls: () => callsFor(order.out_trade_no),
          renew: () => firstAnswers.delete(order.out_trade_no),
        }
      }

      it('is reused until 115 minutes after its first issue, not after the repeat call', async () => {
        const order = await prepare('JSAPI')
        const first = await order.call()
        minutes(1)
        await order.call()
        assert.equal(order.calls(), 1, 'reused')
        minutes(PREPAY_REUSE_MS / 60_000)
        assert.equal((await order.call()).prepay_id, first.prepay_id)
        assert.equal(order.calls(), 2, 'asked again past the window')
        minutes(1)
        await order.call()
        assert.equal(order.calls(), 3, 'the window still counts from the first issue')
        order.renew()
        minutes(5)
        const renewed = await order.call()
        assert.notEqual(renewed.prepay_id, first.prepay_id)
        minutes(1)
        assert.equal((await order.call()).prepay_id, renewed.prepay_id)
        assert.equal(order.calls(), 4, 'a new prepay id is reused from its own issue')
      })

      it('H5: reuses the first link for 4 minutes, then asks WeChat for a fresh one each time', async () => {
        const order = await prepare('MWEB')
        const first = await order.call()
        minutes(MWEB_URL_REUSE_MS / 60_000 - 1)
        await order.call()
        assert.equal(order.calls(), 1, 'reused')
        minutes(2)
        const fresh = await order.call()
        assert.ok(fresh.trade_type === 'MWEB' && first.trade_type === 'MWEB')
        assert.equal(fresh.prepay_id, first.prepay_id)
        assert.notEqual(fresh.mweb_url, first.mweb_url, 'the link WeChat gave now')
        minutes(1)
        await order.call()
        assert.equal(order.calls(), 3)
      })
    })

    it('refuses unifiedorder for another user (404) and for paid or closed orders (409)', async () => {
      const owner = await newUser('o_owner')
      const other = await newUser('o_other')
      const order = await orders.createOrder({
        userId: owner.id,
        openId: owner.openid,
        productId: 'credits_100',
      })
      const input = {
        outTradeNo: order.out_trade_no,
        tradeType: 'NATIVE' as const,
        clientIp: '1.2.3.4',
      }
      await assert.rejects(
        orders.unifiedOrder({ ...input, userId: other.id, openId: other.openid }),
        errorCode('ORDER_NOT_FOUND'),
      )
      await orders.recordPayment(payment(order.out_trade_no, 990))
      await assert.rejects(
        orders.unifiedOrder({ ...input, userId: owner.id, openId: owner.openid }),
        errorCode('ORDER_ALREADY_PAID'),
      )
      const expiring = await orders.createOrder({
        userId: owner.id,
        openId: owner.openid,
        productId: 'credits_100',
      })
      clock += 7200_000
      await assert.rejects(
        orders.unifiedOrder({
          ...input,
          outTradeNo: expiring.out_trade_no,
          userId: owner.id,
          openId: owner.openid,
        }),
        errorCode('ORDER_CLOSED'),
      )
    })

    describe('reconciliation', () => {
      /** A new order of `user`, prepared at WeChat Pay (so WeChat knows it). */
      async function preparedOrder(
        user: { id: number; openid: string },
        productId = 'credits_100',
      ) {
        const order = await orders.createOrder({ userId: user.id, openId: user.openid, productId })
        await orders.unifiedOrder({
          userId: user.id,
          openId: user.openid,
          outTradeNo: order.out_trade_no,
          tradeType: 'NATIVE',
          clientIp: '1.2.3.4',
        })
        return order
      }

      function job(minAgeS = 300) {
        return createReconcileJob({ orders, intervalS: 60, minAgeS, logger: silentLogger })
      }

      it('finds a payment whose notification never arrived, through the same pay path', async () => {
        const user = await newUser('o_lost_notify')
        const order = await preparedOrder(user, 'credits_500')
        fake.markPaid(order.out_trade_no, { transactionId: '4200000000000000001' })
        const tooYoung = await job().runOnce()
        assert.equal(
          (await orders.findOwned(user.id, order.out_trade_no)).status,
          'pending',
          `not asked before RECONCILE_MIN_AGE_S (${JSON.stringify(tooYoung)})`,
        )
        clock += 301_000
        const report = await job().runOnce()
        assert.ok(report.paid >= 1)
        const paid = await orders.findOwned(user.id, order.out_trade_no)
        assert.equal(paid.status, 'paid')
        assert.equal(paid.transaction_id, '4200000000000000001')
        assert.equal((await userRow(user.id)).credits, 500)
        assert.equal(await credits.ledgerSum(user.id), 500)
        // A late notification for the same payment changes nothing.
        const late = await orders.recordPayment(payment(order.out_trade_no, 3990))
        assert.equal(late.changed, false)
        assert.equal((await userRow(user.id)).credits, 500)
      })

      it('asks about an order whose orderquery failed after the others, so it cannot hold them back', async () => {
        const user = await newUser('o_query_fails')
        const failing = await preparedOrder(user)
        const lost = await preparedOrder(user)
        clock += 301_000
        const queue = async () =>
          (await orders.listToReconcile(300_000, 10_000))
            .map((row) => row.out_trade_no)
            .filter((no) => no === failing.out_trade_no || no === lost.out_trade_no)
        assert.deepEqual(await queue(), [failing.out_trade_no, lost.out_trade_no], 'oldest first')
        fake.failQueryOf(failing.out_trade_no)
        try {
          const [row] = await database.db
            .selectFrom('payment_orders')
            .selectAll()
            .where('out_trade_no', '=', failing.out_trade_no)
            .execute()
          assert.ok(row)
          await assert.rejects(orders.queryAndRecord(row), { errCode: 'SYSTEMERROR' })
        } finally {
          fake.failQueryOf(undefined)
        }
        // A pass takes the first 100: a backlog of failing orders used to take every pass.
        assert.deepEqual(await queue(), [lost.out_trade_no, failing.out_trade_no])
      })

      it('asks WeChat once per order when two app instances reconcile at once', async () => {
        const other = ordersService()
        const user = await newUser('o_two_instances')
        const pending = await preparedOrder(user)
        const expiring = await preparedOrder(user)
        clock += 301_000
        const listed = async (service: typeof orders) =>
          (await service.listToReconcile(300_000, 10_000)).filter(
            (row) => row.out_trade_no === pending.out_trade_no,
          )
        // Both list the order before either asks.
        const [mine, theirs] = await Promise.all([listed(orders), listed(other)])
        const asked = () =>
          fake.calls.filter((c) => c.api === 'orderquery' && c.outTradeNo === pending.out_trade_no)
            .length
        const before = asked()
        const answers = await Promise.all([
          orders.queryAndRecord(mine[0] as OrderRow),
          other.queryAndRecord(theirs[0] as OrderRow),
        ])
        assert.equal(answers.filter((a) => a === null).length, 1)
        assert.equal(asked() - before, 1)
        // Expired orders likewise: one closeorder.
        clock += 7200_000
        const expired = async (service: typeof orders) =>
          (await service.listExpired(10_000)).filter(
            (row) => row.out_trade_no === expiring.out_trade_no,
          )
        const [a, b] = await Promise.all([expired(orders), expired(other)])
        const closes = () =>
          fake.calls.filter((c) => c.api === 'closeorder' && c.outTradeNo === expiring.out_trade_no)
            .length
        const outcomes = await Promise.all([
          orders.closeExpired(a[0] as OrderRow),
          other.closeExpired(b[0] as OrderRow),
        ])
        assert.deepEqual(outcomes.sort(), ['closed', 'unchanged'])
        assert.equal(closes(), 1)
      })

      it('closes expired orders, locally and with closeorder when WeChat knows them', async () => {
        const user = await newUser('o_expire')
        const never = await orders.createOrder({
          userId: user.id,
          openId: user.openid,
          productId: 'credits_100',
        })
        const prepaid = await preparedOrder(user)
        clock += 7200_000
        await job().runOnce()
        assert.equal((await orders.findOwned(user.id, never.out_trade_no)).status, 'closed')
        assert.equal((await orders.findOwned(user.id, prepaid.out_trade_no)).status, 'closed')
        assert.ok(
          fake.calls.some((c) => c.api === 'closeorder' && c.outTradeNo === prepaid.out_trade_no),
        )
        assert.ok(
          !fake.calls.some((c) => c.api === 'closeorder' && c.outTradeNo === never.out_trade_no),
          'an order WeChat never saw is closed without asking it',
        )
      })

      it('records the payment when closeorder answers ORDERPAID', async () => {
        const user = await newUser('o_orderpaid')
        const order = await preparedOrder(user)
        fake.markPaid(order.out_trade_no, { transactionId: '4200000000000000002' })
        clock += 7200_000
        await job().runOnce()
        const row = await orders.findOwned(user.id, order.out_trade_no)
        assert.equal(row.status, 'paid')
        assert.equal((await userRow(user.id)).credits, 100)
      })

      it('closes an expired order closeorder says WeChat does not know (ORDERNOTEXIST), once', async () => {
        const user = await newUser('o_notexist')
        const order = await preparedOrder(user)
        fake.failCloseWith('ORDERNOTEXIST')
        try {
          clock += 7200_000
          await job().runOnce()
          await job().runOnce()
        } finally {
          fake.failCloseWith(undefined)
        }
        assert.equal((await orders.findOwned(user.id, order.out_trade_no)).status, 'closed')
        const asked = fake.calls.filter(
          (c) => c.api === 'closeorder' && c.outTradeNo === order.out_trade_no,
        )
        assert.equal(asked.length, 1, 'not asked again on the next pass')
      })
    })
  })
}
