// Internal: POST /credits/consume — idempotent by key, 409 when the balance does not cover it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { INTERNAL_ROUTES, CreditsConsumeBody, CreditsConsumeResponse } from '@wxgate/internal-api'
import type { FeatureOptions } from '../app-context.js'
import { presentLedgerRow } from './credits.service.js'

export const creditsInternalRoutes: FastifyPluginAsyncTypebox<FeatureOptions> = (app, { ctx }) => {
  app.post(
    INTERNAL_ROUTES.consumeCredits.path,
    {
      schema: {
        tags: ['internal'],
        summary: 'Consume credits once per idempotency_key',
        body: CreditsConsumeBody,
        response: { 200: CreditsConsumeResponse },
      },
    },
    async (request) => {
      const { credits, record } = await ctx.credits.consume({
        openId: request.body.openid,
        amount: request.body.amount,
        reason: request.body.reason,
        idempotencyKey: request.body.idempotency_key,
      })
      return { credits, record: presentLedgerRow(record) }
    },
  )
  return Promise.resolve()
}
