// @wxgate/service-kit: the Fastify plumbing both services share.
import './types.js'

export { buildService } from './build-service.js'
export type { BuildServiceOptions } from './build-service.js'
export { compileProxyTrust } from './proxy-trust.js'
export type { ProxyTrust } from './proxy-trust.js'
export { runServer } from './run-server.js'
export { closeRedisClient } from './redis-close.js'
export { releaseStartupStopHandler, STOP_SIGNALS } from './startup-signals.js'
export type { ClosableRedis } from './redis-close.js'
export type { RunServerOptions } from './run-server.js'
export { describeStartError, exitOnStartFailure } from './start-failure.js'
export {
  defineError,
  isServiceError,
  listErrorCodes,
  serviceKitErrors,
  RateLimitedError,
} from './errors.js'
export type { DefinedError, ServiceError, ErrorCodeEntry } from './errors.js'
export { errorHandler, notFoundHandler, mapError } from './error-handler.js'
export type { ErrorBody, ValidationIssue } from './error-handler.js'
export { createLoggerOptions, REDACT_PATHS, REDACTED, redactUrl } from './logger.js'
export type { CreateLoggerOptionsInput } from './logger.js'
export {
  createGenReqId,
  isValidRequestId,
  REQUEST_ID_HEADER,
  REQUEST_ID_PATTERN,
} from './request-id.js'
export type { ReadinessCheck, ReadinessCheckOptions, ServiceMetrics } from './types.js'
export type { MetricsOptions } from './metrics.js'
