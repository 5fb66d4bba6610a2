// Internal: PUT /payment/order/update — a verified WeChat Pay notification, recorded once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { INTERNAL_ROUTES, OrderUpdateBody, OrderUpdateResponse } from '@wxgate/internal-api'
import { serviceKitErrors } from '@wxgate/service-kit'
import type { FeatureOptions } from '../app-context.js'
import { presentOrder } from './orders.service.js'

/**
 * `paid_at` as a time, or undefined when a Date cannot hold it or the answer could not show it again.
 * The schema's date-time format accepts both a leap second (no Date: NaN reached SQL) and a year past 9999
 * once its offset is applied (the payment was recorded, then the answer and the user's orders failed).
 */
function paidAtTime(text: string): Date | undefined {
  const at = new Date(text)
  const year = at.getUTCFullYear()
  return Number.isFinite(at.getTime()) && year >= 1970 && year <= 9999 ? at : undefined
}

export const ordersInternalRoutes: FastifyPluginAsyncTypebox<FeatureOptions> = (app, { ctx }) => {
  app.put(
    INTERNAL_ROUTES.updateOrder.path,
    {
      schema: {
        tags: ['internal'],
        summary: 'Record a payment result; repeats answer changed: false',
        body: OrderUpdateBody,
        response: { 200: OrderUpdateResponse },
      },
    },
    async (request) => {
      const body = request.body
      const paidAt = paidAtTime(body.paid_at)
      if (paidAt === undefined) {
        throw Object.assign(new serviceKitErrors.ValidationFailed(), {
          details: [{ in: 'body', path: '/paid_at', message: 'must be a time from 1970 to 9999' }],
        })
      }
      const { order, changed } = await ctx.orders.recordPayment({
        outTradeNo: body.out_trade_no,
        transactionId: body.transaction_id,
        totalFee: body.total_fee,
        tradeState: body.trade_state,
        paidAt,
        openId: body.openid,
      })
      request.log.info(
        { outTradeNo: order.out_trade_no, tradeState: body.trade_state, changed },
        'payment result recorded',
      )
      return { order: presentOrder(order), changed }
    },
  )
  return Promise.resolve()
}
