// Public: POST /auth/wechat/qrcode and GET /auth/wechat/check-follow (by scene, or by session).
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox'
import type { FeatureOptions } from '../app-context.js'
import { LOGIN_RATE_RULES, limitByClientIp } from '../oauth/login-rate-limit.js'
import { presentUser } from '../users/users.service.js'
import { CheckFollowQuery, CheckFollowResponse, CreateQrCodeResponse } from './qr-login.schemas.js'

export const qrLoginRoutes: FastifyPluginCallbackTypebox<FeatureOptions> = (app, { ctx }, done) => {
  const { qrLogin } = ctx

  app.post(
    '/api/v1/auth/wechat/qrcode',
    {
      onRequest: limitByClientIp(ctx.rateLimiter, LOGIN_RATE_RULES.qrCode),
      schema: {
        tags: ['auth'],
        summary: 'A temporary login QR code (QR_STR_SCENE); poll check-follow with its scene_str',
        description: 'Takes no fields: send no body, or `{}`.',
        response: { 200: CreateQrCodeResponse },
      },
    },
    async () => {
      const qr = await qrLogin.createLoginQrCode()
      return {
        scene_str: qr.sceneStr,
        ticket: qr.ticket,
        url: qr.url,
        qrcode_url: qr.qrcodeUrl,
        expire_seconds: qr.expireSeconds,
        expires_at: new Date(qr.expiresAt).toISOString(),
      }
    },
  )

  app.get(
    '/api/v1/auth/wechat/check-follow',
    {
      // With scene_str this is the login poll (no auth); without it, the caller's own subscription.
      preHandler: async (request) => {
        if (request.query.scene_str === undefined) await app.authenticate(request)
      },
      schema: {
        tags: ['auth'],
        summary: 'QR login status by scene_str, or (with a Bearer token) whether the user follows',
        security: [{}, { bearerAuth: [] }],
        querystring: CheckFollowQuery,
        response: { 200: CheckFollowResponse },
      },
    },
    async (request) => {
      const sceneStr = request.query.scene_str
      if (sceneStr === undefined) {
        return { subscribed: request.user.subscribed === 1 }
      }
      const check = await qrLogin.checkScene(sceneStr)
      if (check.status !== 'scanned') return { status: check.status, subscribed: false }
      const user = presentUser(check.user, ctx.now())
      return {
        status: check.status,
        subscribed: user.subscribed,
        token: check.token,
        expires_in: check.expiresIn,
        user,
      }
    },
  )
  done()
}
