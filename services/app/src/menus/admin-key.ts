// The X-Admin-Key check for admin endpoints: off when ADMIN_API_KEY is unset, constant-time otherwise.
import { safeEqual } from '@wxgate/wechat'
import type { FastifyRequest } from 'fastify'
import { AppErrors } from '../errors.js'

export const ADMIN_KEY_HEADER = 'x-admin-key'

/**
 * An onRequest hook admitting only requests that carry the configured key. Unset key → 403 ADMIN_DISABLED
 * (nobody can be admin); missing or wrong key → 401 ADMIN_KEY_INVALID (credentials problem).
 */
export function createAdminKeyGuard(adminApiKey: string | undefined) {
  return function requireAdminKey(request: FastifyRequest): Promise<void> {
    if (adminApiKey === undefined || adminApiKey === '') {
      return Promise.reject(new AppErrors.ADMIN_DISABLED())
    }
    const given = request.headers[ADMIN_KEY_HEADER]
    if (typeof given !== 'string' || !safeEqual(given, adminApiKey)) {
      return Promise.reject(new AppErrors.ADMIN_KEY_INVALID())
    }
    return Promise.resolve()
  }
}
