// Official Account message encryption (WXBizMsgCrypt): AES-256-CBC bodies and their msg_signature.
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto'
import { safeEqual } from '../crypto/constant-time.js'
import { pkcs7Unpad } from '../crypto/pkcs7.js'
import { WeChatProtocolError } from '../errors.js'
import { buildEncryptedReply, readEncryptedReply } from './envelope.js'
import { computeSignature } from './url-signature.js'

/** WeChat pads to 32-byte blocks although AES blocks are 16 bytes. */
const BLOCK_SIZE = 32
const RANDOM_LENGTH = 16
const HEADER_LENGTH = RANDOM_LENGTH + 4
const RANDOM_POOL_SIZE = 4096

/**
 * The bytes of `value` if it is plain, padded, canonical base64, else undefined. Needed because
 * Buffer.from(s, 'base64') silently skips junk, reads base64url and ignores stray final bits: the input
 * is accepted only when re-encoding the decoded bytes gives it back. That is one native pass each way
 * where the former regex (`(?:[A-Za-z0-9+/]{4})+…`, then a flat character-class one) was ~3 % of a
 * safe-mode push's CPU on a 700-character Encrypt (docs/benchmarks.md), and the bytes are needed anyway.
 */
export function decodeStrictBase64(value: string): Buffer | undefined {
  const length = value.length
  if (length < 4 || length % 4 !== 0) return undefined
  // A padded quartet must follow at least one whole one: `QQ==` alone was always refused.
  if (length < 8 && value.charCodeAt(3) === 0x3d /* = */) return undefined
  const bytes = Buffer.from(value, 'base64')
  return bytes.toString('base64') === value ? bytes : undefined
}

export function isStrictBase64(value: string): boolean {
  return decodeStrictBase64(value) !== undefined
}

// Shared by every crypto without an injected source: one CSPRNG call per 256 replies instead of one per
// reply (~1.8 µs each). Every byte is handed out once, then the pool is refilled.
const randomPool = Buffer.alloc(RANDOM_POOL_SIZE)
let randomPoolOffset = RANDOM_POOL_SIZE

function pooledRandomBytes(size: number): Buffer {
  if (size > RANDOM_POOL_SIZE) return randomFillSync(Buffer.alloc(size))
  if (randomPoolOffset + size > RANDOM_POOL_SIZE) {
    randomFillSync(randomPool)
    randomPoolOffset = 0
  }
  // Copied out: the caller may keep it past the next refill.
  const out = Buffer.from(randomPool.subarray(randomPoolOffset, randomPoolOffset + size))
  randomPoolOffset += size
  return out
}

export interface MessageCryptoOptions {
  token: string
  /** The 43-character EncodingAESKey, or its 32 decoded bytes. */
  encodingAesKey: string | Buffer
  /** The AppID expected after the message (the CorpID for WeCom). */
  appId: string
  /** Source of the 16 random prefix bytes; injectable so tests can reproduce published vectors. */
  randomBytes?: (size: number) => Buffer
}

export interface MessageCrypto {
  encrypt(plain: string): string
  decrypt(encrypt: string): string
  msgSignature(timestamp: string, nonce: string, encrypt: string): string
  verifyMsgSignature(params: {
    timestamp: string
    nonce: string
    encrypt: string
    msgSignature: string
  }): void
  encryptReply(plainXml: string, params: { timestamp: string; nonce: string }): string
  openReply(replyXml: string): string
}

/**
 * https://developers.weixin.qq.com/doc/oplatform/en/Third-party_Platforms/Message_Encryption/Technical_Plan.html
 * Algorithm: AESKey = base64decode(EncodingAESKey + '='); 43 chars of [A-Za-z0-9] in, exactly 32 bytes out.
 */
export function decodeEncodingAesKey(key: string): Buffer {
  if (!/^[A-Za-z0-9]{43}$/.test(key)) {
    throw new WeChatProtocolError('AES_KEY_INVALID', {
      message: 'AES_KEY_INVALID: EncodingAESKey must be 43 characters of [A-Za-z0-9]',
      wechatCode: -40004,
    })
  }
  const decoded = Buffer.from(`${key}=`, 'base64')
  if (decoded.length !== 32) {
    throw new WeChatProtocolError('AES_KEY_INVALID', { wechatCode: -40004 })
  }
  return decoded
}

function decryptFailed(message: string, cause?: unknown): WeChatProtocolError {
  return new WeChatProtocolError('DECRYPT_FAILED', {
    message: `DECRYPT_FAILED: ${message}`,
    wechatCode: -40007,
    cause,
  })
}

/**
 * https://developers.weixin.qq.com/doc/subscription/guide/dev/push/encryption.md
 * Algorithm: Encrypt = base64(AES-256-CBC(key, iv = key[0..16], pkcs7_32(random16 | uint32_be(len) | msg | appId)));
 * msg_signature = sha1(sort([token, timestamp, nonce, Encrypt]).join('')).
 */
