// The single error handler: every failure becomes {code, message, details?}; 5xx details stay in the log.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { isServiceError, serviceKitErrors } from './errors.js'

export interface ErrorBody {
  code: string
  message: string
  details?: unknown
}

interface Mapped {
  statusCode: number
  body: ErrorBody
}

export interface ValidationIssue {
  /** `body`, `querystring`, `params` or `headers`. */
  in: string
  /** JSON pointer into that part (`/openid`). */
  path: string
  message: string
}

function fromKit(ctor: KitError, details?: unknown, message: string = ctor.message): Mapped {
  return {
    statusCode: ctor.statusCode,
    body:
      details === undefined ? { code: ctor.code, message } : { code: ctor.code, message, details },
  }
}

type KitError = (typeof serviceKitErrors)[keyof typeof serviceKitErrors]

/** Fastify's own error codes and what the client is told. */
const FRAMEWORK_CODES: Readonly<Record<string, KitError>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: serviceKitErrors.PayloadTooLarge,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: serviceKitErrors.UnsupportedMediaType,
  FST_ERR_CTP_INVALID_JSON_BODY: serviceKitErrors.BodyInvalid,
  FST_ERR_CTP_EMPTY_JSON_BODY: serviceKitErrors.BodyInvalid,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: serviceKitErrors.BodyInvalid,
  FST_ERR_NOT_FOUND: serviceKitErrors.NotFound,
}

function validationIssues(error: FastifyError): ValidationIssue[] {
  const where = error.validationContext ?? 'body'
  return (error.validation ?? []).map((issue) => {
    const params = issue.params as Record<string, unknown> | undefined
    const missing = params?.missingProperty
    const path =
      issue.keyword === 'required' && typeof missing === 'string'
        ? `${issue.instancePath}/${missing}`
        : issue.instancePath
    return { in: where, path, message: issue.message ?? 'is invalid' }
  })
}

/** Maps any thrown value to the answer; exported for tests and for services that need the mapping. */
export function mapError(error: unknown): Mapped {
  if (isServiceError(error)) {
    const body: ErrorBody = { code: error.code, message: error.message }
    if (error.statusCode < 500 && error.details !== undefined) body.details = error.details
    return { statusCode: error.statusCode, body }
  }
  const e = (typeof error === 'object' && error !== null ? error : {}) as Partial<FastifyError>
  if (Array.isArray(e.validation)) {
    return fromKit(
      serviceKitErrors.ValidationFailed,
      validationIssues(e as FastifyError),
      e.message,
    )
  }
  const kitError = e.code === undefined ? undefined : FRAMEWORK_CODES[e.code]
  if (kitError !== undefined) return fromKit(kitError)
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500
  if (status === 429) return fromKit(serviceKitErrors.RateLimited)
  if (status === 413) return fromKit(serviceKitErrors.PayloadTooLarge)
  if (status === 414) return fromKit(serviceKitErrors.UriTooLong)
  if (status === 415) return fromKit(serviceKitErrors.UnsupportedMediaType)
  // Other framework 4xx (a bad URL, an aborted body): keep the status, answer a generic code.
  if (status >= 400 && status < 500) {
    const { BadRequest } = serviceKitErrors
    return { statusCode: status, body: { code: BadRequest.code, message: BadRequest.message } }
  }
  return fromKit(serviceKitErrors.InternalError)
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { statusCode, body } = mapError(error)
  if (statusCode >= 500) {
    request.log.error({ err: error, code: body.code }, 'request failed')
  } else {
    // 4xx are the caller's mistakes: a code is enough, and bodies may carry secrets.
    const message = error instanceof Error ? error.message : String(error)
    request.log.info({ code: body.code, statusCode, error: message }, 'request refused')
  }
  const retryAfterS = (error as { retryAfterS?: unknown } | null)?.retryAfterS
  if (statusCode === 429 && typeof retryAfterS === 'number' && retryAfterS >= 0) {
    void reply.header('retry-after', String(Math.ceil(retryAfterS)))
  }
  void reply.code(statusCode).type('application/json; charset=utf-8').send(body)
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  const { NotFound } = serviceKitErrors
  void reply.code(NotFound.statusCode).send({
    code: NotFound.code,
    message: `route ${request.method} ${request.url.split('?')[0] ?? ''} not found`,
  })
}
