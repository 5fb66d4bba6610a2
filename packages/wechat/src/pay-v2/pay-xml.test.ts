// Tests of the v2 wire format: flat string fields in, signed XML out (checked against the request vectors).
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { WeChatProtocolError } from '../errors.js'
import { loadVectors } from '../test-vectors.js'
import { isPaySignType } from './pay-sign.js'
import {
  optionalPayField,
  parsePayFee,
  parsePayXml,
  renderSignedPayXml,
  requirePayField,
} from './pay-xml.js'

interface SignInputs {
  params: Record<string, string>
  api_key: string
  algorithm: string
}

const requestVectors = loadVectors<SignInputs, { sign: string; request_xml?: string }>(
  'generated_pay_v2.json',
).filter((vector) => vector.expected.request_xml !== undefined)

function isMessageInvalid(error: unknown): boolean {
  return error instanceof WeChatProtocolError && error.code === 'MESSAGE_INVALID'
}

describe('renderSignedPayXml', () => {
  it('finds the two unifiedorder request vectors', () => {
    assert.equal(requestVectors.length, 2)
  })

  for (const vector of requestVectors) {
    it(`renders the request XML of ${vector.id} byte for byte`, () => {
      const { params, api_key: apiKey, algorithm } = vector.inputs
      assert.ok(isPaySignType(algorithm))
      assert.equal(renderSignedPayXml(params, apiKey, algorithm), vector.expected.request_xml)
    })

    it(`reads back the request XML of ${vector.id} with every value as sent`, () => {
      const fields = parsePayXml(vector.expected.request_xml ?? '')
      assert.deepEqual(fields, { ...vector.inputs.params, sign: vector.expected.sign })
    })
  }

  it('replaces a sign already in the fields instead of signing it', () => {
    const fields = { appid: 'wx1', nonce_str: 'n' }
    const fresh = renderSignedPayXml(fields, 'k')
    assert.equal(renderSignedPayXml({ ...fields, sign: 'OLD' }, 'k'), fresh)
    assert.doesNotMatch(fresh, /OLD/)
  })

  it('writes numbers bare and leaves undefined fields out', () => {
    const xml = renderSignedPayXml({ total_fee: 1, attach: undefined }, 'k', 'MD5')
    assert.match(
      xml,
      /^<xml><total_fee>1<\/total_fee><sign><!\[CDATA\[[0-9A-F]{32}\]\]><\/sign><\/xml>$/,
    )
  })
})

describe('parsePayXml', () => {
  it('keeps long numeric values as exact strings', () => {
    const fields = parsePayXml(
      '<xml><transaction_id>4200002024010299999999999999</transaction_id></xml>',
    )
    assert.equal(fields.transaction_id, '4200002024010299999999999999')
  })

  it('rejects a nested element with MESSAGE_INVALID', () => {
    assert.throws(() => parsePayXml('<xml><a><b>1</b></a></xml>'), isMessageInvalid)
  })
})

describe('field readers', () => {
  const fields = { present: 'x', empty: '' }

  it('reads an empty field as absent', () => {
    assert.equal(optionalPayField(fields, 'present'), 'x')
    assert.equal(optionalPayField(fields, 'empty'), undefined)
    assert.equal(optionalPayField(fields, 'missing'), undefined)
  })

  it('requires a non-empty field', () => {
    assert.equal(requirePayField(fields, 'present'), 'x')
    assert.throws(() => requirePayField(fields, 'empty'), isMessageInvalid)
    assert.throws(() => requirePayField(fields, 'missing'), isMessageInvalid)
  })

  it('parses fen amounts strictly', () => {
    assert.equal(parsePayFee('1', 'total_fee'), 1)
    assert.equal(parsePayFee('9007199254740991', 'total_fee'), Number.MAX_SAFE_INTEGER)
    for (const bad of ['0', '01', '-1', '+1', '1.0', '1e2', '', ' 1', '9007199254740993']) {
      assert.throws(() => parsePayFee(bad, 'total_fee'), isMessageInvalid, bad)
    }
  })
})
