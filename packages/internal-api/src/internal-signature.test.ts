// Tests for the internal HMAC signature against a vector computed outside the implementation.
import assert from 'node:assert/strict'
import { createHash, createHmac, createSecretKey } from 'node:crypto'
import { describe, it } from 'node:test'
import { InternalAuthError } from './errors.js'
import type { InternalAuthErrorCode } from './errors.js'
import {
  randomInternalNonce,
  signInternalRequest,
  verifyInternalRequest,
} from './internal-signature.js'
import type { HeaderBag } from './internal-signature.js'

const SECRET = 'test-secret-0123456789-abcdefghijkl'
const PATH = '/api/v1/internal/user/create-or-update?trace=1'
const BODY = '{"openid":"o1"}'
const TIMESTAMP = 1764057600
const NONCE = 'AbCdEfGhIjKlMnOp1234'

/** The contract's formula written out independently of the implementation. */
function byHand(method: string, path: string, timestamp: string, nonce: string, body: string) {
  const bodyHash = createHash('sha256').update(body, 'utf8').digest('hex')
  const s = [method, path, timestamp, nonce, bodyHash].join('\n')
  return createHmac('sha256', SECRET).update(s, 'utf8').digest('hex')
}

function expectAuthError(fn: () => unknown, code: InternalAuthErrorCode): void {
  assert.throws(fn, (error: unknown) => error instanceof InternalAuthError && error.code === code)
}

function signed(overrides: Partial<{ body: string; nonce: string; timestamp: number }> = {}) {
  return signInternalRequest({
    secret: SECRET,
    method: 'POST',
    pathAndQuery: PATH,
    body: overrides.body ?? BODY,
    timestamp: overrides.timestamp ?? TIMESTAMP,
    nonce: overrides.nonce ?? NONCE,
  })
}

function verify(
  headers: HeaderBag,
  overrides: Partial<{ method: string; path: string; body: string; now: number }> = {},
) {
  return verifyInternalRequest({
    secret: SECRET,
    method: overrides.method ?? 'POST',
    pathAndQuery: overrides.path ?? PATH,
    body: overrides.body ?? BODY,
    headers,
    now: overrides.now ?? TIMESTAMP + 10,
  })
}

describe('signInternalRequest', () => {
  it('produces the contract signature for a known vector', () => {
    const headers = signed()
    // Computed independently with `openssl dgst -sha256 -hmac` over the same S.
    assert.equal(
      headers['x-internal-signature'],
      '9854c054a6f9655d7cba66319ac95e4a0e83ff7c6876f81277d51bc8f6d1b06a',
    )
    assert.equal(
      headers['x-internal-signature'],
      byHand('POST', PATH, String(TIMESTAMP), NONCE, BODY),
    )
    assert.equal(headers['x-internal-timestamp'], '1764057600')
    assert.equal(headers['x-internal-nonce'], NONCE)
  })

  it('hashes an absent body as the empty string', () => {
    const headers = signInternalRequest({
      secret: SECRET,
      method: 'GET',
      pathAndQuery: '/x',
      timestamp: TIMESTAMP,
      nonce: NONCE,
    })
    assert.equal(headers['x-internal-signature'], byHand('GET', '/x', String(TIMESTAMP), NONCE, ''))
  })

  it('accepts a prebuilt KeyObject as the secret', () => {
    const headers = signInternalRequest({
      secret: createSecretKey(Buffer.from(SECRET)),
      method: 'POST',
      pathAndQuery: PATH,
      body: Buffer.from(BODY),
      timestamp: TIMESTAMP,
      nonce: NONCE,
    })
    assert.equal(
      headers['x-internal-signature'],
      byHand('POST', PATH, String(TIMESTAMP), NONCE, BODY),
    )
  })

  it('makes a fresh, valid nonce and the current time by default', () => {
    const a = signInternalRequest({
      secret: SECRET,
      method: 'POST',
      pathAndQuery: PATH,
      body: BODY,
    })
    const b = signInternalRequest({
      secret: SECRET,
      method: 'POST',
      pathAndQuery: PATH,
      body: BODY,
    })
    assert.match(a['x-internal-nonce'], /^[A-Za-z0-9]{16,64}$/)
    assert.notEqual(a['x-internal-nonce'], b['x-internal-nonce'])
    assert.ok(Math.abs(Number(a['x-internal-timestamp']) - Date.now() / 1000) < 5)
    assert.match(randomInternalNonce(16), /^[A-Za-z0-9]{16}$/)
  })
})

