// Tests of strict PKCS#7 padding with WeChat's 32-byte block.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WeChatProtocolError } from '../errors.js'
import { pkcs7Pad, pkcs7Unpad } from './pkcs7.js'

function assertPaddingInvalid(fn: () => unknown): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WeChatProtocolError)
    assert.equal(error.code, 'PADDING_INVALID')
    return true
  })
}

test('pads every length 0..70 to a multiple of 32 and unpads back', () => {
  for (let length = 0; length <= 70; length += 1) {
    const data = Buffer.alloc(length, 0x61)
    const padded = pkcs7Pad(data, 32)
    assert.equal(padded.length % 32, 0)
    const n = 32 - (length % 32)
    assert.equal(padded.length, length + n)
    assert.ok(padded.subarray(length).every((byte) => byte === n))
    assert.deepEqual(pkcs7Unpad(padded, 32), data)
  }
})

test('adds a full block when the data is already aligned', () => {
  const padded = pkcs7Pad(Buffer.alloc(32, 1), 32)
  assert.equal(padded.length, 64)
  assert.equal(padded[63], 32)
})

test('rejects a zero pad byte', () => {
  assertPaddingInvalid(() => pkcs7Unpad(Buffer.concat([Buffer.alloc(31, 1), Buffer.from([0])]), 32))
})

test('rejects a pad byte larger than the block size', () => {
  assertPaddingInvalid(() =>
    pkcs7Unpad(Buffer.concat([Buffer.alloc(31, 1), Buffer.from([33])]), 32),
  )
  assertPaddingInvalid(() =>
    pkcs7Unpad(Buffer.concat([Buffer.alloc(15, 1), Buffer.from([17])]), 16),
  )
})

test('rejects pad bytes that do not all equal the pad length', () => {
  const data = Buffer.concat([Buffer.alloc(28, 0x61), Buffer.from([4, 4, 3, 4])])
  assertPaddingInvalid(() => pkcs7Unpad(data, 32))
})

test('rejects empty input and a pad longer than the data', () => {
  assertPaddingInvalid(() => pkcs7Unpad(Buffer.alloc(0), 32))
  assertPaddingInvalid(() => pkcs7Unpad(Buffer.from([5, 5]), 32))
})

test('refuses an impossible block size', () => {
  assert.throws(() => pkcs7Pad(Buffer.alloc(1), 0), RangeError)
  assert.throws(() => pkcs7Unpad(Buffer.alloc(1), 256), RangeError)
})
