// User: GET /user/credits, /user/member-status, /user/credits-usage.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FeatureOptions } from '../app-context.js'
import { presentUser } from '../users/users.service.js'
import {
  CreditsResponse,
  CreditsUsageResponse,
  MemberStatusResponse,
  PageQuery,
} from './credits.schemas.js'
import { presentLedgerRow } from './credits.service.js'

export const creditsRoutes: FastifyPluginAsyncTypebox<FeatureOptions> = (app, { ctx }) => {
  const security = [{ bearerAuth: [] }]

  app.get(
    '/api/v1/user/credits',
    {
      onRequest: app.authenticate,
      schema: { tags: ['user'], security, response: { 200: CreditsResponse } },
    },
    (request) => Promise.resolve({ credits: request.user.credits }),
  )

  app.get(
    '/api/v1/user/member-status',
    {
      onRequest: app.authenticate,
      schema: { tags: ['user'], security, response: { 200: MemberStatusResponse } },
    },
    (request) => {
      const user = presentUser(request.user, ctx.now())
      return Promise.resolve({
        is_member: user.is_member,
        member_expires_at: user.member_expires_at,
      })
    },
  )

  app.get(
    '/api/v1/user/credits-usage',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['user'],
        security,
        querystring: PageQuery,
        response: { 200: CreditsUsageResponse },
      },
    },
    async (request) => {
      const { page, page_size: pageSize } = request.query
      const { records, total } = await ctx.credits.history(request.user.id, { page, pageSize })
      return { records: records.map(presentLedgerRow), total, page, page_size: pageSize }
    },
  )
  return Promise.resolve()
}
