// buildApp: the gateway's Fastify instance (WeChat's three URLs + ops), wired from config and deps; never listens.
import { createSecretKey } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import proxyAddr from '@fastify/proxy-addr'
import type { FastifyInstance } from 'fastify'
import { createInternalClient } from '@wxgate/internal-api'
import { buildService, compileProxyTrust, createLoggerOptions } from '@wxgate/service-kit'
import type { BuildServiceOptions } from '@wxgate/service-kit'
import { createMessageCrypto } from '@wxgate/wechat'
import type { GatewayConfig } from './config.js'
import { isEventJob } from './events/app-calls.js'
import type { AppCallName, AppClient, EventJob } from './events/app-calls.js'
import { createMemoryDedupeStore, createRedisDedupeStore } from './events/dedupe.js'
import type { DedupeStore } from './events/dedupe.js'
import { createEventDispatcher } from './events/dispatch.js'
import { createSpoolDelivery } from './events/spool-delivery.js'
import { createGatewayMetrics, statusClass } from './metrics.js'
import { createEncryptedQueryMarks } from './routes/encrypted-queries.js'
import { paymentNotifyRoutes } from './routes/payment-notify.js'
import { wechatVerifyRoutes } from './routes/wechat-verify.js'
import { createPushHandler } from './routes/wechat-push.js'
import { createVerifyFastPath, installFastPath } from './routes/wechat-verify-fast.js'
import { XML_BODY_LIMIT } from './routes/xml-body.js'
import { openSpool } from './spool/spool.js'
import { createSpoolWorker } from './spool/spool-worker.js'
import type { BackoffOptions } from './spool/spool-worker.js'

export interface GatewayDeps {
  /** The internal client to app; default: one built from APP_SERVER_URL and INTERNAL_API_SECRET. */
  client?: AppClient
  /** ms clock (push timestamps, reply times, spool sequence). */
  now?: () => number
  /** Default: Redis when REDIS_URL is set, else in-process. */
  dedupe?: DedupeStore
  /** Overrides GATEWAY_SPOOL_DIR. */
  spoolDir?: string
  /** Fastify logger option; default: JSON logs at LOG_LEVEL with the redact list. */
  logger?: BuildServiceOptions['logger']
  /** Budget of all internal calls of one push, well under WeChat's 5 s (default 1500 ms). */
  pushDeadlineMs?: number
  /** How long app may take to record a payment (default 3000 ms). */
  payDeadlineMs?: number
  /** Budget of one delivery attempt from the spool (default 5000 ms). */
  spoolDeliveryTimeoutMs?: number
  spoolBackoff?: BackoffOptions
  /** Random source of the safe-mode reply prefix. */
  randomBytes?: (size: number) => Buffer
}

