// What every feature's routes get: config, database, clock, logger, WeChat clients and shared services.
import type { WeChatApiClient } from '@wxgate/wechat'
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { Kysely } from 'kysely'
import type { SessionIssuer } from './auth/session.js'
import type { AppConfig } from './config.js'
import type { CreditsService } from './credits/credits.service.js'
import type { Database } from './db/database.js'
import type { AppMetrics } from './metrics/app-metrics.js'
import type { OrdersService } from './orders/orders.service.js'
import type { Catalog } from './products/products.catalog.js'
import type { QrLoginService } from './qr-login/qr-login.service.js'
import type { RateLimiter } from './rate-limit/rate-limiter.js'
import type { UsersService } from './users/users.service.js'
import type { PayApi } from './wechat/pay-api.js'

export interface AppContext {
  readonly config: AppConfig
  readonly db: Kysely<Database>
  /** Unix ms. */
  now(): number
  readonly logger: FastifyBaseLogger
  readonly wechatApi: WeChatApiClient
  readonly pay: PayApi
  readonly sessions: SessionIssuer
  readonly users: UsersService
  readonly qrLogin: QrLoginService
  readonly rateLimiter: RateLimiter
  readonly redis?: Redis | undefined
  readonly catalog: Catalog
  readonly orders: OrdersService
  readonly credits: CreditsService
  readonly metrics: AppMetrics
}

/** Options every feature plugin receives: `app.register(plugin, { ctx })`. */
export interface FeatureOptions {
  ctx: AppContext
}
