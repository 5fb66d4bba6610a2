// Vector, round-trip and tamper tests of Official Account message encryption.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createCipheriv, createDecipheriv, randomBytes, randomInt } from 'node:crypto'
import { WeChatProtocolError, type WeChatProtocolErrorCode } from '../errors.js'
import { loadVectors, type ProtocolVector } from '../test-vectors.js'
import { parseXml } from '../xml/codec.js'
import { createMessageCrypto, decodeEncodingAesKey, isStrictBase64 } from './message-crypto.js'

interface CryptoInputs {
  token: string
  encoding_aes_key: string
  receive_id: string
  timestamp: string
  nonce: string
  msg_signature?: string
  encrypt?: string
  envelope?: string
  msg?: string
  random_ascii?: string
  random_hex?: string
}
interface CryptoExpected {
  msg?: string
  receive_id?: string
  encrypt?: string
  msg_signature?: string
  reply_xml?: string
  aes_key_hex?: string
  pad_value?: number
  random_ascii?: string
  random_hex?: string
  fields?: Record<string, string>
}
type CryptoVector = ProtocolVector<CryptoInputs, CryptoExpected>

const vectors: CryptoVector[] = [
  ...loadVectors<CryptoInputs, CryptoExpected>('mp_msg_crypto.json'),
  ...loadVectors<CryptoInputs, CryptoExpected>('generated_mp.json'),
]
const decryptVectors = vectors.filter((v) => v.kind === 'mp_decrypt')
const encryptVectors = vectors.filter((v) => v.kind === 'mp_encrypt')

function assertCode(fn: () => unknown, code: WeChatProtocolErrorCode): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(
      error instanceof WeChatProtocolError,
      `expected WeChatProtocolError, got ${String(error)}`,
    )
    assert.equal(error.code, code)
    return true
  })
}

function fixedRandom(vector: CryptoVector): Buffer {
  const { random_ascii: ascii, random_hex: hex } = vector.inputs
  if (ascii !== undefined) return Buffer.from(ascii, 'latin1')
  if (hex !== undefined) return Buffer.from(hex, 'hex')
  throw new Error(`${vector.id} has no fixed random bytes`)
}

/** Encrypts an arbitrary FullStr (already padded) the way WeChat does, to forge malformed plaintexts. */
function encryptRaw(key: Buffer, fullStr: Buffer): string {
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16))
  cipher.setAutoPadding(false)
  return Buffer.concat([cipher.update(fullStr), cipher.final()]).toString('base64')
}

function randomAesKey(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  let key = ''
  for (let i = 0; i < 43; i += 1) key += alphabet[randomInt(alphabet.length)]
  return key
}

function randomText(length: number): string {
  const pools = ['abcXYZ019 <>&]]>', '你好世界中文消息', '😀🎉', '\n\t ']
  let out = ''
  for (let i = 0; i < length; i += 1) {
    const pool = [...(pools[randomInt(pools.length)] ?? 'a')]
    out += pool[randomInt(pool.length)] ?? 'a'
  }
  return out
}

test('the vector files hold both decrypt and encrypt vectors, OA and WeCom', () => {
  assert.ok(decryptVectors.length >= 5)
  assert.ok(encryptVectors.length >= 3)
  assert.ok(vectors.some((v) => v.id.startsWith('wecom_')))
})

for (const vector of decryptVectors) {
  test(`verifies and decrypts vector ${vector.id}`, () => {
    const { inputs, expected } = vector
    const crypto = createMessageCrypto({
      token: inputs.token,
      encodingAesKey: inputs.encoding_aes_key,
      appId: inputs.receive_id,
    })
    if (expected.aes_key_hex !== undefined) {
      assert.equal(
        decodeEncodingAesKey(inputs.encoding_aes_key).toString('hex'),
        expected.aes_key_hex,
      )
    }
    const encrypt = inputs.encrypt ?? ''
    assert.equal(crypto.msgSignature(inputs.timestamp, inputs.nonce, encrypt), inputs.msg_signature)
    assert.doesNotThrow(() =>
      crypto.verifyMsgSignature({
        timestamp: inputs.timestamp,
        nonce: inputs.nonce,
        encrypt,
        msgSignature: inputs.msg_signature ?? '',
      }),
    )
    const plain = crypto.decrypt(encrypt)
    assert.equal(plain, expected.msg)
    if (expected.fields !== undefined && plain.startsWith('<')) {
      const fields = parseXml(plain)
      for (const [name, value] of Object.entries(expected.fields)) {
        assert.equal(fields[name], value, `${vector.id} field ${name}`)
      }
    }
  })

  test(`rejects vector ${vector.id} decrypted for another appId`, () => {
    const { inputs } = vector
    const crypto = createMessageCrypto({
      token: inputs.token,
      encodingAesKey: inputs.encoding_aes_key,
      appId: `${inputs.receive_id}x`,
    })
    assertCode(() => crypto.decrypt(inputs.encrypt ?? ''), 'APPID_MISMATCH')
  })
}

