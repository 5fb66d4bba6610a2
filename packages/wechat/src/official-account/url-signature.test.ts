// Vector and negative tests of the Official Account SHA-1 signature.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { loadVectors } from '../test-vectors.js'
import { computeSignature, verifyUrlSignature } from './url-signature.js'

interface SignatureInputs {
  parts: Record<string, string>
}
interface SignatureExpected {
  sorted?: string[]
  joined?: string
  sha1_hex: string
}

const vectors = loadVectors<SignatureInputs, SignatureExpected>('mp_signature.json')

test('the signature vector file holds sha1_sorted vectors only', () => {
  assert.ok(vectors.length >= 6)
  for (const vector of vectors) assert.equal(vector.kind, 'sha1_sorted', vector.id)
})

for (const vector of vectors) {
  test(`computes the signature of vector ${vector.id}`, () => {
    const parts = Object.values(vector.inputs.parts)
    assert.equal(computeSignature(parts), vector.expected.sha1_hex)
    // Input order must not matter: the function sorts.
    assert.equal(computeSignature([...parts].reverse()), vector.expected.sha1_hex)
    if (vector.expected.sorted) assert.deepEqual([...parts].sort(), vector.expected.sorted)
  })
}

for (const vector of vectors.filter((v) => Object.keys(v.inputs.parts).length === 3)) {
  test(`accepts the URL signature of vector ${vector.id}`, () => {
    const { token = '', timestamp = '', nonce = '' } = vector.inputs.parts
    assert.equal(
      verifyUrlSignature({ token, timestamp, nonce, signature: vector.expected.sha1_hex }),
      true,
    )
  })
}

test('sorts as strings, not numbers', () => {
  // Numeric order would put 9 before 10; string order puts "10" first.
  const stringOrder = createHash('sha1').update('109token').digest('hex')
  assert.equal(computeSignature(['9', 'token', '10']), stringOrder)
})

test('does not mutate the caller array', () => {
  const parts = ['c', 'b', 'a']
  computeSignature(parts)
  assert.deepEqual(parts, ['c', 'b', 'a'])
})

test('rejects a wrong, truncated, uppercased or empty signature', () => {
  const params = { token: 'AAAAA', timestamp: '1714036504', nonce: '1514711492' }
  const good = 'f464b24fc39322e44b38aa78f5edd27bd1441696'
  assert.equal(verifyUrlSignature({ ...params, signature: good }), true)
  assert.equal(verifyUrlSignature({ ...params, signature: good.replace('f4', 'f5') }), false)
  assert.equal(verifyUrlSignature({ ...params, signature: good.slice(0, 39) }), false)
  assert.equal(verifyUrlSignature({ ...params, signature: good.toUpperCase() }), false)
  assert.equal(verifyUrlSignature({ ...params, signature: '' }), false)
  assert.equal(verifyUrlSignature({ ...params, token: 'AAAAB', signature: good }), false)
})
