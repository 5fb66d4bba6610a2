// WeChat Pay v2 refund notification `req_info`: AES-256-ECB under the hex MD5 of the API key (PROTOCOL.md §9.6).
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto'
import { pkcs7Pad, pkcs7Unpad } from '../crypto/pkcs7.js'
import { WeChatProtocolError } from '../errors.js'
import { parseXml } from '../xml/codec.js'
import type { XmlRecord } from '../xml/codec.js'

const BLOCK = 16
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/**
 * The AES key is the 32 ASCII characters of lowercase hex MD5(apiKey), used as bytes — not the
 * 16 raw digest bytes (a classic mistake).
 */
function refundKey(apiKey: string): Buffer {
  return Buffer.from(createHash('md5').update(apiKey, 'utf8').digest('hex'), 'ascii')
}

/**
 * Decrypts `req_info` into the fields of its `<root>` document. Bad base64 or a length that is not
 * whole blocks → `DECRYPT_FAILED`; bad padding (also what a wrong key usually gives) → `PADDING_INVALID`;
 * a plaintext that is not XML → `XML_INVALID`. Successful decryption is the authenticity check.
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10
 */
export function decryptRefundReqInfo(reqInfo: string, apiKey: string): XmlRecord {
  if (!BASE64.test(reqInfo)) throw decryptFailed('req_info is not base64')
  const cipherText = Buffer.from(reqInfo, 'base64')
  if (cipherText.length === 0 || cipherText.length % BLOCK !== 0) {
    throw decryptFailed('req_info is not whole AES blocks')
  }
  let padded: Buffer
  try {
    const decipher = createDecipheriv('aes-256-ecb', refundKey(apiKey), null)
    // Padding is checked strictly by pkcs7Unpad, not by OpenSSL's lenient-in-places default.
    decipher.setAutoPadding(false)
    padded = Buffer.concat([decipher.update(cipherText), decipher.final()])
  } catch (error) {
    throw new WeChatProtocolError('DECRYPT_FAILED', {
      message: 'req_info decryption failed',
      cause: error,
    })
  }
  const plain = pkcs7Unpad(padded, BLOCK).toString('utf8')
  return parseXml(plain)
}

/** Encrypts a plaintext `<root>` document as WeChat does (for the simulator and round-trip tests). */
export function encryptRefundReqInfo(plainXml: string, apiKey: string): string {
  const cipher = createCipheriv('aes-256-ecb', refundKey(apiKey), null)
  cipher.setAutoPadding(false)
  const padded = pkcs7Pad(Buffer.from(plainXml, 'utf8'), BLOCK)
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64')
}

function decryptFailed(message: string): WeChatProtocolError {
  return new WeChatProtocolError('DECRYPT_FAILED', { message })
}
