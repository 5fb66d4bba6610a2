// WeChat Pay API v2 `sign`: MD5 or HMAC-SHA256 over the sorted non-empty parameters (PROTOCOL.md §9.1).
import { createHash, createHmac } from 'node:crypto'
import { safeEqual } from '../crypto/constant-time.js'
import { WeChatProtocolError } from '../errors.js'

export type PaySignType = 'MD5' | 'HMAC-SHA256'

/** Parameter values as they go on the wire; `undefined` and `''` take no part in the sign. */
export type PayParams = Record<string, string | number | undefined>

export function isPaySignType(value: unknown): value is PaySignType {
  return value === 'MD5' || value === 'HMAC-SHA256'
}

/**
 * `stringA` of the official algorithm: every non-empty parameter except `sign` (`sign_type` stays),
 * names sorted by code unit (ASCII, case-sensitive), joined `k=v&…` with the raw, un-encoded values.
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
 */
export function payStringToSign(params: PayParams): string {
  const parts: string[] = []
  // Default sort compares UTF-16 code units, which equals ASCII order for the ASCII names WeChat uses;
  // localeCompare would not.
  for (const name of Object.keys(params).sort()) {
    if (name === 'sign') continue
    const value = params[name]
    if (value === undefined) continue
    const text = String(value)
    if (text === '') continue
    parts.push(`${name}=${text}`)
  }
  return parts.join('&')
}

/**
 * Signs v2 parameters: `upper(hex(MD5(stringA&key=K)))` or `upper(hex(HMAC-SHA256_K(stringA&key=K)))`.
 * The algorithm is `signType`, else the parameters' own `sign_type`, else MD5 (WeChat's default).
 */
export function signPayParams(params: PayParams, apiKey: string, signType?: PaySignType): string {
  const algorithm = signType ?? signTypeOfParams(params) ?? 'MD5'
  return computeSign(`${payStringToSign(params)}&key=${apiKey}`, apiKey, algorithm)
}

/**
 * Checks the `sign` of received parameters, every received field included (WeChat adds fields over
 * time). The algorithm comes from the message's `sign_type`; without one, from `signType`; without
 * that, from the sign's length (32 hex → MD5, 64 → HMAC-SHA256). Compared in constant time.
 */
export function verifyPayParams(
  params: Record<string, string | undefined>,
  apiKey: string,
  signType?: PaySignType,
): boolean {
  const received = params.sign
  if (received === undefined || received === '') return false
  let algorithm: PaySignType | undefined
  const declared = params.sign_type
  if (declared !== undefined && declared !== '') {
    // An unknown sign_type is not guessed around: the message is not one we can check.
    if (!isPaySignType(declared)) return false
    algorithm = declared
  } else {
    algorithm = signType ?? signTypeOfLength(received.length)
  }
  if (algorithm === undefined) return false
  const expected = computeSign(`${payStringToSign(params)}&key=${apiKey}`, apiKey, algorithm)
  return safeEqual(expected, received)
}

function signTypeOfParams(params: PayParams): PaySignType | undefined {
  const declared = params.sign_type
  if (declared === undefined || declared === '') return undefined
  if (!isPaySignType(declared)) {
    throw new WeChatProtocolError('MESSAGE_INVALID', {
      message: 'sign_type must be MD5 or HMAC-SHA256',
    })
  }
  return declared
}

function signTypeOfLength(length: number): PaySignType | undefined {
  if (length === 32) return 'MD5'
  if (length === 64) return 'HMAC-SHA256'
  return undefined
}

function computeSign(stringSignTemp: string, apiKey: string, algorithm: PaySignType): string {
  const digest =
    algorithm === 'MD5'
      ? createHash('md5').update(stringSignTemp, 'utf8').digest('hex')
      : createHmac('sha256', apiKey).update(stringSignTemp, 'utf8').digest('hex')
  return digest.toUpperCase()
}
