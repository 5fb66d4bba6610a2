import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { checkUrlVerification } from './url-verification.js'

const token = 'url-check-token'
const sign = (timestamp: string, nonce: string) =>
  createHash('sha1').update([token, timestamp, nonce].sort().join('')).digest('hex')

describe('checkUrlVerification', () => {
  const signed = { signature: sign('1700000000', 'n1'), timestamp: '1700000000', nonce: 'n1' }

  it('gives back the echostr of a signed check, however old its timestamp', () => {
    assert.deepEqual(checkUrlVerification(token, { ...signed, echostr: 'hello' }), {
      echostr: 'hello',
    })
  })

  it('says why it refuses: a missing part, a wrong signature, then a missing echostr', () => {
    assert.deepEqual(
      checkUrlVerification(token, { ...signed, nonce: undefined, echostr: 'hello' }),
      { refused: 'SIGNATURE_MISSING' },
    )
    assert.deepEqual(checkUrlVerification(token, { ...signed, nonce: 'n2', echostr: 'hello' }), {
      refused: 'SIGNATURE_MISMATCH',
    })
    assert.deepEqual(checkUrlVerification(token, { ...signed, echostr: undefined }), {
      refused: 'ECHOSTR_MISSING',
    })
  })
})
