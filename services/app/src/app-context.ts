// What every feature's routes get: config, clock and the domain services, built once in buildApp.
// No database handle and no WeChat client: routes reach both only through a service.
import type { SessionIssuer } from './auth/session.js'
import type { AppConfig } from './config.js'
import type { CreditsService } from './credits/credits.service.js'
import type { MenusService } from './menus/menus.service.js'
import type { AppMetrics } from './metrics/app-metrics.js'
import type { OAuthService } from './oauth/oauth.service.js'
import type { OrdersService } from './orders/orders.service.js'
import type { Catalog } from './products/products.catalog.js'
import type { QrLoginService } from './qr-login/qr-login.service.js'
import type { RateLimiter } from './rate-limit/rate-limiter.js'
import type { UsersService } from './users/users.service.js'

export interface AppContext {
  readonly config: AppConfig
  /** Unix ms. */
  now(): number
  readonly sessions: SessionIssuer
  readonly users: UsersService
  readonly qrLogin: QrLoginService
  readonly oauth: OAuthService
  readonly menus: MenusService
  readonly rateLimiter: RateLimiter
  readonly catalog: Catalog
  readonly orders: OrdersService
  readonly credits: CreditsService
  readonly metrics: AppMetrics
}

/** Options every feature plugin receives: `app.register(plugin, { ctx })`. */
export interface FeatureOptions {
  ctx: AppContext
}