describe('verifyInternalRequest', () => {
  it('accepts a correctly signed request and returns its timestamp and nonce', () => {
    assert.deepEqual(verify(signed()), { timestamp: TIMESTAMP, nonce: NONCE })
  })

  it('rejects a tampered method, path, query, body or timestamp', () => {
    const headers = signed()
    expectAuthError(() => verify(headers, { method: 'PUT' }), 'SIGNATURE_INVALID')
    expectAuthError(
      () => verify(headers, { path: '/api/v1/internal/credits/consume?trace=1' }),
      'SIGNATURE_INVALID',
    )
    expectAuthError(
      () => verify(headers, { path: '/api/v1/internal/user/create-or-update?trace=2' }),
      'SIGNATURE_INVALID',
    )
    expectAuthError(() => verify(headers, { body: '{"openid":"o2"}' }), 'SIGNATURE_INVALID')
    expectAuthError(
      () => verify({ ...headers, 'x-internal-timestamp': String(TIMESTAMP + 1) }),
      'SIGNATURE_INVALID',
    )
    expectAuthError(
      () => verify({ ...headers, 'x-internal-nonce': 'ZZZZZZZZZZZZZZZZZZZZ' }),
      'SIGNATURE_INVALID',
    )
  })

  it('rejects a signature made with another secret', () => {
    const other = signInternalRequest({
      secret: 'another-secret-0123456789-abcdefghij',
      method: 'POST',
      pathAndQuery: PATH,
      body: BODY,
      timestamp: TIMESTAMP,
      nonce: NONCE,
    })
    expectAuthError(() => verify(other), 'SIGNATURE_INVALID')
  })

  it('rejects uppercase or malformed signature hex', () => {
    const headers = signed()
    const upper = headers['x-internal-signature'].toUpperCase()
    expectAuthError(
      () => verify({ ...headers, 'x-internal-signature': upper }),
      'SIGNATURE_INVALID',
    )
    expectAuthError(
      () => verify({ ...headers, 'x-internal-signature': 'abc' }),
      'SIGNATURE_INVALID',
    )
  })

  it('rejects a request more than 300 seconds off, either way', () => {
    const headers = signed()
    assert.ok(verify(headers, { now: TIMESTAMP + 300 }))
    assert.ok(verify(headers, { now: TIMESTAMP - 300 }))
    expectAuthError(() => verify(headers, { now: TIMESTAMP + 301 }), 'TIMESTAMP_STALE')
    expectAuthError(() => verify(headers, { now: TIMESTAMP - 301 }), 'TIMESTAMP_STALE')
  })

  it('rejects a non-numeric timestamp', () => {
    const headers = signed()
    expectAuthError(() => verify({ ...headers, 'x-internal-timestamp': '1e9' }), 'TIMESTAMP_STALE')
  })

  it('rejects nonces that are too short, too long or outside [A-Za-z0-9]', () => {
    for (const nonce of [
      'a'.repeat(15),
      'a'.repeat(65),
      'abcdefghijklmnop-',
      'abcdefghijklmnopé',
    ]) {
      expectAuthError(() => verify({ ...signed(), 'x-internal-nonce': nonce }), 'NONCE_INVALID')
    }
    for (const nonce of ['a'.repeat(16), 'Z9'.repeat(32)]) {
      assert.equal(verify(signed({ nonce })).nonce, nonce)
    }
  })

  it('reports missing or repeated headers as SIGNATURE_MISSING', () => {
    const headers = signed()
    expectAuthError(() => verify({}), 'SIGNATURE_MISSING')
    for (const name of Object.keys(headers)) {
      const partial: Record<string, string> = { ...headers }
      delete partial[name]
      expectAuthError(() => verify(partial), 'SIGNATURE_MISSING')
    }
    const repeated = { ...headers, 'x-internal-signature': [headers['x-internal-signature']] }
    expectAuthError(() => verify(repeated), 'SIGNATURE_MISSING')
  })
})