for (const vector of encryptVectors) {
  test(`reproduces the encryption of vector ${vector.id} with its fixed random bytes`, () => {
    const { inputs, expected } = vector
    const random = fixedRandom(vector)
    const crypto = createMessageCrypto({
      token: inputs.token,
      encodingAesKey: inputs.encoding_aes_key,
      appId: inputs.receive_id,
      randomBytes: (size) => {
        assert.equal(size, 16)
        return random
      },
    })
    const encrypt = crypto.encrypt(inputs.msg ?? '')
    assert.equal(encrypt, expected.encrypt)
    assert.equal(
      crypto.msgSignature(inputs.timestamp, inputs.nonce, encrypt),
      expected.msg_signature,
    )
    assert.equal(crypto.decrypt(encrypt), inputs.msg)

    const replyXml = crypto.encryptReply(inputs.msg ?? '', {
      timestamp: inputs.timestamp,
      nonce: inputs.nonce,
    })
    if (expected.reply_xml !== undefined) {
      // Same fields as the published reply (whitespace between elements differs in some sources).
      assert.deepEqual(parseXml(replyXml), parseXml(expected.reply_xml))
      if (!expected.reply_xml.includes('\n')) assert.equal(replyXml, expected.reply_xml)
    }
    assert.equal(crypto.openReply(replyXml), inputs.msg)
  })
}

test('decodes an EncodingAESKey to 32 bytes and rejects malformed keys', () => {
  assert.equal(decodeEncodingAesKey('A'.repeat(43)).length, 32)
  assertCode(() => decodeEncodingAesKey('A'.repeat(42)), 'AES_KEY_INVALID')
  assertCode(() => decodeEncodingAesKey('A'.repeat(44)), 'AES_KEY_INVALID')
  assertCode(() => decodeEncodingAesKey(`${'A'.repeat(42)}+`), 'AES_KEY_INVALID')
  assertCode(() => decodeEncodingAesKey(`${'A'.repeat(42)}=`), 'AES_KEY_INVALID')
  assertCode(
    () => createMessageCrypto({ token: 't', encodingAesKey: Buffer.alloc(16), appId: 'wx1' }),
    'AES_KEY_INVALID',
  )
})

test('accepts the decoded key bytes as well as the 43-character key', () => {
  const encodingAesKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
  const fromString = createMessageCrypto({ token: 't', encodingAesKey, appId: 'wx1' })
  const fromBytes = createMessageCrypto({
    token: 't',
    encodingAesKey: decodeEncodingAesKey(encodingAesKey),
    appId: 'wx1',
  })
  assert.equal(fromBytes.decrypt(fromString.encrypt('hello 你好')), 'hello 你好')
})

test('round trips random texts of 0..5000 characters under random keys', () => {
  for (let i = 0; i < 60; i += 1) {
    const length = i === 0 ? 0 : randomInt(5001)
    const plain = randomText(length)
    const appId = `wx${randomBytes(8).toString('hex')}`
    const crypto = createMessageCrypto({
      token: randomAesKey(),
      encodingAesKey: randomAesKey(),
      appId,
    })
    const encrypt = crypto.encrypt(plain)
    assert.equal(Buffer.from(encrypt, 'base64').length % 32, 0)
    assert.equal(crypto.decrypt(encrypt), plain)
    const replyXml = crypto.encryptReply(plain, { timestamp: '1700000000', nonce: 'n0nce' })
    assert.equal(crypto.openReply(replyXml), plain)
  }
})

test('uses fresh random bytes for every encryption by default', () => {
  const crypto = createMessageCrypto({ token: 't', encodingAesKey: randomAesKey(), appId: 'wx1' })
  assert.notEqual(crypto.encrypt('same'), crypto.encrypt('same'))
})

const key = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const appId = 'wxb11529c136998cb6'
const crypto = createMessageCrypto({ token: 'pamtest', encodingAesKey: key, appId })
const keyBytes = decodeEncodingAesKey(key)

test('rejects ciphertext whose msg_len block was tampered with (DECRYPT_FAILED)', () => {
  const encrypt = crypto.encrypt('<xml><Content>hi</Content></xml>')
  const bytes = Buffer.from(encrypt, 'base64')
  // In CBC, flipping byte 0 of block 0 flips byte 16 of the plaintext: the high byte of msg_len.
  bytes[0] = (bytes[0] ?? 0) ^ 0x80
  assertCode(() => crypto.decrypt(bytes.toString('base64')), 'DECRYPT_FAILED')
})

