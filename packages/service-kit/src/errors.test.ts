// Tests for defineError and listErrorCodes.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { defineError, isServiceError, listErrorCodes, serviceKitErrors } from './errors.js'
import { assertErrorsDocumented } from './testing.js'

describe('defineError', () => {
  it('makes a constructor whose instances carry code, status, formatted message and cause', () => {
    const OrderNotFound = defineError('ORDER_NOT_FOUND', 'order %s not found', 404)
    const cause = new Error('db said no')
    const error = new OrderNotFound('T1', { cause })
    assert.equal(error.code, 'ORDER_NOT_FOUND')
    assert.equal(error.statusCode, 404)
    assert.equal(error.message, 'order T1 not found')
    assert.equal(error.cause, cause)
    assert.ok(error instanceof Error)
    assert.ok(error instanceof OrderNotFound)
    assert.ok(isServiceError(error))
    assert.equal(OrderNotFound.code, 'ORDER_NOT_FOUND')
    assert.equal(OrderNotFound.statusCode, 404)
  })

  it('does not treat other errors as defined ones', () => {
    assert.ok(!isServiceError(new Error('x')))
    assert.ok(!isServiceError(Object.assign(new Error('x'), { code: 'X', statusCode: 400 })))
    assert.ok(!isServiceError('ORDER_NOT_FOUND'))
  })

  it('refuses codes that are not SCREAMING_SNAKE and statuses outside 4xx/5xx', () => {
    assert.throws(() => defineError('orderNotFound', 'x', 404), TypeError)
    assert.throws(() => defineError('ORDER__X', 'x', 404), TypeError)
    assert.throws(() => defineError('OK_THING', 'x', 200), RangeError)
  })
})

describe('listErrorCodes', () => {
  it('lists every defined error of a registry, sorted, ignoring anything else', () => {
    const registry = {
      B: defineError('B_FAILED', 'b failed', 500),
      A: defineError('A_MISSING', 'a missing', 404),
      notAnError: 42,
      plain: Error,
    }
    assert.deepEqual(listErrorCodes(registry), [
      { code: 'A_MISSING', statusCode: 404, message: 'a missing' },
      { code: 'B_FAILED', statusCode: 500, message: 'b failed' },
    ])
  })

  it('includes the codes service-kit answers with', () => {
    const codes = listErrorCodes(serviceKitErrors).map((e) => e.code)
    for (const code of [
      'VALIDATION_FAILED',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'BODY_INVALID',
      'NOT_FOUND',
      'RATE_LIMITED',
      'INTERNAL_ERROR',
      'NOT_READY',
    ]) {
      assert.ok(codes.includes(code), code)
    }
  })
})

describe('serviceKitErrors and docs/errors.md', () => {
  it('documents every common code with its status under Common, and no code service-kit lacks', () => {
    assertErrorsDocumented(serviceKitErrors, 'Common')
  })
})
