// Orders: create, prepay (unifiedorder), and the one pay-order path that notifications and reconciliation share.
import type { Kysely } from 'kysely'
import type { Static } from 'typebox'
import { isServiceError } from '@wxgate/service-kit'
import { WeChatPayError } from '@wxgate/wechat'
import { createCreditsRepository } from '../credits/credits.repository.js'
import { purchaseKey } from '../credits/credits.service.js'
import { isUniqueViolation } from '../db/create-db.js'
import { inTransaction } from '../db/transaction.js'
import type { Database } from '../db/database.js'
import { AppErrors } from '../errors.js'
import type { Catalog } from '../products/products.catalog.js'
import { createUsersRepository } from '../users/users.repository.js'
import { toIso } from '../iso-time.js'
import type { PayApi, PayTradeState } from '../wechat/pay-api.js'
import { toWeChatHttpError } from '../wechat/wechat-errors.js'
import { createOrdersRepository } from './orders.repository.js'
import type { OrderSchema } from './orders.schemas.js'
import type { OrderRow, OrderStatus, TradeType } from './orders.table.js'
import { newOutTradeNo } from './out-trade-no.js'

/** WeChat keeps a prepay id for 2 hours from its first issue; we stop reusing one 5 minutes before that. */
export const PREPAY_REUSE_MS = 115 * 60_000
/**
 * An H5 `mweb_url` lives only 5 minutes: the one given with a new prepay id is reused for 4, and after that
 * every MWEB call asks WeChat (same terms → same prepay id, and a link WeChat vouches for at that moment).
 */
export const MWEB_URL_REUSE_MS = 4 * 60_000
const MIN_TIME_EXPIRE_MS = 6 * 60_000

/** The contract's `order` object, typed by its one schema. */
export type PresentedOrder = Static<typeof OrderSchema>

/**
 * The order as its owner sees it. Given `at` (unix ms), a pending order past `expires_at` shows as
 * closed (at its expiry): it can no longer be paid, though reconciliation closes the row later.
 */
export function presentOrder(row: OrderRow, at?: number): PresentedOrder {
  if (at !== undefined && row.status === 'pending' && row.expires_at <= at) {
    return presentOrder({ ...row, status: 'closed', closed_at: row.expires_at })
  }
  return {
    out_trade_no: row.out_trade_no,
    product_id: row.product_id,
    product_name: row.product_name,
    amount_fen: row.amount_fen,
    credits: row.credits,
    member_days: row.member_days,
    status: row.status,
    trade_type: row.trade_type,
    transaction_id: row.transaction_id,
    created_at: toIso(row.created_at) ?? '',
    expires_at: toIso(row.expires_at) ?? '',
    paid_at: toIso(row.paid_at),
    closed_at: toIso(row.closed_at),
  }
}

export interface PaymentResult {
  outTradeNo: string
  transactionId: string
  totalFee: number
  /** WeChat's trade_state; anything but SUCCESS records nothing. */
  tradeState: string
  paidAt: Date
  openId?: string | undefined
}

export type PrepayResult =
  | { trade_type: 'JSAPI'; prepay_id: string; pay_params: ReturnType<PayApi['jsapiPayParams']> }
  | { trade_type: 'NATIVE'; prepay_id: string; code_url: string }
  | { trade_type: 'MWEB'; prepay_id: string; mweb_url: string }

export interface OrdersServiceDeps {
  db: Kysely<Database>
  now: () => number
  pay: PayApi
  catalog: Catalog
  /** Undefined when WeChat Pay is not configured (then `pay` refuses every call). */
  notifyUrl: string | undefined
  orderExpireS: number
  /** Called after a payment commits (metrics). */
  onPaid?: (order: OrderRow, source: 'notification' | 'reconciliation') => void
}

export class OrderVanishedError extends Error {
  override readonly name = 'OrderVanishedError'
}

