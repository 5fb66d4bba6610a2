// pino options shared by both services: JSON logs, ISO time, and the one redact list (STYLE §9.10).
import { pino } from 'pino'
import type { LoggerOptions } from 'pino'

const SECRET_HEADERS = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-admin-key',
  'x-internal-signature',
] as const

/** Keys whose values never reach a log line, at the top level and inside the containers below. */
const SECRET_KEYS = [
  'secret',
  'token',
  'password',
  'apiKey',
  'api_key',
  'access_token',
  'accessToken',
  'refresh_token',
  'refreshToken',
  'encodingAesKey',
  'Encrypt',
  'content',
  'Content',
] as const

/**
 * The objects the services log (grep of every log call) that may hold a secret key one level
 * down. Concrete paths, never `*.x`: a leading wildcard makes pino run its wildcard redactor on
 * the bindings of every child logger, and Fastify makes one per request (≈ 2.8 µs each).
 */
const SECRET_CONTAINERS = [
  'req',
  'request',
  'res',
  'reply',
  'err',
  'err.cause',
  'error',
  'config',
  'options',
  'body',
  'query',
  'params',
  'payload',
  'message',
  'job',
  'entry',
  'result',
  'report',
  'grant',
  'user',
] as const

/** Objects that may carry HTTP headers (request, response, an HTTP client's error). */
const HEADER_CONTAINERS = ['', 'req.', 'request.', 'res.', 'reply.', 'err.', 'error.'] as const

export const REDACT_PATHS: readonly string[] = Object.freeze([
  ...HEADER_CONTAINERS.flatMap((c) => SECRET_HEADERS.map((h) => `${c}headers["${h}"]`)),
  // node's HTTP parser errors carry the request's first bytes (headers and query) as `rawPacket`.
  'err.rawPacket',
  'error.rawPacket',
  ...SECRET_KEYS,
  ...SECRET_CONTAINERS.flatMap((c) => SECRET_KEYS.map((k) => `${c}.${k}`)),
])

export const REDACTED = '[redacted]'

/** Query parameters whose values are credentials (WeChat signatures, OAuth codes, tokens). */
const SECRET_QUERY_PARAMS = new Set([
  'signature',
  'msg_signature',
  'echostr',
  'code',
  'state',
  'token',
  'access_token',
  'ticket',
  'sign',
  // A QR login's scene: whoever has it can pick up the scanner's login from check-follow until it expires.
  'scene_str',
])

/** The URL with the values of credential query parameters replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?')
  if (q === -1) return url
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      const name = eq === -1 ? pair : pair.slice(0, eq)
      let decoded: string
      try {
        decoded = decodeURIComponent(name)
      } catch {
        // A malformed escape is logged as written; it cannot name a secret parameter anyway.
        decoded = name
      }
      return SECRET_QUERY_PARAMS.has(decoded) && eq !== -1 ? `${name}=${REDACTED}` : pair
    })
  return `${url.slice(0, q)}?${params.join('&')}`
}

interface LoggedRequest {
  id?: unknown
  method?: string
  url?: string
  ip?: string
  headers?: Record<string, unknown>
}

export interface CreateLoggerOptionsInput {
  level: string
  name: string
}

/** Options for pino (or Fastify's `logger`); also usable as `pino(createLoggerOptions(...), stream)`. */
export function createLoggerOptions({ level, name }: CreateLoggerOptionsInput): LoggerOptions {
  return {
    level,
    name,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: {
      err: pino.stdSerializers.errWithCause,
      req(req: LoggedRequest) {
        return {
          id: req.id,
          method: req.method,
          url: typeof req.url === 'string' ? redactUrl(req.url) : undefined,
          remote_address: req.ip,
          user_agent: req.headers?.['user-agent'],
        }
      },
    },
  }
}