export async function buildApp(options: {
  config: GatewayConfig
  deps?: GatewayDeps
}): Promise<FastifyInstance> {
  const { config, deps = {} } = options
  const now = deps.now ?? Date.now
  // One function for Fastify and the fast path, so both name the same client address.
  const trust = compileProxyTrust(config.trustProxy)

  const app = buildService({
    name: 'gateway',
    logger: deps.logger ?? createLoggerOptions({ level: config.logLevel, name: 'gateway' }),
    trustProxy: trust ?? false,
    bodyLimit: XML_BODY_LIMIT,
  })
  const metrics = createGatewayMetrics(app.metrics.registry)
  const deliveryTimeoutMs = deps.spoolDeliveryTimeoutMs ?? 5000

  const ownClient =
    deps.client === undefined
      ? createInternalClient({
          baseUrl: config.appServerUrl,
          // The HMAC key is built once here; every call only computes.
          secret: createSecretKey(Buffer.from(config.internalApiSecret, 'utf8')),
          timeoutMs: deliveryTimeoutMs,
        })
      : undefined
  const client: AppClient = deps.client ?? (ownClient as AppClient)

  let dedupe = deps.dedupe
  if (dedupe === undefined && config.redisUrl !== undefined) {
    // Loaded only when configured: ioredis costs ~13 MB of RSS in a gateway that never uses it.
    const { Redis } = await import('ioredis')
    const redis = new Redis(config.redisUrl, {
      lazyConnect: true,
      // A Redis outage must not hold a push past WeChat's deadline: fail fast, process without it.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 250,
      // A timed-out command stays queued until Redis answers or the socket dies: reconnect after 2 s of
      // silence with commands out, or a stalled Redis holds every push's commands (~1.2 KB each).
      socketTimeout: 2000,
    })
    redis.on('error', (error: unknown) => app.log.warn({ err: error }, 'redis error'))
    try {
      await redis.connect()
    } catch (error) {
      app.log.warn({ err: error }, 'redis unreachable at start; dedupe falls back per push')
    }
    dedupe = createRedisDedupeStore({ redis, ownsConnection: true })
  }
  const dedupeStore = dedupe ?? createMemoryDedupeStore({ now })

  const observeCall = (
    call: AppCallName | 'readyz',
    seconds: number,
    status: number | 'unreachable',
  ): void => {
    metrics.appCallDuration.observe({ call, status: statusClass(status) }, seconds)
  }

  const spoolDir = deps.spoolDir ?? config.spoolDir
  const spool = await openSpool<EventJob>({
    dir: spoolDir,
    isPayload: isEventJob,
    now,
    onProblem: ({ file, error, kind }) =>
      app.log.error(
        { err: error, file },
        kind === 'set-aside'
          ? 'unreadable spool entry set aside'
          : 'unfinished spool file left behind (removed at the next start)',
      ),
  }).catch((error: unknown) => {
    // Named, so the one line a failed start prints says which setting to fix.
    throw new Error(`cannot use GATEWAY_SPOOL_DIR ${spoolDir}`, { cause: error })
  })
  const worker = createSpoolWorker<EventJob>({
    spool,
    backoff: deps.spoolBackoff,
    onDepth: (depth) => metrics.spoolDepth.set(depth),
    onError: (error, entry) =>
      app.log.error({ err: error, entry: entry.id }, 'spool delivery failed'),
    deliver: createSpoolDelivery({
      client,
      metrics,
      timeoutMs: deliveryTimeoutMs,
      observeCall,
      log: app.log,
    }),
  })

  const dispatcher = createEventDispatcher({
    client,
    dedupe: dedupeStore,
    worker,
    replies: config.replies,
    deadlineMs: deps.pushDeadlineMs ?? 1500,
    observeCall,
  })

  const crypto =
    config.wechat.encodingAesKey === undefined
      ? undefined
      : createMessageCrypto({
          token: config.wechat.token,
          encodingAesKey: config.wechat.encodingAesKey,
          appId: config.wechat.appId,
          ...(deps.randomBytes === undefined ? {} : { randomBytes: deps.randomBytes }),
        })

  const push = createPushHandler({
    token: config.wechat.token,
    crypto,
    pushMaxAgeS: config.wechat.pushMaxAgeS,
    encryptedOnly: config.wechat.encryptedOnly,
    dispatcher,
    metrics,
    encryptedQueries: createEncryptedQueryMarks({
      local: dedupe === undefined ? dedupeStore : createMemoryDedupeStore({ now }),
      shared: dedupe,
      failClosed: crypto !== undefined,
      log: app.log,
      now,
    }),
    now,
  })
  await app.register(wechatVerifyRoutes, { token: config.wechat.token, push })
  // GET and POST …/verify are answered on the node:http server itself (no Fastify frame); the routes
  // above stay the reference and answer app.inject(), HEAD and every request the fast path leaves.
  installFastPath(
    app.server,
    createVerifyFastPath(app, {
      token: config.wechat.token,
      push,
      taken: metrics.fastPathRequests,
      // Without a trusted proxy the fast path names the socket's address, as Fastify does.
      ...(trust === undefined
        ? {}
        : { clientAddress: (req: IncomingMessage) => proxyAddr(req, trust) }),
    }),
  )
  await app.register(paymentNotifyRoutes, {
    appId: config.wechat.appId,
    pay: config.pay,
    client,
    deadlineMs: deps.payDeadlineMs ?? 3000,
    metrics,
  })

  app.addReadinessCheck('app', async () => {
    const started = performance.now()
    let status: number | 'unreachable' = 'unreachable'
    try {
      status = (await client.ready({ timeoutMs: 1000 })).status
    } finally {
      observeCall('readyz', (performance.now() - started) / 1000, status)
    }
    if (status !== 200) throw new Error(`app /readyz answered ${status}`)
  })

  app.addHook('onReady', (done) => {
    worker.start()
    done()
  })
  app.addHook('onClose', async () => {
    await worker.stop()
    await dedupeStore.close()
    await ownClient?.close()
  })
  return app
}
