// Public: GET /auth/wechat/authorize-url and GET /auth/wechat (the OAuth callback's code → session).
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox'
import type { FeatureOptions } from '../app-context.js'
import { presentUser } from '../users/users.service.js'
import { LOGIN_RATE_RULES, limitByClientIp } from './login-rate-limit.js'
import {
  AuthorizeUrlQuery,
  AuthorizeUrlResponse,
  LoginResponse,
  OAuthLoginQuery,
} from './oauth.schemas.js'

export const oauthRoutes: FastifyPluginCallbackTypebox<FeatureOptions> = (app, { ctx }, done) => {
  const { oauth } = ctx

  app.get(
    '/api/v1/auth/wechat/authorize-url',
    {
      onRequest: limitByClientIp(ctx.rateLimiter, LOGIN_RATE_RULES.authorizeUrl),
      schema: {
        tags: ['auth'],
        summary: 'The WeChat web-page OAuth URL, with a one-time state',
        querystring: AuthorizeUrlQuery,
        response: { 200: AuthorizeUrlResponse },
      },
    },
    async (request) =>
      oauth.createAuthorizeUrl({
        redirectUri: request.query.redirect_uri,
        scope: request.query.scope,
      }),
  )

  app.get(
    '/api/v1/auth/wechat',
    {
      onRequest: limitByClientIp(ctx.rateLimiter, LOGIN_RATE_RULES.oauthLogin),
      schema: {
        tags: ['auth'],
        summary: 'Log in with the code WeChat redirected back with',
        querystring: OAuthLoginQuery,
        response: { 200: LoginResponse },
      },
    },
    async (request) => {
      const login = await oauth.login({ code: request.query.code, state: request.query.state })
      return {
        token: login.token,
        expires_in: login.expiresIn,
        user: presentUser(login.user, ctx.now()),
      }
    },
  )
  done()
}
