// Public: GET /payment/products — the catalog, the only source of prices.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { FeatureOptions } from '../app-context.js'

const ProductsResponse = Type.Object({
  products: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      price_fen: Type.Integer(),
      credits: Type.Integer(),
      member_days: Type.Integer(),
    }),
  ),
})

export const productsRoutes: FastifyPluginAsyncTypebox<FeatureOptions> = (app, { ctx }) => {
  const body = {
    products: ctx.catalog.products.map((p) => ({
      id: p.id,
      name: p.name,
      price_fen: p.priceFen,
      credits: p.credits,
      member_days: p.memberDays,
    })),
  }
  app.get(
    '/api/v1/payment/products',
    { schema: { tags: ['payment'], response: { 200: ProductsResponse } } },
    () => Promise.resolve(body),
  )
  return Promise.resolve()
}
