// Tests for request-id acceptance: which caller ids are kept and which are replaced.
import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { describe, it } from 'node:test'
import { createGenReqId, isValidRequestId } from './request-id.js'

const fakeRequest = (headers: Record<string, string | string[]>) =>
  ({ headers }) as unknown as IncomingMessage

describe('isValidRequestId', () => {
  it('accepts 1..128 characters of [A-Za-z0-9._:-] only', () => {
    for (const ok of ['a', 'A-z_0.9:x', 'x'.repeat(128)]) assert.ok(isValidRequestId(ok), ok)
    for (const bad of ['', 'x'.repeat(129), 'a b', 'a/b', 'a\nb', 'é']) {
      assert.ok(!isValidRequestId(bad), JSON.stringify(bad))
    }
    assert.ok(!isValidRequestId(['a']))
  })
})

describe('createGenReqId', () => {
  it('keeps a valid header value and makes a UUID otherwise', () => {
    const gen = createGenReqId('X-Trace-Id')
    assert.equal(gen(fakeRequest({ 'x-trace-id': 'abc' })), 'abc')
    const made = gen(fakeRequest({ 'x-trace-id': 'a b' }))
    assert.match(made, /^[0-9a-f-]{36}$/)
    assert.notEqual(gen(fakeRequest({})), gen(fakeRequest({})))
    assert.match(gen(fakeRequest({ 'x-trace-id': ['a', 'b'] })), /^[0-9a-f-]{36}$/)
  })
})