test('rejects ciphertext whose last block was tampered with (PADDING_INVALID)', () => {
  const encrypt = crypto.encrypt('<xml><Content>hi</Content></xml>')
  const bytes = Buffer.from(encrypt, 'base64')
  // Flipping the second-to-last block's last byte flips the pad byte of the plaintext.
  const index = bytes.length - 17
  bytes[index] = (bytes[index] ?? 0) ^ 0x40
  assertCode(() => crypto.decrypt(bytes.toString('base64')), 'PADDING_INVALID')
})

test('rejects a tampered Encrypt value by its msg_signature before decrypting (SIGNATURE_MISMATCH)', () => {
  const encrypt = crypto.encrypt('hello')
  const signature = crypto.msgSignature('1700000000', '42', encrypt)
  const tampered = `${encrypt[0] === 'A' ? 'B' : 'A'}${encrypt.slice(1)}`
  assertCode(
    () =>
      crypto.verifyMsgSignature({
        timestamp: '1700000000',
        nonce: '42',
        encrypt: tampered,
        msgSignature: signature,
      }),
    'SIGNATURE_MISMATCH',
  )
})

test('rejects a wrong msg_signature, timestamp, nonce or token (SIGNATURE_MISMATCH)', () => {
  const encrypt = crypto.encrypt('hello')
  const params = { timestamp: '1700000000', nonce: '42', encrypt }
  const good = crypto.msgSignature(params.timestamp, params.nonce, encrypt)
  assert.doesNotThrow(() => crypto.verifyMsgSignature({ ...params, msgSignature: good }))
  assertCode(
    () =>
      crypto.verifyMsgSignature({
        ...params,
        msgSignature: good.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')),
      }),
    'SIGNATURE_MISMATCH',
  )
  assertCode(
    () => crypto.verifyMsgSignature({ ...params, timestamp: '1700000001', msgSignature: good }),
    'SIGNATURE_MISMATCH',
  )
  assertCode(
    () => crypto.verifyMsgSignature({ ...params, nonce: '43', msgSignature: good }),
    'SIGNATURE_MISMATCH',
  )
  assertCode(() => crypto.verifyMsgSignature({ ...params, msgSignature: '' }), 'SIGNATURE_MISMATCH')
  const otherToken = createMessageCrypto({ token: 'other', encodingAesKey: key, appId })
  assertCode(
    () => otherToken.verifyMsgSignature({ ...params, msgSignature: good }),
    'SIGNATURE_MISMATCH',
  )
})

test('rejects a message encrypted for another appId (APPID_MISMATCH)', () => {
  const other = createMessageCrypto({
    token: 'pamtest',
    encodingAesKey: key,
    appId: 'wx0000000000000000',
  })
  assertCode(() => crypto.decrypt(other.encrypt('hello')), 'APPID_MISMATCH')
  const prefix = createMessageCrypto({
    token: 'pamtest',
    encodingAesKey: key,
    appId: appId.slice(0, -1),
  })
  assertCode(() => crypto.decrypt(prefix.encrypt('hello')), 'APPID_MISMATCH')
})

test('rejects a plaintext with a zero, oversized or inconsistent pad (PADDING_INVALID)', () => {
  const body = Buffer.concat([
    Buffer.alloc(16, 1),
    Buffer.from([0, 0, 0, 5]),
    Buffer.from('hello'),
    Buffer.from(appId),
  ])
  const n = 32 - (body.length % 32)
  const base = Buffer.concat([body, Buffer.alloc(n, n)])
  assert.equal(crypto.decrypt(encryptRaw(keyBytes, base)), 'hello')

  const zero = Buffer.from(base)
  zero[zero.length - 1] = 0
  assertCode(() => crypto.decrypt(encryptRaw(keyBytes, zero)), 'PADDING_INVALID')
  const oversized = Buffer.from(base)
  oversized[oversized.length - 1] = 33
  assertCode(() => crypto.decrypt(encryptRaw(keyBytes, oversized)), 'PADDING_INVALID')
  const inconsistent = Buffer.from(base)
  inconsistent[inconsistent.length - 2] = (n + 1) % 256
  assertCode(() => crypto.decrypt(encryptRaw(keyBytes, inconsistent)), 'PADDING_INVALID')
})

test('rejects a msg_len that points past the plaintext (DECRYPT_FAILED)', () => {
  const body = Buffer.concat([
    Buffer.alloc(16, 1),
    Buffer.from([0, 0, 1, 0]),
    Buffer.from('hello'),
    Buffer.from(appId),
  ])
  const n = 32 - (body.length % 32)
  assertCode(
    () => crypto.decrypt(encryptRaw(keyBytes, Buffer.concat([body, Buffer.alloc(n, n)]))),
    'DECRYPT_FAILED',
  )
})

