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

/** Keys whose values never reach a log line, at the top level and one level down. */
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

export const REDACT_PATHS: readonly string[] = Object.freeze([
  ...SECRET_HEADERS.flatMap((h) => [`headers["${h}"]`, `*.headers["${h}"]`]),
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`]),
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
