// Per-client-IP limits of the login endpoints: each call writes a row or calls WeChat, so floods cost.
import { RateLimitedError } from '@wxgate/service-kit'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RateLimiter } from '../rate-limit/rate-limiter.js'

export interface LoginRateRule {
  /** Names the endpoint in the limiter key. */
  name: string
  limit: number
  windowS: number
}

// Generous enough for many users behind one NAT (an office, a campus) or a test run from one host;
// they stop floods, not people.
export const LOGIN_RATE_RULES = {
  authorizeUrl: { name: 'authorize-url', limit: 600, windowS: 60 },
  oauthLogin: { name: 'oauth-login', limit: 300, windowS: 60 },
  qrCode: { name: 'qrcode', limit: 300, windowS: 60 },
} as const satisfies Record<string, LoginRateRule>

/**
 * An onRequest hook answering 429 RATE_LIMITED (with Retry-After) once `request.ip` exceeds the rule.
 * When the limiter's store (Redis) is unavailable the request goes through: a limit against floods is not
 * worth locking every user out of login for as long as the outage lasts.
 */
export function limitByClientIp(rateLimiter: RateLimiter, rule: LoginRateRule) {
  return async function loginRateLimit(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    let result
    try {
      result = await rateLimiter.hit(`login:${rule.name}:${request.ip}`, {
        limit: rule.limit,
        windowS: rule.windowS,
      })
    } catch (error) {
      request.log.warn({ err: error }, 'rate limiter unavailable; request not limited')
      return
    }
    if (!result.allowed) {
      void reply.header('retry-after', String(result.retryAfterS))
      throw new RateLimitedError()
    }
  }
}
