// Admin: GET /auth/wechat/get-menu and POST /auth/wechat/create-menu, behind X-Admin-Key.
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox'
import type { FeatureOptions } from '../app-context.js'
import { createAdminKeyGuard } from './admin-key.js'
import { AdminKeyHeaders, CreateMenuBody, GetMenuResponse, OkResponse } from './menus.schemas.js'

export const menusRoutes: FastifyPluginCallbackTypebox<FeatureOptions> = (app, { ctx }, done) => {
  const { menus } = ctx
  const requireAdminKey = createAdminKeyGuard(ctx.config.adminApiKey)
  const security = [{ adminKey: [] }]

  app.get(
    '/api/v1/auth/wechat/get-menu',
    {
      onRequest: requireAdminKey,
      schema: {
        tags: ['admin'],
        summary: "The account's current menu (null when there is none)",
        security,
        headers: AdminKeyHeaders,
        response: { 200: GetMenuResponse },
      },
    },
    async () => ({ menu: await menus.getMenu() }),
  )

  app.post(
    '/api/v1/auth/wechat/create-menu',
    {
      onRequest: requireAdminKey,
      schema: {
        tags: ['admin'],
        summary:
          'Replace the menu; an invalid menu is refused (MENU_INVALID) without calling WeChat',
        security,
        headers: AdminKeyHeaders,
        body: CreateMenuBody,
        response: { 200: OkResponse },
      },
    },
    async (request) => {
      await menus.createMenu(request.body)
      return { ok: true as const }
    },
  )
  done()
}
