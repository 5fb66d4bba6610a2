// The Official Account SHA-1 signature: server URL check (`signature`) and the basis of `msg_signature`.
import { createHash } from 'node:crypto'
import { safeEqual } from '../crypto/constant-time.js'

/**
 * https://developers.weixin.qq.com/doc/subscription/guide/dev/push/encryption.md
 * Algorithm: sort the parts as strings (code-unit order, never numeric), join without separator, SHA-1, lowercase hex.
 */
export function computeSignature(parts: readonly string[]): string {
  const sorted = [...parts].sort()
  return createHash('sha1').update(sorted.join(''), 'utf8').digest('hex')
}

/**
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 * Algorithm: `signature == sha1(sort([token, timestamp, nonce]).join(''))`, compared in constant time.
 * It covers the query only, never the body: in safe mode check `msg_signature` as well.
 */
export function verifyUrlSignature(params: {
  token: string
  timestamp: string
  nonce: string
  signature: string
}): boolean {
  const expected = computeSignature([params.token, params.timestamp, params.nonce])
  return safeEqual(expected, params.signature)
}
