// Internal: PUT /payment/order/update — a verified WeChat Pay notification, recorded once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { OrderUpdateBody, OrderUpdateResponse } from '@wxgate/internal-api'
import type { FeatureOptions } from '../app-context.js'
import { presentOrder } from './orders.service.js'

export const ordersInternalRoutes: FastifyPluginAsyncTypebox<FeatureOptions> = (app, { ctx }) => {
  app.put(
    '/payment/order/update',
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
      const { order, changed } = await ctx.orders.recordPayment({
        outTradeNo: body.out_trade_no,
        transactionId: body.transaction_id,
        totalFee: body.total_fee,
        tradeState: body.trade_state,
        paidAt: new Date(body.paid_at),
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
