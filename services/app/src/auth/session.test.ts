import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SignJWT } from 'jose'
import { createSessionIssuer, SessionTokenError } from './session.js'

const secret = 'x'.repeat(32)

describe('createSessionIssuer', () => {
  it('issues a token that verifies back to the same session', async () => {
    const issuer = createSessionIssuer({ secret })
    const { token, expiresIn } = await issuer.issue({ userId: 7, openId: 'o_abc' })
    assert.equal(expiresIn, 7 * 86_400)
    assert.deepEqual(await issuer.verify(token), { userId: 7, openId: 'o_abc' })
  })

  it('rejects a token signed with another secret', async () => {
    const other = createSessionIssuer({ secret: 'y'.repeat(32) })
    const { token } = await other.issue({ userId: 1, openId: 'o' })
    const error = await createSessionIssuer({ secret })
      .verify(token)
      .catch((e: unknown) => e)
    assert.ok(error instanceof SessionTokenError)
    assert.equal(error.code, 'TOKEN_INVALID')
  })

  it('rejects an expired token with TOKEN_EXPIRED', async () => {
    let clock = 1_800_000_000_000
    const issuer = createSessionIssuer({ secret, ttlS: 60, now: () => clock })
    const { token } = await issuer.issue({ userId: 1, openId: 'o' })
    clock += 61_000
    const error = await issuer.verify(token).catch((e: unknown) => e)
    assert.ok(error instanceof SessionTokenError)
    assert.equal(error.code, 'TOKEN_EXPIRED')
  })

  it('rejects garbage and an unsigned (alg none) token', async () => {
    const issuer = createSessionIssuer({ secret })
    await assert.rejects(issuer.verify('not.a.jwt'), SessionTokenError)
    const header = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')
    const body = Buffer.from('{"sub":"1","oid":"o"}').toString('base64url')
    await assert.rejects(issuer.verify(`${header}.${body}.`), SessionTokenError)
  })

  /** A token signed with the right secret, with the claims issue() writes unless overridden (null drops one). */
  async function forged(claims: Record<string, unknown>): Promise<string> {
    const iat = Math.floor(Date.now() / 1000)
    const all: Record<string, unknown> = {
      sub: '7',
      oid: 'o_abc',
      iss: 'wxgate-app',
      aud: 'wxgate-user',
      iat,
      exp: iat + 60,
      ...claims,
    }
    const payload = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== null))
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode(secret))
  }

  it('takes a forged token shaped like its own (the helper below makes valid ones)', async () => {
    const issuer = createSessionIssuer({ secret })
    assert.deepEqual(await issuer.verify(await forged({})), { userId: 7, openId: 'o_abc' })
  })

  it('refuses a token without exp or iat, even correctly signed', async () => {
    const issuer = createSessionIssuer({ secret })
    for (const dropped of ['exp', 'iat']) {
      const error = await issuer.verify(await forged({ [dropped]: null })).catch((e: unknown) => e)
      assert.ok(error instanceof SessionTokenError, `a token without ${dropped} was taken`)
      assert.equal(error.code, 'TOKEN_INVALID')
    }
  })

  it('refuses a sub that is not the user id as issue() writes it', async () => {
    const issuer = createSessionIssuer({ secret })
    for (const sub of ['1.0', '0x1', ' 1', '1e0', '01', '0', '-1', '', '9007199254740993']) {
      await assert.rejects(issuer.verify(await forged({ sub })), SessionTokenError, `sub ${sub}`)
    }
  })
})
