// The internal API's guard: IP allowlist (403), signature headers (401), then HMAC over the raw body ±300 s
// (401), nonce replay (401), and only then whether the body is JSON (400), whatever its Content-Type.
import { createSecretKey } from 'node:crypto'
import type { IpAllowlist, NonceStore } from '@wxgate/internal-api'
import {
  DEFAULT_MAX_SKEW_S,
  NONCE_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyInternalRequest,
} from '@wxgate/internal-api'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppErrors } from '../errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received (internal routes only), for the HMAC. */
    rawBody?: string
    /** Why the body is not JSON: answered (400) only once the signature holds, so an unsigned call gets 401. */
    bodyParseError?: Error
  }
}

export interface InternalGuardOptions {
  secret: string
  allowlist: IpAllowlist
  nonces: NonceStore
  /** Unix ms clock. */
  now: () => number
}

const SIGNED_BY = [TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER] as const

/**
 * How long a nonce is remembered: a timestamp up to 300 s ahead is accepted until 300 s after it (the
 * check refuses only beyond), so a nonce must outlive 600 s by the second the check rounds to.
 */
export const NONCE_TTL_S = DEFAULT_MAX_SKEW_S * 2 + 1

/** Installs the raw-body JSON parser and the guard hooks on an encapsulated (internal) context. */
export function installInternalGuard(app: FastifyInstance, options: InternalGuardOptions): void {
  // The HMAC key is built once here; every request only computes (as the gateway's client does).
  const secret = createSecretKey(Buffer.from(options.secret, 'utf8'))
  const parseJson = app.getDefaultJsonParser('error', 'error')
  // Every body is read as the JSON it must be, whatever its Content-Type says (a caller's fetch() labels
  // a string text/plain): the HMAC covers the bytes, not the label. What is not JSON is refused (400)
  // only once the signature holds.
  const readSignedJson = (
    request: FastifyRequest,
    body: string | Buffer,
    done: (error: Error | null, parsed?: unknown) => void,
  ): void => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    request.rawBody = text
    if (text === '') {
      done(null, undefined)
      return
    }
    void parseJson(request, text, (error, parsed) => {
      if (error !== null) {
        request.bodyParseError = error
        done(null, undefined)
        return
      }
      done(null, parsed)
    })
  }
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, readSignedJson)

  // Checked before the body is even read: callers outside the allowlist learn nothing more.
  app.addHook('onRequest', (request, _reply, done) => {
    if (!options.allowlist.allows(request.ip)) {
      request.log.warn({ ip: request.ip }, 'internal call from outside the allowlist')
      done(new AppErrors.INTERNAL_FORBIDDEN())
      return
    }
    // Unsigned: 401 before a byte of the body is read, whatever the body would have been.
    const headers = request.headers
    if (!SIGNED_BY.every((name) => typeof headers[name] === 'string')) {
      request.log.warn('internal call refused: not signed')
      done(new AppErrors.INTERNAL_AUTH_FAILED())
      return
    }
    done()
  })

  // preValidation runs after parsing (raw body captured) and before schema validation.
  app.addHook('preValidation', async (request) => {
    let nonce: string
    try {
      ;({ nonce } = verifyInternalRequest({
        secret,
        method: request.method,
        pathAndQuery: request.raw.url ?? request.url,
        body: request.rawBody,
        headers: request.headers,
        now: Math.floor(options.now() / 1000),
      }))
    } catch (error) {
      request.log.warn({ err: error }, 'internal call refused')
      throw new AppErrors.INTERNAL_AUTH_FAILED({ cause: error })
    }
    // Claimed only once the signature holds, so forged requests cannot burn real nonces.
    let fresh: boolean
    try {
      fresh = await options.nonces.claim(nonce, NONCE_TTL_S)
    } catch (error) {
      // Without the shared store (Redis) a replay cannot be told apart: refuse, retryably (the gateway
      // keeps the event, WeChat Pay retries the notification), rather than accept unchecked or say 500.
      request.log.error({ err: error }, 'internal call refused: replay check unavailable')
      throw new AppErrors.INTERNAL_REPLAY_CHECK_UNAVAILABLE({ cause: error })
    }
    if (!fresh) {
      request.log.warn('internal call replayed (nonce already used)')
      throw new AppErrors.INTERNAL_AUTH_FAILED()
    }
    if (request.bodyParseError !== undefined) throw request.bodyParseError
  })
}
