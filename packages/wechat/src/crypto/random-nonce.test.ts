// Tests of the alphanumeric nonce generator.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomNonce } from './random-nonce.js'

test('returns 16 alphanumeric characters by default', () => {
  assert.match(randomNonce(), /^[A-Za-z0-9]{16}$/)
})

test('returns the requested length, including zero', () => {
  assert.equal(randomNonce(0), '')
  assert.match(randomNonce(32), /^[A-Za-z0-9]{32}$/)
})

test('draws different values and covers the whole alphabet', () => {
  const seen = new Set<string>()
  const values = new Set<string>()
  for (let i = 0; i < 200; i += 1) {
    const nonce = randomNonce(32)
    values.add(nonce)
    for (const char of nonce) seen.add(char)
  }
  assert.equal(values.size, 200)
  assert.equal(seen.size, 62)
})

test('refuses a negative or fractional length', () => {
  assert.throws(() => randomNonce(-1), RangeError)
  assert.throws(() => randomNonce(1.5), RangeError)
})
