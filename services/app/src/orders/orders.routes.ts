// Public: create-order, unifiedorder, orders list and detail (all for the signed-in user only).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FeatureOptions } from '../app-context.js'
import {
  CreateOrderBody,
  OrderParams,
  OrderSchema,
  OrdersQuery,
  OrdersResponse,
  UnifiedOrderBody,
  UnifiedOrderResponse,
} from './orders.schemas.js'
import { presentOrder } from './orders.service.js'

export const ordersRoutes: FastifyPluginAsyncTypebox<FeatureOptions> = (app, { ctx }) => {
  const security = [{ bearerAuth: [] }]

  app.post(
    '/api/v1/payment/create-order',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['payment'],
        security,
        summary: 'Create a pending order; the price comes from the catalog',
        body: CreateOrderBody,
        response: { 200: OrderSchema },
      },
    },
    async (request) => {
      const order = await ctx.orders.createOrder({
        userId: request.session.userId,
        openId: request.session.openId,
        productId: request.body.product_id,
      })
      request.log.info(
        { outTradeNo: order.out_trade_no, productId: order.product_id },
        'order created',
      )
      return presentOrder(order)
    },
  )

  app.post(
    '/api/v1/payment/unifiedorder',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['payment'],
        security,
        summary: 'Get (or reuse) a WeChat Pay prepay id for an order',
        body: UnifiedOrderBody,
        response: { 200: UnifiedOrderResponse },
      },
    },
    async (request) =>
      ctx.orders.unifiedOrder({
        userId: request.session.userId,
        openId: request.session.openId,
        outTradeNo: request.body.out_trade_no,
        tradeType: request.body.trade_type,
        clientIp: request.ip,
      }),
  )

  app.get(
    '/api/v1/payment/orders',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['payment'],
        security,
        querystring: OrdersQuery,
        response: { 200: OrdersResponse },
      },
    },
    async (request) => {
      const { page, page_size: pageSize, status } = request.query
      const { orders, total, at } = await ctx.orders.list(request.session.userId, {
        page,
        pageSize,
        status,
      })
      return { orders: orders.map((o) => presentOrder(o, at)), total, page, page_size: pageSize }
    },
  )

  app.get(
    '/api/v1/payment/orders/:out_trade_no',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['payment'],
        security,
        params: OrderParams,
        response: { 200: OrderSchema },
      },
    },
    async (request) =>
      presentOrder(
        await ctx.orders.findOwned(request.session.userId, request.params.out_trade_no),
        ctx.now(),
      ),
  )
  return Promise.resolve()
}
