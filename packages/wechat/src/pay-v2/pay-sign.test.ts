// Tests of the v2 pay sign against the shared vectors, plus tampering, empty values and algorithm inference.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { loadVectors } from '../test-vectors.js'
import type { ProtocolVector } from '../test-vectors.js'
import { WeChatProtocolError } from '../errors.js'
import { isPaySignType, payStringToSign, signPayParams, verifyPayParams } from './pay-sign.js'
import type { PaySignType } from './pay-sign.js'

interface SignInputs {
  params: Record<string, string>
  api_key: string
  algorithm: string
}
interface SignExpected {
  string_a?: string
  string_sign_temp?: string
  sign: string
}
type SignVector = ProtocolVector<SignInputs, SignExpected>

function signVectors(): SignVector[] {
  const all = [
    ...loadVectors<SignInputs, SignExpected>('pay_v2_sign.json'),
    ...loadVectors<SignInputs, SignExpected>('generated_pay_v2.json'),
  ]
  return all.filter((vector) => vector.kind === 'v2_sign')
}

function algorithmOf(vector: SignVector): PaySignType {
  const algorithm = vector.inputs.algorithm
  assert.ok(isPaySignType(algorithm), `${vector.id}: unknown algorithm ${algorithm}`)
  return algorithm
}

const API_KEY = '192006250b4c09247ec02edce69f6a2d'

describe('pay v2 sign vectors', () => {
  const vectors = signVectors()

  it('finds all ten v2 sign vectors in the shared folder', () => {
    assert.equal(vectors.length, 10)
  })

  for (const vector of vectors) {
    it(`signs ${vector.id} as the vector expects`, () => {
      const { params, api_key: apiKey } = vector.inputs
      assert.equal(signPayParams(params, apiKey, algorithmOf(vector)), vector.expected.sign)
    })

    it(`builds the signed string of ${vector.id} as the vector expects`, () => {
      const { params, api_key: apiKey } = vector.inputs
      const stringA = payStringToSign(params)
      if (vector.expected.string_a !== undefined) assert.equal(stringA, vector.expected.string_a)
      if (vector.expected.string_sign_temp !== undefined) {
        assert.equal(`${stringA}&key=${apiKey}`, vector.expected.string_sign_temp)
      }
    })

    it(`verifies ${vector.id} with the algorithm inferred from the message`, () => {
      const { params, api_key: apiKey } = vector.inputs
      assert.equal(verifyPayParams({ ...params, sign: vector.expected.sign }, apiKey), true)
    })

    it(`rejects ${vector.id} once a signed value is changed`, () => {
      const { params, api_key: apiKey } = vector.inputs
      const name = Object.keys(params).find((key) => params[key] !== '')
      assert.ok(name !== undefined)
      const tampered = { ...params, [name]: `${params[name]}x`, sign: vector.expected.sign }
      assert.equal(verifyPayParams(tampered, apiKey), false)
    })
  }
})

describe('signPayParams', () => {
  const base = { appid: 'wxd930ea5d5a258f4f', mch_id: '10000100', nonce_str: 'abc', total_fee: 1 }

  it('leaves out empty and undefined values and the sign itself', () => {
    const plain = signPayParams(base, API_KEY, 'MD5')
    assert.equal(signPayParams({ ...base, attach: '', detail: undefined }, API_KEY, 'MD5'), plain)
    assert.equal(signPayParams({ ...base, sign: 'WHATEVER' }, API_KEY, 'MD5'), plain)
  })

  it('keeps sign_type in the signed string', () => {
    assert.equal(
      payStringToSign({ ...base, sign_type: 'MD5' }),
      'appid=wxd930ea5d5a258f4f&mch_id=10000100&nonce_str=abc&sign_type=MD5&total_fee=1',
    )
  })

  it('sorts names by ASCII code, upper case before lower case', () => {
    assert.equal(payStringToSign({ b: '1', B: '2', a: '3', _x: '4' }), 'B=2&_x=4&a=3&b=1')
  })

  it('uses raw values without URL encoding', () => {
    assert.equal(
      payStringToSign({ notify_url: 'https://a.example/n?x=1&y=2', body: '商品 A+B' }),
      'body=商品 A+B&notify_url=https://a.example/n?x=1&y=2',
    )
  })

  it('writes numbers as their decimal text', () => {
    assert.equal(
      signPayParams({ ...base, total_fee: 100 }, API_KEY),
      signPayParams({ ...base, total_fee: '100' }, API_KEY),
    )
  })

  it('defaults to MD5 and follows the parameters own sign_type when no type is given', () => {
    assert.equal(signPayParams(base, API_KEY), signPayParams(base, API_KEY, 'MD5'))
    const hmac = { ...base, sign_type: 'HMAC-SHA256' }
    assert.equal(signPayParams(hmac, API_KEY), signPayParams(hmac, API_KEY, 'HMAC-SHA256'))
    assert.match(signPayParams(hmac, API_KEY), /^[0-9A-F]{64}$/)
    assert.match(signPayParams(base, API_KEY), /^[0-9A-F]{32}$/)
  })

  it('refuses a sign_type it does not know', () => {
    assert.throws(
      () => signPayParams({ ...base, sign_type: 'SHA1' }, API_KEY),
      (error: unknown) => error instanceof WeChatProtocolError && error.code === 'MESSAGE_INVALID',
    )
  })

  it('depends on the API key', () => {
    assert.notEqual(signPayParams(base, API_KEY), signPayParams(base, `${API_KEY.slice(1)}0`))
  })
})

