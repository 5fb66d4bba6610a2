// createSimulator: WeChat's platform (what app calls) and the phone (users + WeChat's pushes) on one Fastify server.
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { createContext } from './context.js'
import type { SimulatorOptions, SimulatorRecords, SimulatorSettings } from './context.js'
import { registerControlRoutes } from './control/routes.js'
import { registerDemoRoutes } from './demo/demo-routes.js'
import { registerCashierRoutes } from './phone/cashier-page.js'
import { createPhone } from './phone/phone.js'
import type { SimPhone } from './phone/phone.js'
import {
  createPlatformFacade,
  createPlatformState,
  registerPlatformRoutes,
} from './platform/platform.js'
import type { SimPlatform } from './platform/platform.js'

export interface Simulator {
  /** The server (for `inject` in tests); routes are registered, it does not listen until `listen`. */
  app: FastifyInstance
  listen(address?: { host?: string; port?: number }): Promise<string>
  /** `http://host:port` once listening: every WECHAT_*_BASE_URL of app points here. */
  readonly baseUrl: string
  platform: SimPlatform
  phone: SimPhone
  records: SimulatorRecords
  /** Live settings; `pushUrl` and `pushMode` may be changed at any time. */
  settings: SimulatorSettings
  /** Moves the simulator's clock forward (token, code, QR and order expiry). */
  advanceClock(ms: number): void
  now(): number
  close(): Promise<void>
}

export async function createSimulator(options: SimulatorOptions): Promise<Simulator> {
  const ctx = createContext(options)
  const state = createPlatformState(ctx)
  const platform = createPlatformFacade(state)
  const phone = createPhone(ctx, state)
  const app = Fastify({ logger: false, forceCloseConnections: true })
  // Two encapsulated scopes: the platform reads bodies as text (WeChat's way), the control API as JSON.
  await app.register((scope, _options, done) => {
    registerPlatformRoutes(scope, ctx, state)
    registerCashierRoutes(scope, { ctx, state, phone })
    done()
  })
  await app.register(
    (scope, _options, done) => {
      registerControlRoutes(scope, { ctx, state, platform, phone })
      done()
    },
    { prefix: '/_sim' },
  )
  // The demo page (demo/: a front end on the app API, served here so `npm start` needs nothing else).
  await app.register((scope, _options, done) => {
    registerDemoRoutes(scope)
    done()
  })
  app.addHook('onClose', (_instance, done) => {
    phone.stop()
    done()
  })
  await app.ready()
  let closed = false
  return {
    app,
    async listen(address = {}) {
      await app.listen({ host: address.host ?? '127.0.0.1', port: address.port ?? 0 })
      const bound = app.server.address()
      if (bound === null || typeof bound === 'string')
        throw new Error('simulator bound no TCP port')
      const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address
      ctx.setBaseUrl(`http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound.port}`)
      return ctx.baseUrl()
    },
    get baseUrl() {
      return ctx.baseUrl()
    },
    platform,
    phone,
    records: ctx.records,
    settings: ctx.settings,
    advanceClock: (ms) => ctx.advanceClock(ms),
    now: () => ctx.now(),
    async close() {
      if (closed) return
      closed = true
      await app.close()
    },
  }
}
