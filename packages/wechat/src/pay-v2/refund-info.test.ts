// Tests of the refund notification req_info decryption against the shared vector and broken inputs.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createCipheriv, createHash, randomBytes, randomInt } from 'node:crypto'
import { WeChatProtocolError } from '../errors.js'
import type { WeChatProtocolErrorCode } from '../errors.js'
import { loadVectors } from '../test-vectors.js'
import { buildXml, parseXml } from '../xml/codec.js'
import { decryptRefundReqInfo, encryptRefundReqInfo } from './refund-info.js'

interface RefundInputs {
  api_key: string
  notify_xml: string
  req_info: string
}
interface RefundExpected {
  aes_key_ascii: string
  outer: Record<string, string>
  plaintext: string
  fields: Record<string, string>
}

const vectors = loadVectors<RefundInputs, RefundExpected>('pay_v2_refund_reqinfo.json').filter(
  (vector) => vector.kind === 'v2_refund_reqinfo',
)

const API_KEY = 'OF4Ne3znh8KqL0V4NqmALQa0uXMYKcEk'

function code(...expected: WeChatProtocolErrorCode[]): (error: unknown) => boolean {
  return (error) => {
    assert.ok(
      error instanceof WeChatProtocolError,
      `expected WeChatProtocolError, got ${String(error)}`,
    )
    assert.ok(expected.includes(error.code), `unexpected code ${error.code}`)
    return true
  }
}

/** Encrypts raw bytes (already block-aligned) under the refund key, with no padding added. */
function encryptRaw(plain: Buffer, apiKey: string): string {
  const key = Buffer.from(createHash('md5').update(apiKey).digest('hex'), 'ascii')
  const cipher = createCipheriv('aes-256-ecb', key, null)
  cipher.setAutoPadding(false)
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64')
}

describe('refund req_info vectors', () => {
  it('finds the refund vector in the shared folder', () => {
    assert.equal(vectors.length, 1)
  })

  for (const vector of vectors) {
    it(`decrypts ${vector.id} to the expected fields`, () => {
      const fields = decryptRefundReqInfo(vector.inputs.req_info, vector.inputs.api_key)
      for (const [name, value] of Object.entries(vector.expected.fields)) {
        assert.equal(fields[name], value, name)
      }
      assert.deepEqual(fields, parseXml(vector.expected.plaintext))
    })

    it(`decrypts the req_info carried by the outer XML of ${vector.id}`, () => {
      const outer = parseXml(vector.inputs.notify_xml)
      for (const [name, value] of Object.entries(vector.expected.outer)) {
        assert.equal(outer[name], value, name)
      }
      assert.equal(outer.sign, undefined)
      const reqInfo = outer.req_info
      assert.equal(typeof reqInfo, 'string')
      const fields = decryptRefundReqInfo(reqInfo as string, vector.inputs.api_key)
      assert.equal(fields.transaction_id, vector.expected.fields.transaction_id)
    })

    it(`encrypts the plaintext of ${vector.id} to the very same req_info (key and padding exact)`, () => {
      assert.equal(
        encryptRefundReqInfo(vector.expected.plaintext, vector.inputs.api_key),
        vector.inputs.req_info,
      )
    })

    it(`rejects ${vector.id} under another API key`, () => {
      assert.throws(
        () => decryptRefundReqInfo(vector.inputs.req_info, `${API_KEY.slice(1)}x`),
        code('PADDING_INVALID', 'XML_INVALID'),
      )
    })
  }
})

describe('decryptRefundReqInfo', () => {
  it('round-trips random refund documents', () => {
    for (let i = 0; i < 20; i += 1) {
      const apiKey = randomBytes(16).toString('hex')
      const fields = {
        out_refund_no: randomBytes(randomInt(1, 20)).toString('hex'),
        refund_recv_accout: `招商银行${randomInt(1000, 9999)}`,
        refund_fee: String(randomInt(1, 100000)),
        transaction_id: `42${randomInt(10 ** 9, 10 ** 10 - 1)}${randomInt(10 ** 9, 10 ** 10 - 1)}12345678`,
      }
      const reqInfo = encryptRefundReqInfo(buildXml(fields, { root: 'root' }), apiKey)
      assert.deepEqual(decryptRefundReqInfo(reqInfo, apiKey), fields)
    }
  })

  it('rejects a last byte outside 1..16 with PADDING_INVALID', () => {
    for (const last of [0, 17, 255]) {
      const plain = Buffer.alloc(32, 0x41)
      plain[31] = last
      assert.throws(
        () => decryptRefundReqInfo(encryptRaw(plain, API_KEY), API_KEY),
        code('PADDING_INVALID'),
      )
    }
  })

  it('rejects pad bytes that disagree with the last byte with PADDING_INVALID', () => {
    const plain = Buffer.concat([Buffer.from('<root></root>'), Buffer.from([3, 2, 3])])
    assert.throws(
      () => decryptRefundReqInfo(encryptRaw(plain, API_KEY), API_KEY),
      code('PADDING_INVALID'),
    )
  })

  it('rejects a well-padded plaintext that is not XML with XML_INVALID', () => {
    const reqInfo = encryptRefundReqInfo('not xml at all', API_KEY)
    assert.throws(() => decryptRefundReqInfo(reqInfo, API_KEY), code('XML_INVALID'))
  })

  it('rejects input that is not base64, or not whole blocks, with DECRYPT_FAILED', () => {
    const good = encryptRefundReqInfo('<root><a>1</a></root>', API_KEY)
    const shortened = Buffer.from(good, 'base64').subarray(0, 20).toString('base64')
    for (const bad of ['', 'abc', '!!!!', `${good}\n`, `${good.slice(0, -2)}`, shortened]) {
      assert.throws(() => decryptRefundReqInfo(bad, API_KEY), code('DECRYPT_FAILED'), bad)
    }
  })

  it('rejects a tampered ciphertext', () => {
    const vector = vectors[0]
    assert.ok(vector !== undefined)
    const bytes = Buffer.from(vector.inputs.req_info, 'base64')
    const at = bytes.length - 1 - randomInt(16)
    bytes[at] = (bytes[at] ?? 0) ^ 0x01
    assert.throws(
      () => decryptRefundReqInfo(bytes.toString('base64'), vector.inputs.api_key),
      code('PADDING_INVALID', 'XML_INVALID'),
    )
  })
})