test('rejects a message that is not valid UTF-8 (DECRYPT_FAILED)', () => {
  const body = Buffer.concat([
    Buffer.alloc(16, 1),
    Buffer.from([0, 0, 0, 2]),
    Buffer.from([0xc3, 0x28]),
    Buffer.from(appId),
  ])
  const n = 32 - (body.length % 32)
  assertCode(
    () => crypto.decrypt(encryptRaw(keyBytes, Buffer.concat([body, Buffer.alloc(n, n)]))),
    'DECRYPT_FAILED',
  )
})

test('rejects Encrypt values that are not base64 or not whole blocks (DECRYPT_FAILED)', () => {
  const encrypt = crypto.encrypt('hello')
  assertCode(() => crypto.decrypt(''), 'DECRYPT_FAILED')
  assertCode(() => crypto.decrypt('not base64!'), 'DECRYPT_FAILED')
  assertCode(() => crypto.decrypt(`${encrypt}\n`), 'DECRYPT_FAILED')
  assertCode(
    () => crypto.decrypt(Buffer.from(encrypt, 'base64').subarray(0, 48).toString('base64')),
    'DECRYPT_FAILED',
  )
})

test('openReply rejects a reply whose MsgSignature does not match (SIGNATURE_MISMATCH)', () => {
  const replyXml = crypto.encryptReply('<xml/>', { timestamp: '1700000000', nonce: 'abc' })
  const forged = replyXml.replace('<Nonce><![CDATA[abc]]>', '<Nonce><![CDATA[abd]]>')
  assert.notEqual(forged, replyXml)
  assertCode(() => crypto.openReply(forged), 'SIGNATURE_MISMATCH')
})

test('errors carry the official WeChat codes and no secret material', () => {
  try {
    crypto.decrypt(
      createMessageCrypto({ token: 'x', encodingAesKey: key, appId: 'wx9' }).encrypt('secret body'),
    )
    assert.fail('expected APPID_MISMATCH')
  } catch (error) {
    assert.ok(error instanceof WeChatProtocolError)
    assert.equal(error.wechatCode, -40005)
    assert.ok(!error.message.includes('secret body'))
    assert.ok(!error.message.includes(key))
  }
})

test('the strict base64 check accepts what the former regex accepted, in canonical form only', () => {
  const regex = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
  const cases = [
    '',
    'QQ==',
    'QUI=',
    'QUJD',
    'QUJDQQ==',
    'QUJDQUI=',
    'QUJDQUJD',
    'QUJD=',
    'QUJDQ===',
    // Stray bits after the last byte: Node would decode `QR==` as `QQ==`; the former regex took it.
    'QR==',
    'QUJDQR==',
    'QUJDQUJ=',
  ]
  cases.push('QUJD\n', 'QUJ-QUJD', 'QUJ_QUJD', 'QUJDQU=I', 'QUJD QUJD', '=QUJDQUJ', 'QUJDQUJ\u00e9')
  const alphabet = 'ABZaz09+/=-_ \n.\u00e9\u4e2d'
  for (let i = 0; i < 3000; i += 1) {
    let value = randomBytes(randomInt(0, 40)).toString('base64')
    for (let edits = randomInt(0, 3); edits > 0; edits -= 1) {
      const at = randomInt(0, value.length + 1)
      const char = alphabet[randomInt(alphabet.length)] ?? ''
      value = value.slice(0, at) + char + value.slice(at + randomInt(0, 2))
    }
    cases.push(value)
  }
  let accepted = 0
  let nonCanonical = 0
  for (const value of cases) {
    const canonical = Buffer.from(value, 'base64').toString('base64') === value
    if (regex.test(value) && !canonical) nonCanonical += 1
    assert.equal(isStrictBase64(value), regex.test(value) && canonical, JSON.stringify(value))
    if (isStrictBase64(value)) accepted += 1
  }
  assert.ok(accepted > 100 && accepted < cases.length - 100)
  assert.ok(nonCanonical >= 2, 'the stray-bit cases were seen')
  assert.equal(isStrictBase64('QR=='), false)
  assert.equal(isStrictBase64('QUJDQUI='), true)
})

test('draws distinct random prefixes across refills of the default random pool', () => {
  const aesKey = randomAesKey()
  const pooled = createMessageCrypto({ token: 't', encodingAesKey: aesKey, appId: 'wx1' })
  const raw = decodeEncodingAesKey(aesKey)
  const prefixes = new Set<string>()
  // 4 KiB pool / 16 bytes = 256 replies per refill: 700 cross two refills.
  for (let i = 0; i < 700; i += 1) {
    const decipher = createDecipheriv('aes-256-cbc', raw, raw.subarray(0, 16))
    decipher.setAutoPadding(false)
    const plain = decipher.update(Buffer.from(pooled.encrypt('same'), 'base64'))
    prefixes.add(plain.subarray(0, 16).toString('hex'))
  }
  assert.equal(prefixes.size, 700)
})
