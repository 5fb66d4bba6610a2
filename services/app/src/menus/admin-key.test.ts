// The X-Admin-Key guard: disabled without a key, 401 for a missing or wrong one, passes the right one.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { FastifyRequest } from 'fastify'
import { createAdminKeyGuard } from './admin-key.js'

const request = (headers: Record<string, string | undefined>) =>
  ({ headers }) as unknown as FastifyRequest

describe('createAdminKeyGuard', () => {
  it('refuses everyone with ADMIN_DISABLED when no key is configured', async () => {
    for (const key of [undefined, '']) {
      const guard = createAdminKeyGuard(key)
      await assert.rejects(guard(request({ 'x-admin-key': '' })), { code: 'ADMIN_DISABLED' })
      await assert.rejects(guard(request({})), { statusCode: 403 })
    }
  })

  it('refuses a missing, wrong or longer key with 401 ADMIN_KEY_INVALID', async () => {
    const guard = createAdminKeyGuard('s3cret-admin-key')
    for (const headers of [
      {},
      { 'x-admin-key': 'wrong' },
      { 'x-admin-key': 's3cret-admin-key ' },
    ]) {
      await assert.rejects(guard(request(headers)), { code: 'ADMIN_KEY_INVALID', statusCode: 401 })
    }
  })

  it('admits the configured key', async () => {
    const guard = createAdminKeyGuard('s3cret-admin-key')
    await assert.doesNotReject(guard(request({ 'x-admin-key': 's3cret-admin-key' })))
  })
})
