// buildService: a Fastify instance with request ids, the error and 404 handlers, and the ops routes.
import { fastify } from 'fastify'
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify'
import type { LoggerOptions } from 'pino'
import { clientErrorHandler } from './client-error.js'
import { errorHandler, notFoundHandler } from './error-handler.js'
import { isServiceError } from './errors.js'
import { installMetrics } from './metrics.js'
import type { MetricsOptions } from './metrics.js'
import { installOpsRoutes } from './ops-routes.js'
import { createGenReqId, REQUEST_ID_HEADER } from './request-id.js'
import { textCoercingValidator } from './validator.js'

export interface BuildServiceOptions {
  /** Service name, put on metrics as the `service` label. */
  name: string
  /** pino options (see createLoggerOptions), a ready pino logger, or false (default) for none. */
  logger?: false | LoggerOptions | FastifyBaseLogger
  /** Fastify's trustProxy: which proxies' X-Forwarded-For is believed. Default false. */
  trustProxy?: FastifyServerOptions['trustProxy']
  /** Largest accepted body in bytes; default 1 MiB. */
  bodyLimit?: number
  requestIdHeader?: string
  metrics?: Omit<MetricsOptions, 'defaultLabels'>
  /**
   * Gives a service's own meaning to errors that are not service errors (those keep theirs) before they
   * are answered, e.g. app's 503 DATABASE_UNAVAILABLE for a database that cannot be reached; returns any
   * other error as it is.
   */
  translateError?: (error: unknown) => unknown
}

function isLoggerInstance(value: unknown): value is FastifyBaseLogger {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { child?: unknown }).child === 'function'
  )
}

/** How long a request may take to arrive (headers and body). */
export const REQUEST_TIMEOUT_MS = 30_000

/** Never listens (STYLE §9.6): `runServer` does that. */
export function buildService(options: BuildServiceOptions): FastifyInstance {
  const { name, logger = false, trustProxy = false, bodyLimit = 1024 * 1024 } = options
  const requestIdHeader = (options.requestIdHeader ?? REQUEST_ID_HEADER).toLowerCase()
  const app = fastify({
    ...(isLoggerInstance(logger) ? { loggerInstance: logger } : { logger }),
    trustProxy,
    bodyLimit,
    // A request must arrive whole within 30 s (headers within the same; node checks every 30 s, so one is cut
    // after 30–60 s). Fastify's default 0 let a client trickling its body hold a socket open for ever.
    requestTimeout: REQUEST_TIMEOUT_MS,
    clientErrorHandler,
    // Path parameters as long as a URL may reasonably be (Fastify's 100 answered 414 before routing, so
    // before authentication and before a lookup could say 404); the routes' schemas bound them further.
    routerOptions: { maxParamLength: 1024 },
    // Scalars are coerced in query strings, params and headers, never in JSON bodies (validator.ts); never
    // arrays either (Fastify's default `coerceTypes: 'array'` took `["x"]` for "x").
    schemaController: { compilersFactory: { buildValidator: textCoercingValidator() } },
    // The header is read (and checked) by genReqId alone; Fastify would accept any value.
    requestIdHeader: false,
    genReqId: createGenReqId(requestIdHeader),
    // Bad URLs are answered before routing and hooks; give them the same body and request id.
    frameworkErrors: (error, request, reply) => {
      void reply.header(requestIdHeader, request.id)
      errorHandler(error, request, reply)
    },
  }) as unknown as FastifyInstance
  // Fastify passes requestTimeout on but leaves node's 60 s for the headers alone.
  app.server.headersTimeout = REQUEST_TIMEOUT_MS

  app.addHook('onRequest', (request, reply, done) => {
    void reply.header(requestIdHeader, request.id)
    done()
  })
  // A request still in flight when the service starts closing is answered with `Connection: close`, so its
  // socket ends with the answer. Kept alive (fetch, nginx's upstream pool), the socket would sit idle and
  // hold the drain until its timeout; Fastify closes only the connections idle when closing starts.
  let closing = false
  app.addHook('preClose', (done) => {
    closing = true
    done()
  })
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close')
    done(null, payload)
  })
  const { translateError } = options
  app.setErrorHandler(
    translateError === undefined
      ? errorHandler
      : (error, request, reply) =>
          errorHandler(isServiceError(error) ? error : translateError(error), request, reply),
  )
  app.setNotFoundHandler(notFoundHandler)
  installMetrics(app, { ...options.metrics, defaultLabels: { service: name } })
  installOpsRoutes(app)
  return app
}