export function createOrdersService(deps: OrdersServiceDeps) {
  const { db, now, pay, catalog } = deps
  const orders = createOrdersRepository(db)
  // H5 pay wants the site's address in scene_info; the notify URL's origin is the site WeChat knows.
  const wapUrl = deps.notifyUrl === undefined ? '' : new URL(deps.notifyUrl).origin

  async function mustFind(outTradeNo: string): Promise<OrderRow> {
    const row = await orders.findByOutTradeNo(outTradeNo)
    if (row === undefined) throw new OrderVanishedError(`order ${outTradeNo} vanished`)
    return row
  }

  /** The caller's own order, or ORDER_NOT_FOUND (also for another user's order). */
  async function findOwned(userId: number, outTradeNo: string): Promise<OrderRow> {
    const row = await orders.findByOutTradeNo(outTradeNo)
    if (row === undefined || row.user_id !== userId) throw new AppErrors.ORDER_NOT_FOUND()
    return row
  }

  async function createOrder(input: { userId: number; openId: string; productId: string }) {
    const product = catalog.find(input.productId)
    if (product === undefined) throw new AppErrors.PRODUCT_NOT_FOUND()
    const at = now()
    const outTradeNo = newOutTradeNo(at)
    await orders.insert({
      out_trade_no: outTradeNo,
      user_id: input.userId,
      openid: input.openId,
      product_id: product.id,
      product_name: product.name,
      amount_fen: product.priceFen,
      credits: product.credits,
      member_days: product.memberDays,
      status: 'pending',
      trade_type: null,
      prepay_id: null,
      prepay_at: null,
      code_url: null,
      mweb_url: null,
      transaction_id: null,
      payer_openid: null,
      paid_at: null,
      closed_at: null,
      expires_at: at + deps.orderExpireS * 1000,
      last_queried_at: null,
      created_at: at,
      updated_at: at,
    })
    return mustFind(outTradeNo)
  }

  function prepayAnswer(order: OrderRow, tradeType: TradeType): PrepayResult {
    const prepayId = order.prepay_id ?? ''
    switch (tradeType) {
      case 'JSAPI':
        return {
          trade_type: 'JSAPI',
          prepay_id: prepayId,
          pay_params: pay.jsapiPayParams(prepayId),
        }
      case 'NATIVE':
        return { trade_type: 'NATIVE', prepay_id: prepayId, code_url: order.code_url ?? '' }
      case 'MWEB':
        return { trade_type: 'MWEB', prepay_id: prepayId, mweb_url: order.mweb_url ?? '' }
    }
  }

  async function unifiedOrder(input: {
    userId: number
    openId: string
    outTradeNo: string
    tradeType: TradeType
    clientIp: string
  }): Promise<PrepayResult> {
    const order = await findOwned(input.userId, input.outTradeNo)
    const at = now()
    if (order.status === 'paid') throw new AppErrors.ORDER_ALREADY_PAID()
    if (order.status === 'closed' || order.expires_at <= at) throw new AppErrors.ORDER_CLOSED()
    // WeChat refuses a second unifiedorder for one out_trade_no with other terms (OUT_TRADE_NO_USED).
    if (order.trade_type !== null && order.trade_type !== input.tradeType) {
      throw new AppErrors.ORDER_TRADE_TYPE_MISMATCH()
    }
    if (
      order.prepay_id !== null &&
      order.prepay_at !== null &&
      order.prepay_at + (input.tradeType === 'MWEB' ? MWEB_URL_REUSE_MS : PREPAY_REUSE_MS) > at
    ) {
      return prepayAnswer(order, input.tradeType)
    }

    let prepay: Awaited<ReturnType<PayApi['unifiedOrder']>>
    try {
      prepay = await pay.unifiedOrder({
        outTradeNo: order.out_trade_no,
        body: order.product_name,
        totalFee: order.amount_fen,
        spbillCreateIp: input.clientIp.replace(/^::ffff:/, ''),
        notifyUrl: deps.notifyUrl ?? '',
        tradeType: input.tradeType,
        ...(input.tradeType === 'JSAPI' ? { openId: input.openId } : {}),
        ...(input.tradeType === 'NATIVE' ? { productId: order.product_id } : {}),
        ...(input.tradeType === 'MWEB'
          ? {
              sceneInfo: JSON.stringify({
                h5_info: { type: 'Wap', wap_url: wapUrl, wap_name: order.product_name },
              }),
            }
          : {}),
        // WeChat wants time_expire at least 5 minutes ahead; closer than that, closeorder ends it.
        ...(order.expires_at - at >= MIN_TIME_EXPIRE_MS
          ? { timeExpire: new Date(order.expires_at) }
          : {}),
      })
    } catch (error) {
      if (error instanceof WeChatPayError && error.errCode === 'ORDERPAID') {
        // WeChat says it is paid, so the answer is 409 whether or not recording it works now: if asking
        // WeChat about it fails, reconciliation records it on a later pass (not a 500 for the caller).
        let recordError: unknown
        try {
          await askAndRecord(order)
        } catch (failure) {
          if (isServiceError(failure)) throw failure
          recordError = failure
        }
        throw new AppErrors.ORDER_ALREADY_PAID({ cause: recordError ?? error })
      }
      if (error instanceof WeChatPayError && error.errCode === 'OUT_TRADE_NO_USED') {
        throw new AppErrors.ORDER_TRADE_TYPE_MISMATCH({ cause: error })
      }
      if (error instanceof WeChatPayError && error.errCode === 'ORDERCLOSED') {
        await orders.markClosed(order.id, now())
        throw new AppErrors.ORDER_CLOSED({ cause: error })
      }
      throw toWeChatHttpError(error)
    }
    // Within its 2 hours WeChat answers a repeat call with the prepay id it gave before, and that id's life
    // runs from its first issue: restarting the reuse window here would serve it past its death. So
    // `prepay_at` is when the prepay id was first given, for every trade type (an H5 link given later is
    // not reused from here, see MWEB_URL_REUSE_MS, so it needs no time of its own).
    const answeredAt = now()
    const firstIssued = prepay.prepayId === order.prepay_id ? order.prepay_at : null
    const saved = await orders.savePrepay(order.id, {
      tradeType: input.tradeType,
      prepayId: prepay.prepayId,
      codeUrl: prepay.codeUrl ?? null,
      mwebUrl: prepay.mwebUrl ?? null,
      prepayAt: firstIssued ?? answeredAt,
      now: answeredAt,
    })
    const updated = await mustFind(order.out_trade_no)
    // Paid or closed while we were asking WeChat.
    if (!saved) {
      throw updated.status === 'paid'
        ? new AppErrors.ORDER_ALREADY_PAID()
        : new AppErrors.ORDER_CLOSED()
    }
    return prepayAnswer(updated, input.tradeType)
  }

  /**
   * Records a WeChat payment result: the only path that marks an order paid. In one transaction:
   * the conditional status change, credits, membership and the ledger row. Repeats change nothing.
   * A first payment is 6 statements (begin, guard, order, credits, ledger, commit; plus one when
   * the product adds membership days); anything the guard refuses is explained by one read after.
   */
  async function recordPayment(
    result: PaymentResult,
    source: 'notification' | 'reconciliation' = 'notification',
  ): Promise<{ order: OrderRow; changed: boolean }> {
    if (result.tradeState !== 'SUCCESS') {
      const order = await orders.findByOutTradeNo(result.outTradeNo)
      if (order === undefined) throw new AppErrors.ORDER_NOT_FOUND()
      return { order, changed: false }
    }

    let paid: OrderRow | undefined
    try {
      paid = await inTransaction(db, async (trx) => {
        const txOrders = createOrdersRepository(trx)
        const txUsers = createUsersRepository(trx)
        const txLedger = createCreditsRepository(trx)
        const at = now()
        // The guard goes first: it only matches an unpaid order of WeChat's amount, and from here
        // on holds the order's row (MySQL row lock; SQLite's write lock) until commit.
        const marked = await txOrders.markPaid(result.outTradeNo, {
          amountFen: result.totalFee,
          transactionId: result.transactionId,
          paidAt: result.paidAt.getTime(),
          payerOpenId: result.openId ?? null,
          now: at,
        })
        if (!marked) return undefined
        // Read under our own update, so it is the row as it commits.
        const order = await txOrders.findByOutTradeNo(result.outTradeNo)
        if (order === undefined) throw new OrderVanishedError(`order ${result.outTradeNo} vanished`)
        if (order.credits !== 0) await txUsers.addCredits(order.user_id, order.credits, at)
        await txUsers.extendMembership(order.user_id, order.member_days, at)
        // balance_after is read by the insert itself, after our credit update holds the user's row.
        const inserted = await txLedger.insertWithCurrentBalance({
          userId: order.user_id,
          delta: order.credits,
          reason: 'purchase',
          ref: order.out_trade_no,
          idempotencyKey: purchaseKey(order.out_trade_no),
          now: at,
        })
        if (!inserted) throw new OrderVanishedError(`owner of ${order.out_trade_no} vanished`)
        return order
      })
    } catch (error) {
      // The ledger row for this order already exists: it was paid concurrently; nothing moved.
      if (!isUniqueViolation(error)) throw error
      paid = undefined
    }
    if (paid !== undefined) {
      deps.onPaid?.(paid, source)
      return { order: paid, changed: true }
    }
    // The guard matched nothing: an unknown order, another amount, or paid already (maybe just now).
    const order = await orders.findByOutTradeNo(result.outTradeNo)
    if (order === undefined) throw new AppErrors.ORDER_NOT_FOUND()
    if (result.totalFee !== order.amount_fen) throw new AppErrors.ORDER_AMOUNT_MISMATCH()
    return { order, changed: false }
  }

  /**
   * Reconciliation's question about one order it listed: asks WeChat Pay and records a SUCCESS through
   * `recordPayment`. `null` when another app instance took the order since it was listed (each instance
   * runs the job; without the claim every one of them asked WeChat about every order).
   */
  async function queryAndRecord(
    order: OrderRow,
  ): Promise<{ tradeState: PayTradeState; changed: boolean } | null> {
    // Stamped before asking, so that a query that fails counts as asked too: reconciliation takes the least
    // recently asked first, 100 a pass, and orders whose query keeps failing would otherwise take every pass
    // and hold back a newer one WeChat has paid.
    if (!(await orders.claimQuery(order, now()))) return null
    return askAndRecord(order)
  }

  async function askAndRecord(
    order: OrderRow,
  ): Promise<{ tradeState: PayTradeState; changed: boolean }> {
    const answer = await pay.orderQuery({ outTradeNo: order.out_trade_no })
    if (answer.tradeState === 'SUCCESS') {
      const { changed } = await recordPayment(
        {
          outTradeNo: order.out_trade_no,
          transactionId: answer.transactionId ?? '',
          totalFee: answer.totalFee ?? -1,
          tradeState: 'SUCCESS',
          paidAt: answer.paidAt ?? new Date(now()),
          openId: answer.openId,
        },
        'reconciliation',
      )
      return { tradeState: answer.tradeState, changed }
    }
    if (answer.tradeState === 'CLOSED' || answer.tradeState === 'REVOKED') {
      return { tradeState: answer.tradeState, changed: await orders.markClosed(order.id, now()) }
    }
    return { tradeState: answer.tradeState, changed: false }
  }

  /** Closes an expired order at WeChat and here; ORDERPAID means it was paid after all. */
  async function closeExpired(order: OrderRow): Promise<'closed' | 'paid' | 'unchanged'> {
    if (order.prepay_id !== null) {
      // Another instance's pass took it since it was listed.
      if (!(await orders.claimQuery(order, now()))) return 'unchanged'
      try {
        await pay.closeOrder({ outTradeNo: order.out_trade_no })
      } catch (error) {
        if (error instanceof WeChatPayError && error.errCode === 'ORDERPAID') {
          const { changed } = await askAndRecord(order)
          return changed ? 'paid' : 'unchanged'
        }
        // Closed, or unknown to WeChat Pay (nothing there can be paid): either way it ends here, instead of
        // being asked again on every reconciliation pass.
        const ended =
          error instanceof WeChatPayError &&
          (error.errCode === 'ORDERCLOSED' || error.errCode === 'ORDERNOTEXIST')
        if (!ended) throw error
      }
    }
    // Closed as of its expiry, which its owner has been shown since (presentOrder).
    return (await orders.markClosed(order.id, order.expires_at)) ? 'closed' : 'unchanged'
  }

  return {
    createOrder,
    unifiedOrder,
    recordPayment,
    queryAndRecord,
    closeExpired,
    findOwned,
    async list(
      userId: number,
      {
        page,
        pageSize,
        status,
      }: { page: number; pageSize: number; status?: OrderStatus | undefined },
    ) {
      const at = now()
      const [rows, total] = await Promise.all([
        orders.listByUser(userId, {
          status,
          now: at,
          limit: pageSize,
          offset: (page - 1) * pageSize,
        }),
        orders.countByUser(userId, status, at),
      ])
      // `at` goes back with the rows: the route presents them at the instant they were filtered at,
      // or an order expiring in between would pass `status=pending` and be shown closed.
      return { orders: rows, total, at }
    },
    listToReconcile: (minAgeMs: number, limit: number) =>
      orders.listToReconcile({ now: now(), minAgeMs, limit }),
    listExpired: (limit: number) => orders.listExpired({ now: now(), limit }),
  }
}

export type OrdersService = ReturnType<typeof createOrdersService>
