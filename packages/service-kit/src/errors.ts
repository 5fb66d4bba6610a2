// defineError (stable code + message + status over @fastify/error) and the codes service-kit itself answers with.
import createError from '@fastify/error'
import type { FastifyErrorConstructor } from '@fastify/error'

/** Marks constructors made by defineError, so the error handler trusts their code and status. */
const DEFINED_ERROR = Symbol.for('wxgate.service-kit.defined-error')

export type DefinedError<
  C extends string = string,
  SC extends number = number,
> = FastifyErrorConstructor<{ code: C; statusCode: SC }> & {
  readonly code: C
  readonly statusCode: SC
  /** The message template (`%s` placeholders filled from the constructor arguments). */
  readonly message: string
}

/** An error whose code, message and status a service answers with as they are. */
export interface ServiceError extends Error {
  code: string
  statusCode: number
  /** Sent to the client for 4xx answers; never for 5xx. */
  details?: unknown
}

const CODE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/

/**
 * `defineError('ORDER_NOT_FOUND', 'order %s not found', 404)` → a constructor; `new OrderNotFound('T1',
 * { cause })`. To send details with a 4xx, set them on the instance: `Object.assign(new X(), { details })`.
 */
export function defineError<C extends string, SC extends number>(
  code: C,
  message: string,
  statusCode: SC,
): DefinedError<C, SC> {
  if (!CODE.test(code)) throw new TypeError(`error code ${code} is not SCREAMING_SNAKE_CASE`)
  if (!Number.isInteger(statusCode) || statusCode < 400 || statusCode > 599) {
    throw new RangeError(`error ${code} needs a 4xx or 5xx status, not ${statusCode}`)
  }
  const ctor = createError(code, message, statusCode)
  Object.defineProperty(ctor.prototype, DEFINED_ERROR, { value: true })
  Object.defineProperties(ctor, {
    code: { value: code, enumerable: true },
    statusCode: { value: statusCode, enumerable: true },
    message: { value: message, enumerable: true },
  })
  return ctor as DefinedError<C, SC>
}

/** True for instances of constructors made by defineError. */
export function isServiceError(error: unknown): error is ServiceError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[DEFINED_ERROR] === true
  )
}

export interface ErrorCodeEntry {
  code: string
  statusCode: number
  message: string
}

/** Every code in a registry (an object of defineError constructors), sorted; for the docs sync test. */
export function listErrorCodes(registry: Readonly<Record<string, unknown>>): ErrorCodeEntry[] {
  const entries: ErrorCodeEntry[] = []
  for (const value of Object.values(registry)) {
    if (typeof value !== 'function') continue
    const prototype = (value as { prototype?: unknown }).prototype
    if (!isServiceError(prototype)) continue
    const ctor = value as DefinedError
    entries.push({ code: ctor.code, statusCode: ctor.statusCode, message: ctor.message })
  }
  return entries.sort((a, b) => a.code.localeCompare(b.code))
}

/** The codes service-kit answers with itself; services add theirs next to these. */
export const serviceKitErrors = {
  ValidationFailed: defineError('VALIDATION_FAILED', 'request validation failed', 400),
  BodyInvalid: defineError('BODY_INVALID', 'request body is malformed', 400),
  BadRequest: defineError('BAD_REQUEST', 'bad request', 400),
  NotFound: defineError('NOT_FOUND', 'not found', 404),
  RequestTimeout: defineError('REQUEST_TIMEOUT', 'the request did not arrive in time', 408),
  PayloadTooLarge: defineError('PAYLOAD_TOO_LARGE', 'request body is too large', 413),
  UriTooLong: defineError('URI_TOO_LONG', 'request URI is too long', 414),
  UnsupportedMediaType: defineError('UNSUPPORTED_MEDIA_TYPE', 'unsupported content type', 415),
  RateLimited: defineError('RATE_LIMITED', 'too many requests, retry later', 429),
  HeadersTooLarge: defineError('HEADERS_TOO_LARGE', 'request headers are too large', 431),
  InternalError: defineError('INTERNAL_ERROR', 'internal error', 500),
  NotReady: defineError('NOT_READY', 'service is not ready', 503),
} as const

/** Shared by every rate limiter so all of them answer 429 `RATE_LIMITED`. */
export const RateLimitedError = serviceKitErrors.RateLimited
