// Internal: POST /user/create-or-update (gateway, on subscribe/unsubscribe/scan events).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  INTERNAL_ROUTES,
  CreateOrUpdateUserBody,
  CreateOrUpdateUserResponse,
} from '@wxgate/internal-api'
import type { FeatureOptions } from '../app-context.js'
import { presentUser } from './users.service.js'

export const usersInternalRoutes: FastifyPluginAsyncTypebox<FeatureOptions> = (app, { ctx }) => {
  app.post(
    INTERNAL_ROUTES.createOrUpdateUser.path,
    {
      schema: {
        tags: ['internal'],
        summary: 'Create or update a user from a WeChat event (ordered by event_time)',
        body: CreateOrUpdateUserBody,
        response: { 200: CreateOrUpdateUserResponse },
      },
    },
    async (request) => {
      const body = request.body
      const { user, created } = await ctx.users.createOrUpdate({
        openId: body.openid,
        unionId: body.unionid,
        subscribed: body.subscribed,
        eventTime: body.event_time,
      })
      return { user: presentUser(user, ctx.now()), created }
    },
  )
  return Promise.resolve()
}