describe('verifyPayParams', () => {
  function randomParams(): Record<string, string> {
    const params: Record<string, string> = {}
    for (let i = 0; i < 8; i += 1) {
      params[`f_${randomBytes(3).toString('hex')}`] = randomBytes(6).toString('base64')
    }
    return params
  }

  it('round-trips random parameters with both algorithms', () => {
    for (let round = 0; round < 20; round += 1) {
      const params = randomParams()
      for (const type of ['MD5', 'HMAC-SHA256'] as const) {
        const sign = signPayParams(params, API_KEY, type)
        assert.equal(verifyPayParams({ ...params, sign }, API_KEY), true)
        assert.equal(verifyPayParams({ ...params, sign }, 'another-key'), false)
      }
    }
  })

  it('infers MD5 from a 32-character sign and HMAC-SHA256 from a 64-character one', () => {
    const params = randomParams()
    const md5 = signPayParams(params, API_KEY, 'MD5')
    const hmac = signPayParams(params, API_KEY, 'HMAC-SHA256')
    assert.equal(verifyPayParams({ ...params, sign: md5 }, API_KEY), true)
    assert.equal(verifyPayParams({ ...params, sign: hmac }, API_KEY), true)
    // The hint is used only when the message names no sign_type.
    assert.equal(verifyPayParams({ ...params, sign: md5 }, API_KEY, 'HMAC-SHA256'), false)
    assert.equal(verifyPayParams({ ...params, sign: hmac }, API_KEY, 'HMAC-SHA256'), true)
  })

  it('follows sign_type over the sign length', () => {
    const params = { ...randomParams(), sign_type: 'HMAC-SHA256' }
    const md5 = signPayParams(params, API_KEY, 'MD5')
    assert.equal(verifyPayParams({ ...params, sign: md5 }, API_KEY), false)
    const hmac = signPayParams(params, API_KEY)
    assert.equal(verifyPayParams({ ...params, sign: hmac }, API_KEY), true)
  })

  it('rejects a changed sign_type, since sign_type is signed', () => {
    const params = { ...randomParams(), sign_type: 'MD5' }
    const sign = signPayParams(params, API_KEY)
    assert.equal(verifyPayParams({ ...params, sign_type: 'HMAC-SHA256', sign }, API_KEY), false)
  })

  it('rejects an unknown sign_type, a missing sign and a sign of an odd length', () => {
    const params = randomParams()
    const sign = signPayParams(params, API_KEY)
    assert.equal(verifyPayParams({ ...params, sign_type: 'SHA1', sign }, API_KEY), false)
    assert.equal(verifyPayParams(params, API_KEY), false)
    assert.equal(verifyPayParams({ ...params, sign: '' }, API_KEY), false)
    assert.equal(verifyPayParams({ ...params, sign: sign.slice(0, 31) }, API_KEY), false)
  })

  it('rejects an added field, and accepts an added empty one', () => {
    const params = randomParams()
    const sign = signPayParams(params, API_KEY)
    assert.equal(verifyPayParams({ ...params, extra: 'x', sign }, API_KEY), false)
    assert.equal(verifyPayParams({ ...params, extra: '', sign }, API_KEY), true)
  })

  it('rejects a lower-case copy of a valid sign', () => {
    const params = randomParams()
    const sign = signPayParams(params, API_KEY)
    assert.equal(verifyPayParams({ ...params, sign: sign.toLowerCase() }, API_KEY), false)
  })
})
