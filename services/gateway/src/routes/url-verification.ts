// WeChat's server URL check (GET …/verify), apart from any HTTP framework: the Fastify route
// (wechat-verify.ts) and the listening server's fast path (wechat-verify-fast.ts) both decide with it.
import { verifyUrlSignature } from '@wxgate/wechat'

export interface UrlVerificationQuery {
  signature: string | undefined
  timestamp: string | undefined
  nonce: string | undefined
  echostr: string | undefined
}

/** Why a URL check was refused (the log's code; the answer is always 401 SIGNATURE_INVALID). */
export type UrlVerificationRefusal = 'SIGNATURE_MISSING' | 'SIGNATURE_MISMATCH' | 'ECHOSTR_MISSING'

/** The echostr to send back, or why not. No timestamp window: WeChat's check carries none to keep. */
export function checkUrlVerification(
  token: string,
  { signature, timestamp, nonce, echostr }: UrlVerificationQuery,
): { echostr: string } | { refused: UrlVerificationRefusal } {
  if (signature === undefined || timestamp === undefined || nonce === undefined) {
    return { refused: 'SIGNATURE_MISSING' }
  }
  // Checked before echostr is looked at: echoing it unchecked would let anyone claim the URL.
  if (!verifyUrlSignature({ token, timestamp, nonce, signature })) {
    return { refused: 'SIGNATURE_MISMATCH' }
  }
  // The contract's answer to anything but a signed echostr is 401, a missing echostr included.
  if (echostr === undefined) return { refused: 'ECHOSTR_MISSING' }
  return { echostr }
}