export function createMessageCrypto(options: MessageCryptoOptions): MessageCrypto {
  // Decoded and copied once at wiring time; the hot path only computes.
  const key =
    typeof options.encodingAesKey === 'string'
      ? decodeEncodingAesKey(options.encodingAesKey)
      : Buffer.from(options.encodingAesKey)
  if (key.length !== 32) {
    throw new WeChatProtocolError('AES_KEY_INVALID', {
      message: 'AES_KEY_INVALID: the AES key must be 32 bytes',
      wechatCode: -40004,
    })
  }
  const iv = Buffer.from(key.subarray(0, 16))
  const token = options.token
  const appIdBytes = Buffer.from(options.appId, 'utf8')
  const randomBytes = options.randomBytes ?? pooledRandomBytes
  const utf8 = new TextDecoder('utf-8', { fatal: true })

  function encrypt(plain: string): string {
    const random = randomBytes(RANDOM_LENGTH)
    if (random.length !== RANDOM_LENGTH) {
      throw new RangeError(`randomBytes returned ${random.length} bytes, expected ${RANDOM_LENGTH}`)
    }
    // random16 | uint32_be(len) | msg | appId | PKCS#7 pad, written into one buffer of its final size
    // (it was five buffers and two concatenations per reply).
    const messageLength = Buffer.byteLength(plain, 'utf8')
    const unpadded = HEADER_LENGTH + messageLength + appIdBytes.length
    const pad = BLOCK_SIZE - (unpadded % BLOCK_SIZE)
    const padded = Buffer.allocUnsafe(unpadded + pad)
    random.copy(padded, 0)
    padded.writeUInt32BE(messageLength, RANDOM_LENGTH)
    padded.write(plain, HEADER_LENGTH, 'utf8')
    appIdBytes.copy(padded, HEADER_LENGTH + messageLength)
    padded.fill(pad, unpadded)
    const cipher = createCipheriv('aes-256-cbc', key, iv)
    cipher.setAutoPadding(false)
    // Without padding, final() has nothing left to give for whole blocks.
    const encrypted = cipher.update(padded)
    const rest = cipher.final()
    return (rest.length === 0 ? encrypted : Buffer.concat([encrypted, rest])).toString('base64')
  }

  function decrypt(encrypted: string): string {
    const ciphertext = decodeStrictBase64(encrypted)
    if (ciphertext === undefined) throw decryptFailed('Encrypt is not base64')
    if (ciphertext.length % BLOCK_SIZE !== 0) throw decryptFailed('ciphertext length')
    let padded: Buffer
    try {
      const decipher = createDecipheriv('aes-256-cbc', key, iv)
      decipher.setAutoPadding(false)
      const decrypted = decipher.update(ciphertext)
      const rest = decipher.final()
      padded = rest.length === 0 ? decrypted : Buffer.concat([decrypted, rest])
    } catch (error) {
      throw decryptFailed('AES-CBC failed', error)
    }
    const content = pkcs7Unpad(padded, BLOCK_SIZE)
    if (content.length < HEADER_LENGTH) throw decryptFailed('plaintext too short')
    const messageLength = content.readUInt32BE(RANDOM_LENGTH)
    // Bounds-checked: a forged length must never read past the buffer or into the appId.
    if (messageLength > content.length - HEADER_LENGTH) throw decryptFailed('message length')
    const messageEnd = HEADER_LENGTH + messageLength
    const receivedAppId = content.subarray(messageEnd)
    if (receivedAppId.length !== appIdBytes.length || !receivedAppId.equals(appIdBytes)) {
      throw new WeChatProtocolError('APPID_MISMATCH', {
        message: 'APPID_MISMATCH: the message was encrypted for another AppID',
        wechatCode: -40005,
      })
    }
    try {
      return utf8.decode(content.subarray(HEADER_LENGTH, messageEnd))
    } catch (error) {
      throw decryptFailed('message is not UTF-8', error)
    }
  }

  function msgSignature(timestamp: string, nonce: string, encrypted: string): string {
    return computeSignature([token, timestamp, nonce, encrypted])
  }

  function verifyMsgSignature(params: {
    timestamp: string
    nonce: string
    encrypt: string
    msgSignature: string
  }): void {
    const expected = msgSignature(params.timestamp, params.nonce, params.encrypt)
    if (!safeEqual(expected, params.msgSignature)) {
      throw new WeChatProtocolError('SIGNATURE_MISMATCH', {
        message: 'SIGNATURE_MISMATCH: msg_signature does not match',
        wechatCode: -40001,
      })
    }
  }

  function encryptReply(plainXml: string, params: { timestamp: string; nonce: string }): string {
    const encrypted = encrypt(plainXml)
    return buildEncryptedReply({
      encrypt: encrypted,
      msgSignature: msgSignature(params.timestamp, params.nonce, encrypted),
      timestamp: params.timestamp,
      nonce: params.nonce,
    })
  }

  function openReply(replyXml: string): string {
    const reply = readEncryptedReply(replyXml)
    verifyMsgSignature(reply)
    return decrypt(reply.encrypt)
  }

  return { encrypt, decrypt, msgSignature, verifyMsgSignature, encryptReply, openReply }
}
