// buildApp: wires config and dependencies into a ready Fastify instance. It never listens (server.ts does).
import { createMemoryNonceStore, type NonceStore } from '@wxgate/internal-api'
import {
  buildService,
  closeRedisClient,
  compileProxyTrust,
  createLoggerOptions,
} from '@wxgate/service-kit'
import type { WeChatApiClient } from '@wxgate/wechat'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import type { Kysely } from 'kysely'
import type { AppContext } from './app-context.js'
import { authPlugin } from './auth/auth.plugin.js'
import { createSessionIssuer } from './auth/session.js'
import type { AppConfig } from './config.js'
import { creditsInternalRoutes } from './credits/credits.internal-routes.js'
import { creditsRoutes } from './credits/credits.routes.js'
import { createCreditsService } from './credits/credits.service.js'
import { createDb, isDatabaseUnavailable, pingDb } from './db/create-db.js'
import type { Database } from './db/database.js'
import { createSchemaCheck, migrateToLatest } from './db/migrate.js'
import { AppErrors } from './errors.js'
import { installInternalGuard } from './internal/internal-guard.js'
import { createRedisNonceStore } from './internal/redis-nonce-store.js'
import { createReconcileJob, type ReconcileJob } from './jobs/reconcile-orders.js'
import { menusRoutes } from './menus/menus.routes.js'
import { createMenusService } from './menus/menus.service.js'
import { createAppMetrics } from './metrics/app-metrics.js'
import { oauthRoutes } from './oauth/oauth.routes.js'
import { createOAuthService } from './oauth/oauth.service.js'
import { registerOpenApi } from './openapi.js'
import { ordersInternalRoutes } from './orders/orders.internal-routes.js'
import { ordersRoutes } from './orders/orders.routes.js'
import { createOrdersService } from './orders/orders.service.js'
import { createCatalog } from './products/products.catalog.js'
import { productsRoutes } from './products/products.routes.js'
import { qrLoginInternalRoutes } from './qr-login/qr-login.internal-routes.js'
import { qrLoginRoutes } from './qr-login/qr-login.routes.js'
import { createQrLoginService } from './qr-login/qr-login.service.js'
import { createMemoryRateLimiter, createRedisRateLimiter } from './rate-limit/rate-limiter.js'
import { usersInternalRoutes } from './users/users.internal-routes.js'
import { createUsersService } from './users/users.service.js'
import { instrumentClient } from './wechat/instrument.js'
import type { PayApi } from './wechat/pay-api.js'
import { createWeChatClients } from './wechat/wechat-clients.js'

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext
    reconcileJob: ReconcileJob
  }
}

export interface AppDeps {
  /** A migrated database; when given, buildApp neither migrates nor closes it. */
  db?: Kysely<Database>
  wechatApi?: WeChatApiClient
  pay?: PayApi
  /** Unix ms clock. */
  now?: () => number
  redis?: Redis
  /** pino options, a logger instance, or `false` (tests). */
  logger?: FastifyBaseLogger | Parameters<typeof buildService>[0]['logger']
  nonceStore?: NonceStore
}

/** How long app waits for one Redis command before treating Redis as away. */
export const REDIS_COMMAND_TIMEOUT_MS = 500
export const REDIS_SOCKET_TIMEOUT_MS = 2000

