import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
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
})
