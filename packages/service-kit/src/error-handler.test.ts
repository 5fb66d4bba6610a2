// Tests for mapError: which status and code each kind of failure becomes.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { mapError } from './error-handler.js'
import { defineError } from './errors.js'

describe('mapError', () => {
  it('maps Fastify content-type parser errors by code', () => {
    const cases: [string, number, string][] = [
      ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'PAYLOAD_TOO_LARGE'],
      ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 'BODY_INVALID'],
      ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 'BODY_INVALID'],
    ]
    for (const [fastifyCode, status, code] of cases) {
      const mapped = mapError(Object.assign(new Error('x'), { code: fastifyCode, statusCode: 400 }))
      assert.equal(mapped.statusCode, status, fastifyCode)
      assert.equal(mapped.body.code, code, fastifyCode)
    }
  })

  it('turns validation errors into VALIDATION_FAILED with a path per issue', () => {
    const error = Object.assign(new Error('body must have required property openid'), {
      validation: [
        {
          keyword: 'required',
          instancePath: '',
          params: { missingProperty: 'openid' },
          message: 'is required',
        },
        { keyword: 'minimum', instancePath: '/amount', params: {}, message: 'must be >= 1' },
      ],
      validationContext: 'body',
    })
    assert.deepEqual(mapError(error), {
      statusCode: 400,
      body: {
        code: 'VALIDATION_FAILED',
        message: 'body must have required property openid',
        details: [
          { in: 'body', path: '/openid', message: 'is required' },
          { in: 'body', path: '/amount', message: 'must be >= 1' },
        ],
      },
    })
  })

  it('hides everything about unknown errors, including thrown non-errors', () => {
    const internal = {
      statusCode: 500,
      body: { code: 'INTERNAL_ERROR', message: 'internal error' },
    }
    assert.deepEqual(mapError(new Error('secret detail')), internal)
    assert.deepEqual(mapError('a string'), internal)
    assert.deepEqual(mapError(null), internal)
    assert.deepEqual(mapError(Object.assign(new Error('x'), { statusCode: 302 })), internal)
  })

  it('never sends the details of a defined 5xx error', () => {
    const Down = defineError('APP_UNAVAILABLE', 'app is unavailable', 503)
    const mapped = mapError(Object.assign(new Down(), { details: { host: '10.0.0.1' } }))
    assert.deepEqual(mapped, {
      statusCode: 503,
      body: { code: 'APP_UNAVAILABLE', message: 'app is unavailable' },
    })
  })
})
