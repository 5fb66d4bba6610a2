import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { signInternalRequest } from '@wxgate/internal-api'
import { testDialects } from '../db/test-databases.js'
import { createFakePay } from '../testing/fake-pay.js'
import { createTestApp, type TestApp } from '../testing/test-app.js'

const PATH = '/api/v1/internal/user/create-or-update'

/** JSON headers for a call to PATH signed with `secret` (its timestamp and nonce overridable). */
function signedHeaders(
  secret: string,
  payload: string,
  overrides: { timestamp?: number; nonce?: string } = {},
) {
  return {
    'content-type': 'application/json',
    ...signInternalRequest({
      secret,
      method: 'POST',
      pathAndQuery: PATH,
      body: payload,
      ...overrides,
    }),
  }
}

for (const dialect of testDialects()) {
  describe(`internal API guard (${dialect})`, () => {
    let t: TestApp

    before(async () => {
      t = await createTestApp({ dialect, pay: createFakePay().pay })
    })
    after(async () => {
      await t.close()
    })

    it('accepts a signed call from an allowed address', async () => {
      const res = await t.internal('POST', PATH, { openid: 'o_guard_ok', subscribed: true })
      assert.equal(res.statusCode, 200, res.body)
      assert.equal(res.json<{ created: boolean }>().created, true)
    })

    it('answers 403 to a caller outside INTERNAL_ALLOWED_IPS, even correctly signed', async () => {
      const res = await t.internal(
        'POST',
        PATH,
        { openid: 'o_guard_ip' },
        { remoteAddress: '8.8.8.8' },
      )
      assert.equal(res.statusCode, 403)
      assert.equal(res.json<{ code: string }>().code, 'INTERNAL_FORBIDDEN')
    })

    it('believes X-Forwarded-For only from a trusted proxy', async () => {
      const viaProxy = await t.internal(
        'POST',
        PATH,
        { openid: 'o_guard_xff' },
        { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '8.8.8.8' } },
      )
      assert.equal(viaProxy.statusCode, 403, 'a trusted proxy says the caller is outside')
      const spoofed = await t.internal(
        'POST',
        PATH,
        { openid: 'o_guard_xff' },
        { remoteAddress: '8.8.4.4', headers: { 'x-forwarded-for': '127.0.0.1' } },
      )
      assert.equal(spoofed.statusCode, 403, 'an untrusted peer cannot claim to be loopback')
    })

    it('answers 401 to unsigned, wrongly signed, stale and tampered calls', async () => {
      const payload = JSON.stringify({ openid: 'o_guard_401' })
      const unsigned = await t.app.inject({
        method: 'POST',
        url: PATH,
        payload,
        headers: { 'content-type': 'application/json' },
      })
      assert.equal(unsigned.statusCode, 401)
      assert.equal(unsigned.json<{ code: string }>().code, 'INTERNAL_AUTH_FAILED')

      const wrongSecret = await t.app.inject({
        method: 'POST',
        url: PATH,
        payload,
        headers: {
          'content-type': 'application/json',
          ...signInternalRequest({
            secret: 'another-secret-another-secret-another',
            method: 'POST',
            pathAndQuery: PATH,
            body: payload,
          }),
        },
      })
      assert.equal(wrongSecret.statusCode, 401)

      const stale = await t.app.inject({
        method: 'POST',
        url: PATH,
        payload,
        headers: signedHeaders(t.config.internal.secret, payload, {
          timestamp: Math.floor(Date.now() / 1000) - 301,
        }),
      })
      assert.equal(stale.statusCode, 401)

      const tampered = await t.app.inject({
        method: 'POST',
        url: PATH,
        payload: JSON.stringify({ openid: 'o_guard_evil' }),
        headers: signedHeaders(t.config.internal.secret, payload),
      })
      assert.equal(tampered.statusCode, 401)

      const invalidBody = await t.app.inject({
        method: 'POST',
        url: PATH,
        payload: '{"openid":',
        headers: { 'content-type': 'application/json' },
      })
      assert.equal(invalidBody.statusCode, 401, 'unsigned: 401 before the body is judged')
      const rows = await t.db
        .selectFrom('wechat_users')
        .select('id')
        .where('openid', 'in', ['o_guard_401', 'o_guard_evil'])
        .execute()
      assert.equal(rows.length, 0, 'a refused request changes nothing')
    })

    it('rejects a replayed nonce', async () => {
      const payload = JSON.stringify({ openid: 'o_guard_replay' })
      const headers = signedHeaders(t.config.internal.secret, payload)
      const first = await t.app.inject({ method: 'POST', url: PATH, payload, headers })
      assert.equal(first.statusCode, 200)
      const replay = await t.app.inject({ method: 'POST', url: PATH, payload, headers })
      assert.equal(replay.statusCode, 401)
    })

    it('answers 401 to an unsigned call whatever its body, before reading it', async () => {
      const bodies: { payload: string; headers: Record<string, string> }[] = [
        {
          payload: 'openid=o_form',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        },
        { payload: '<xml/>', headers: { 'content-type': 'application/xml' } },
        { payload: 'hello', headers: { 'content-type': 'text/plain' } },
        { payload: '{"openid":"o_untyped"}', headers: {} },
        {
          payload: JSON.stringify({ openid: 'x'.repeat(100_000) }),
          headers: { 'content-type': 'application/json' },
        },
      ]
      for (const { payload, headers } of bodies) {
        const res = await t.app.inject({ method: 'POST', url: PATH, payload, headers })
        assert.equal(res.statusCode, 401, `${headers['content-type']}: ${res.body}`)
        assert.equal(res.json<{ code: string }>().code, 'INTERNAL_AUTH_FAILED')
      }
    })

    it('reads a signed JSON body whatever its Content-Type says; a wrong signature is still 401', async () => {
      for (const type of [
        'text/plain;charset=UTF-8',
        'application/x-www-form-urlencoded',
        undefined,
      ]) {
        const payload = JSON.stringify({ openid: `o_typed_${String(type?.length ?? 0)}` })
        const { 'content-type': _json, ...signature } = signedHeaders(
          t.config.internal.secret,
          payload,
        )
        const headers = type === undefined ? signature : { ...signature, 'content-type': type }
        const res = await t.app.inject({ method: 'POST', url: PATH, payload, headers })
        assert.equal(res.statusCode, 200, `${String(type)}: ${res.body}`)
      }
      const payload = 'openid=o_form'
      const forged = await t.app.inject({
        method: 'POST',
        url: PATH,
        payload: 'openid=o_other',
        headers: {
          ...signedHeaders(t.config.internal.secret, payload),
          'content-type': 'application/x-www-form-urlencoded',
        },
      })
      assert.equal(forged.statusCode, 401)
      const form = await t.app.inject({
        method: 'POST',
        url: PATH,
        payload,
        headers: {
          ...signedHeaders(t.config.internal.secret, payload),
          'content-type': 'application/x-www-form-urlencoded',
        },
      })
      assert.equal(form.statusCode, 400, 'signed, but not JSON')
    })

    it('answers 400 to a signed body that is not JSON', async () => {
      const payload = '{"openid":'
      const res = await t.app.inject({
        method: 'POST',
        url: PATH,
        payload,
        headers: signedHeaders(t.config.internal.secret, payload),
      })
      assert.equal(res.statusCode, 400, res.body)
      assert.equal(res.json<{ code: string }>().code, 'BODY_INVALID')
    })

    it('validates a signed body against the schema (400)', async () => {
      const res = await t.internal('POST', PATH, { subscribed: true })
      assert.equal(res.statusCode, 400)
      assert.equal(res.json<{ code: string }>().code, 'VALIDATION_FAILED')
    })
  })
}

describe('internal API guard: the nonce outlives the timestamp window', () => {
  const start = 1_800_000_000_000
  let clock = start
  let t: TestApp

  before(async () => {
    t = await createTestApp({ dialect: 'sqlite', now: () => clock })
  })
  after(async () => {
    await t.close()
  })

  it('refuses the replay of a call stamped 300 s ahead in the last second it is accepted', async () => {
    const payload = JSON.stringify({ openid: 'o_guard_edge' })
    const headers = signedHeaders(t.config.internal.secret, payload, {
      timestamp: start / 1000 + 300,
    })
    const call = () => t.app.inject({ method: 'POST', url: PATH, payload, headers })
    assert.equal((await call()).statusCode, 200)
    // 600.999 s later the timestamp is 300 s behind: still inside the window, so only the nonce refuses it.
    clock = start + 600_999
    const replay = await call()
    assert.equal(replay.statusCode, 401, replay.body)
    assert.equal(replay.json<{ code: string }>().code, 'INTERNAL_AUTH_FAILED')
  })
})
