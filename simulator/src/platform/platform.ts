// The platform half: WeChat's servers as the app sees them (state, faults, and the routes that serve them).
import type { FastifyInstance } from 'fastify'
import type { SimContext } from '../context.js'
import { createFaults } from './faults.js'
import type { Faults } from './faults.js'
import { createMenuStore, registerMenuRoutes } from './menu.js'
import type { MenuStore, SimMenu } from './menu.js'
import { createOAuthStore, registerOAuthRoutes } from './oauth.js'
import { createOrderStore, registerPayRoutes } from './pay.js'
import type { SimOrder } from './pay.js'
import { createQrCodeStore, registerQrCodeRoutes } from './qrcode.js'
import type { QrCodeStore, SimQrCode } from './qrcode.js'
import { createTokenStore, registerTokenRoutes } from './token.js'
import type { IssuedToken, TokenStore } from './token.js'
import { createUserStore, registerUserRoutes } from './user.js'
import type { AddUserInput, SimUser, UserStore } from './user.js'

/** Faults and state of the simulated WeChat platform (`sim.platform`). */
export interface SimPlatform {
  /** Every access_token issued so far stops working (40001). */
  invalidateAccessTokens(): void
  /** Every access_token issued so far expires now (42001). */
  expireAccessTokens(): void
  failNext(api: string, errcode: number | string, times?: number): void
  setBusy(api: string, times?: number): void
  addUser(input?: AddUserInput): SimUser
  getUser(openId: string): SimUser | undefined
  users(): SimUser[]
  order(outTradeNo: string): SimOrder | undefined
  orders(): SimOrder[]
  menu(): SimMenu | undefined
  qrCode(ticketOrScene: string): SimQrCode | undefined
  qrCodes(): SimQrCode[]
  accessTokens(): IssuedToken[]
}

export interface PlatformState {
  faults: Faults
  tokens: TokenStore
  users: UserStore
  qrcodes: QrCodeStore
  menus: MenuStore
  oauth: ReturnType<typeof createOAuthStore>
  orders: ReturnType<typeof createOrderStore>
}

export function createPlatformState(ctx: SimContext): PlatformState {
  const users = createUserStore(ctx)
  return {
    faults: createFaults(),
    tokens: createTokenStore(ctx),
    users,
    qrcodes: createQrCodeStore(ctx),
    menus: createMenuStore(ctx),
    oauth: createOAuthStore(ctx, users),
    orders: createOrderStore(ctx, users),
  }
}

export function createPlatformFacade(state: PlatformState): SimPlatform {
  return {
    invalidateAccessTokens: () => state.tokens.invalidateAll(),
    expireAccessTokens: () => state.tokens.expireAll(),
    failNext: (api, errcode, times) => state.faults.failNext(api, errcode, times),
    setBusy: (api, times) => state.faults.setBusy(api, times),
    addUser: (input) => state.users.add(input),
    getUser: (openId) => state.users.get(openId),
    users: () => state.users.list(),
    order: (outTradeNo) => state.orders.get(outTradeNo),
    orders: () => state.orders.list(),
    menu: () => state.menus.current(),
    qrCode: (ticketOrScene) =>
      state.qrcodes.byTicket(ticketOrScene) ?? state.qrcodes.byScene(ticketOrScene),
    qrCodes: () => state.qrcodes.list(),
    accessTokens: () => state.tokens.list(),
  }
}

/**
 * WeChat's endpoints on one host (api, api.mch, open and mp alike). Bodies arrive as text: WeChat reads JSON
 * whatever the content type says and answers a malformed body with an errcode, never with an HTTP error.
 */
export function registerPlatformRoutes(
  app: FastifyInstance,
  ctx: SimContext,
  state: PlatformState,
): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(
    '*',
    { parseAs: 'string', bodyLimit: 1_048_576 },
    (_request, body, done) => {
      done(null, body)
    },
  )
  const deps = { ctx, ...state }
  registerTokenRoutes(app, deps)
  registerOAuthRoutes(app, deps)
  registerQrCodeRoutes(app, deps)
  registerMenuRoutes(app, deps)
  registerUserRoutes(app, deps)
  registerPayRoutes(app, deps)
}
