// The gateway's error registry: generic answers for WeChat's URLs; the precise reason stays in the log.
import { defineError, serviceKitErrors } from '@wxgate/service-kit'
import { WeChatProtocolError } from '@wxgate/wechat'

export const GatewayErrors = {
  /** Any failed check of a push (signature, msg_signature, timestamp, appid, decryption): never says which. */
  SIGNATURE_INVALID: defineError(
    'SIGNATURE_INVALID',
    'The request could not be authenticated',
    401,
  ),
  /** Malformed XML, a message missing its fields, an unknown encrypt_type. */
  MESSAGE_INVALID: defineError('MESSAGE_INVALID', 'The message could not be read', 400),
  /** A plaintext push whose query no store can vouch for (Redis away): WeChat should retry it. */
  PUSH_CHECK_UNAVAILABLE: defineError(
    'PUSH_CHECK_UNAVAILABLE',
    'The push could not be checked, retry later',
    503,
  ),
  /** The event could neither reach app nor be written to the spool: WeChat should retry it. */
  SPOOL_UNAVAILABLE: defineError(
    'SPOOL_UNAVAILABLE',
    'The event could not be recorded, retry later',
    503,
  ),
} as const

/** service-kit's own codes the gateway throws too (documented under "Common"). */
export const { UnsupportedMediaType, PayloadTooLarge } = serviceKitErrors

/** Maps a protocol failure to its generic HTTP error, keeping the precise error as `cause`. */
export function protocolErrorToHttp(error: WeChatProtocolError): Error {
  let httpError: Error
  switch (error.code) {
    case 'XML_TOO_LARGE':
      httpError = new PayloadTooLarge()
      break
    case 'XML_INVALID':
    case 'MESSAGE_INVALID':
      httpError = new GatewayErrors.MESSAGE_INVALID()
      break
    case 'SIGNATURE_MISMATCH':
    case 'APPID_MISMATCH':
    case 'MCHID_MISMATCH':
    case 'AES_KEY_INVALID':
    case 'PADDING_INVALID':
    case 'DECRYPT_FAILED':
      httpError = new GatewayErrors.SIGNATURE_INVALID()
      break
  }
  httpError.cause = error
  return httpError
}

export function isProtocolError(error: unknown): error is WeChatProtocolError {
  return error instanceof WeChatProtocolError
}
