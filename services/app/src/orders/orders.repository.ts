// Queries on payment_orders; works over the app's Kysely or a transaction of it.
import type { ExpressionBuilder, Kysely } from 'kysely'
import { affectedRows } from '../db/create-db.js'
import type { Database } from '../db/database.js'
import { prepareQuery } from '../db/prepared.js'
import type { NewOrderRow, OrderRow, OrderStatus, TradeType } from './orders.table.js'

// The two statements of every payment notification, compiled once (db/prepared.ts says why).
const selectByOutTradeNo = prepareQuery((db: Kysely<Database>, p: { outTradeNo: string }) =>
  db.selectFrom('payment_orders').selectAll().where('out_trade_no', '=', p.outTradeNo),
)
const markPaidIfUnpaid = prepareQuery(
  (
    db: Kysely<Database>,
    p: {
      outTradeNo: string
      amountFen: number
      transactionId: string
      paidAt: number
      payerOpenId: string | null
      now: number
    },
  ) =>
    db
      .updateTable('payment_orders')
      .set({
        status: 'paid',
        transaction_id: p.transactionId,
        paid_at: p.paidAt,
        payer_openid: p.payerOpenId,
        closed_at: null,
        updated_at: p.now,
      })
      .where('out_trade_no', '=', p.outTradeNo)
      .where('amount_fen', '=', p.amountFen)
      .where('status', 'in', ['pending', 'closed']),
)

export function createOrdersRepository(db: Kysely<Database>) {
  return {
    async insert(row: NewOrderRow): Promise<number> {
      const result = await db.insertInto('payment_orders').values(row).executeTakeFirstOrThrow()
      return Number(result.insertId)
    },

    async findByOutTradeNo(outTradeNo: string): Promise<OrderRow | undefined> {
      const { rows } = await selectByOutTradeNo.execute(db, { outTradeNo })
      return rows[0]
    },

    /** Newest first, optionally one status as the user sees it at `now` (see presentOrder). */
    listByUser(
      userId: number,
      {
        status,
        now,
        limit,
        offset,
      }: { status?: OrderStatus | undefined; now: number; limit: number; offset: number },
    ): Promise<OrderRow[]> {
      let query = db.selectFrom('payment_orders').selectAll().where('user_id', '=', userId)
      if (status !== undefined) query = query.where((eb) => shownStatusIs(eb, status, now))
      return query.orderBy('id', 'desc').limit(limit).offset(offset).execute()
    },

    async countByUser(
      userId: number,
      status: OrderStatus | undefined,
      now: number,
    ): Promise<number> {
      let query = db
        .selectFrom('payment_orders')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('user_id', '=', userId)
      if (status !== undefined) query = query.where((eb) => shownStatusIs(eb, status, now))
      return Number((await query.executeTakeFirstOrThrow()).n)
    },

    async savePrepay(
      id: number,
      fields: {
        tradeType: TradeType
        prepayId: string
        codeUrl: string | null
        mwebUrl: string | null
        /** When WeChat issued what is served (a repeat call can return an earlier prepay id). */
        prepayAt: number
        now: number
      },
    ): Promise<boolean> {
      const result = await db
        .updateTable('payment_orders')
        .set({
          trade_type: fields.tradeType,
          prepay_id: fields.prepayId,
          prepay_at: fields.prepayAt,
          code_url: fields.codeUrl,
          mweb_url: fields.mwebUrl,
          updated_at: fields.now,
        })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst()
      return affectedRows(result) > 0
    },

    /**
     * The idempotency guard of a payment: flips the order to paid only if it is not paid yet and
     * WeChat's amount is the order's. A closed order is accepted too: WeChat took the money, so the
     * payment must be recorded. False when nothing matched (the caller reads the order to say why).
     */
    async markPaid(
      outTradeNo: string,
      fields: {
        amountFen: number
        transactionId: string
        paidAt: number
        payerOpenId: string | null
        now: number
      },
    ): Promise<boolean> {
      const result = await markPaidIfUnpaid.execute(db, { outTradeNo, ...fields })
      return affectedRows(result) > 0
    },

    async markClosed(id: number, now: number): Promise<boolean> {
      const result = await db
        .updateTable('payment_orders')
        .set({ status: 'closed', closed_at: now, updated_at: now })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst()
      return affectedRows(result) > 0
    },

    /**
     * Stamps `order` as asked about now, unless it was stamped since it was read: true when this caller
     * took it. With several app instances reconciling, one asks WeChat about an order per pass.
     */
    async claimQuery(
      order: Pick<OrderRow, 'id' | 'last_queried_at'>,
      now: number,
    ): Promise<boolean> {
      const seen = order.last_queried_at
      const result = await db
        .updateTable('payment_orders')
        .set({ last_queried_at: now })
        .where('id', '=', order.id)
        .where((eb) =>
          seen === null ? eb('last_queried_at', 'is', null) : eb('last_queried_at', '=', seen),
        )
        .executeTakeFirst()
      return affectedRows(result) > 0
    },

    /** Pending orders with a prepay id at least `minAgeMs` old, least recently asked about first. */
    listToReconcile({ now, minAgeMs, limit }: { now: number; minAgeMs: number; limit: number }) {
      return db
        .selectFrom('payment_orders')
        .selectAll()
        .where('status', '=', 'pending')
        .where('prepay_at', 'is not', null)
        .where('prepay_at', '<=', now - minAgeMs)
        .where('expires_at', '>', now)
        .orderBy('last_queried_at', 'asc')
        .orderBy('id', 'asc')
        .limit(limit)
        .execute()
    },

    listExpired({ now, limit }: { now: number; limit: number }) {
      return db
        .selectFrom('payment_orders')
        .selectAll()
        .where('status', '=', 'pending')
        .where('expires_at', '<=', now)
        .orderBy('id', 'asc')
        .limit(limit)
        .execute()
    },
  }
}

export type OrdersRepository = ReturnType<typeof createOrdersRepository>

/**
 * The status filter as the user sees it: a pending order past `expires_at` can no longer be paid,
 * so it counts as closed before reconciliation gets to close it in the table.
 */
function shownStatusIs(
  eb: ExpressionBuilder<Database, 'payment_orders'>,
  status: OrderStatus,
  now: number,
) {
  if (status === 'pending') {
    return eb.and([eb('status', '=', 'pending'), eb('expires_at', '>', now)])
  }
  if (status === 'closed') {
    return eb.or([
      eb('status', '=', 'closed'),
      eb.and([eb('status', '=', 'pending'), eb('expires_at', '<=', now)]),
    ])
  }
  return eb('status', '=', status)
}
