// Tests of the constant-time comparison.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { safeEqual } from './constant-time.js'

test('treats identical strings as equal, including CJK', () => {
  assert.equal(safeEqual('abc123', 'abc123'), true)
  assert.equal(safeEqual('签名', '签名'), true)
  assert.equal(safeEqual('', ''), true)
})

test('treats strings differing in one character or in length as unequal', () => {
  assert.equal(safeEqual('abc123', 'abc124'), false)
  assert.equal(safeEqual('abc', 'abcd'), false)
  assert.equal(safeEqual('abcd', ''), false)
  assert.equal(safeEqual('ABC', 'abc'), false)
})

test('compares UTF-8 bytes, not UTF-16 units', () => {
  // Same UTF-16 length (1 unit each), different byte lengths and content.
  assert.equal(safeEqual('é', 'e'), false)
  assert.equal(safeEqual('中', '文'), false)
})