export async function buildApp({
  config,
  deps = {},
}: {
  config: AppConfig
  deps?: AppDeps
}): Promise<FastifyInstance> {
  const app = buildService({
    name: 'app',
    logger: deps.logger ?? createLoggerOptions({ level: config.logLevel, name: 'app' }),
    trustProxy: compileProxyTrust(config.trustProxy) ?? false,
    bodyLimit: 64 * 1024,
    translateError: (error) =>
      isDatabaseUnavailable(error) ? new AppErrors.DATABASE_UNAVAILABLE({ cause: error }) : error,
  })
  // service-kit registers its plugins without awaiting; their decorations exist after this.
  await app.after()
  const now = deps.now ?? Date.now

  const db = deps.db ?? createDb(config.db)
  if (deps.db === undefined) {
    app.addHook('onClose', async () => {
      await db.destroy()
    })
    if (config.dbMigrate) await migrateToLatest(db)
  }
  const schemaCheck = createSchemaCheck(db)
  app.addReadinessCheck('database', async () => {
    await pingDb(db)
    await schemaCheck()
  })

  let redis = deps.redis
  if (redis === undefined && config.redisUrl !== undefined) {
    // Loaded only when configured: ioredis costs ~13 MB of RSS in an app that never uses it.
    const { Redis: RedisClient } = await import('ioredis')
    const ownRedis = new RedisClient(config.redisUrl, {
      // Every use has an answer without Redis (rate limits let requests through, a signed internal call
      // gets a retryable 503), so a Redis that is away or stalls costs a request half a second, not its
      // life: without a command timeout a Redis that accepts and never answers held requests for minutes.
      // The gateway's client is stricter (250 ms, no offline queue: a push must be answered within WeChat's
      // 5 s); app keeps the queue so that commands sent while it connects at start wait for the connection.
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      // A timed-out command stays in ioredis's queue until Redis answers or the socket dies: a Redis that
      // stalls without closing held every one of them. No data for 2 s with commands out: reconnect.
      socketTimeout: REDIS_SOCKET_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: true,
    })
    ownRedis.on('error', (error) => {
      app.log.warn({ err: error }, 'redis error')
    })
    app.addHook('onClose', async () => {
      await closeRedisClient(ownRedis)
    })
    redis = ownRedis
  }
  if (redis !== undefined) {
    const client = redis
    app.addReadinessCheck('redis', async () => {
      await client.ping()
    })
  }

  const metrics = createAppMetrics(app.metrics.registry)
  let wechatApi = deps.wechatApi
  let pay = deps.pay
  if (wechatApi === undefined || pay === undefined) {
    const clients = createWeChatClients(config)
    wechatApi ??= clients.wechatApi
    pay ??= clients.pay
    app.addHook('onClose', async () => {
      await clients.dispatcher.close()
    })
  }
  wechatApi = instrumentClient(wechatApi, 'api', metrics)
  pay = instrumentClient(pay, 'pay', metrics)

  const catalog = createCatalog(config.products)
  const orders = createOrdersService({
    db,
    now,
    pay,
    catalog,
    notifyUrl: config.pay?.notifyUrl,
    orderExpireS: config.orderExpireS,
    onPaid: (_order, source) => metrics.ordersPaid.inc({ source }),
  })
  const sessions = createSessionIssuer({ secret: config.jwtSecret, now })
  const users = createUsersService({ db, now })
  const ctx: AppContext = {
    config,
    now,
    sessions,
    users,
    // One service for the public QR login routes and the gateway's internal binding routes.
    qrLogin: createQrLoginService({
      db,
      wechatApi,
      users,
      sessions,
      mpBaseUrl: config.wechat.mpBaseUrl,
      expireS: config.qrLoginExpireS,
      now,
      logger: app.log,
    }),
    oauth: createOAuthService({
      db,
      wechatApi,
      users,
      sessions,
      appId: config.wechat.appId,
      openBaseUrl: config.wechat.openBaseUrl,
      now,
      logger: app.log,
    }),
    menus: createMenusService({ wechatApi }),
    rateLimiter:
      redis !== undefined ? createRedisRateLimiter(redis) : createMemoryRateLimiter({ now }),
    catalog,
    orders,
    credits: createCreditsService({ db, now }),
    metrics,
  }
  app.decorate('ctx', ctx)

  const reconcileJob = createReconcileJob({
    orders,
    intervalS: config.reconcile.intervalS,
    minAgeS: config.reconcile.minAgeS,
    logger: app.log.child({ job: 'reconcile-orders' }),
  })
  app.decorate('reconcileJob', reconcileJob)
  // Only a listening server reconciles; inject-based tests drive runOnce() themselves.
  // Without WeChat Pay there is nothing to ask about.
  app.addHook('onListen', (done) => {
    if (config.pay !== undefined) reconcileJob.start()
    done()
  })
  app.addHook('onClose', async () => {
    await reconcileJob.stop()
  })

  await registerOpenApi(app)

  await app.register(authPlugin, { sessions: ctx.sessions, users: ctx.users })
  await app.register(productsRoutes, { ctx })
  await app.register(ordersRoutes, { ctx })
  await app.register(creditsRoutes, { ctx })
  await app.register(oauthRoutes, { ctx })
  await app.register(qrLoginRoutes, { ctx })
  await app.register(menusRoutes, { ctx })

  let forgetWarnedAt = -Infinity
  const nonces =
    deps.nonceStore ??
    (redis !== undefined
      ? createRedisNonceStore(redis)
      : createMemoryNonceStore({
          now,
          // Past ~160 internal calls/s for 10 minutes the in-process store is full and forgets nonces
          // whose timestamps are still accepted: said once a minute, as it is a deployment's choice.
          onForgetUnexpired: (keptForS) => {
            if (now() - forgetWarnedAt < 60_000) return
            forgetWarnedAt = now()
            app.log.warn(
              { keptForS: Math.round(keptForS) },
              'internal API replay check covers less than its window; set REDIS_URL at this rate',
            )
          },
        }))
  await app.register(
    async (internal) => {
      installInternalGuard(internal, {
        secret: config.internal.secret,
        allowlist: config.internal.allowlist,
        nonces,
        now,
      })
      await internal.register(usersInternalRoutes, { ctx })
      await internal.register(ordersInternalRoutes, { ctx })
      await internal.register(creditsInternalRoutes, { ctx })
      await internal.register(qrLoginInternalRoutes, { ctx })
    },
    // No prefix: each route names its whole path from INTERNAL_ROUTES, the table the gateway calls by.
  )

  return app
}
