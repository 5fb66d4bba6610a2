// The Official Account SHA-1 signature: server URL check (`signature`) and the basis of `msg_signature`.
import { hash } from 'node:crypto'
import { safeEqual } from '../crypto/constant-time.js'

/**
 * https://developers.weixin.qq.com/doc/subscription/guide/dev/push/encryption.md
 * Algorithm: sort the parts as strings (code-unit order, never numeric), join without separator, SHA-1, lowercase hex.
 */
export function computeSignature(parts: readonly string[]): string {
  // Insertion sort of a copy rather than Array#sort: for three or four short strings the built-in's
  // set-up allocated more than the strings (the largest single allocation of a safe-mode push, see
  // docs/benchmarks.md). `>` on strings is code-unit order, the same order as sort()'s default.
  const sorted = parts.slice()
  for (let i = 1; i < sorted.length; i++) {
    const part = sorted[i] as string
    let j = i - 1
    for (; j >= 0 && (sorted[j] as string) > part; j--) sorted[j + 1] = sorted[j] as string
    sorted[j + 1] = part
  }
  // One-shot hash: no Hash object per signature.
  return hash('sha1', sorted.join(''), 'hex')
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
