// Builds pushes the way WeChat signs them (plaintext, compatible, safe) for gateway tests.
import {
  buildEnvelope,
  buildXml,
  computeSignature,
  createMessageCrypto,
  randomNonce,
} from '@wxgate/wechat'
import type { MessageCrypto } from '@wxgate/wechat'

export type PushMode = 'plaintext' | 'compatible' | 'safe'

export interface PushSigner {
  /** The query string and body of a push of `plainXml` in `mode`. */
  push(
    plainXml: string,
    options?: { mode?: PushMode; timestampS?: number; nonce?: string },
  ): { url: string; body: string; nonce: string; timestamp: string }
  /** A URL-verification GET. */
  verifyUrl(echostr: string, options?: { timestampS?: number }): string
  crypto: MessageCrypto | undefined
}

export function createPushSigner(options: {
  token: string
  appId: string
  encodingAesKey?: string
  path?: string
  now?: () => number
}): PushSigner {
  const { token, path = '/api/v1/auth/wechat/verify', now = Date.now } = options
  const crypto =
    options.encodingAesKey === undefined
      ? undefined
      : createMessageCrypto({ token, encodingAesKey: options.encodingAesKey, appId: options.appId })
  const nowS = (): number => Math.floor(now() / 1000)

  return {
    crypto,
    push(plainXml, pushOptions = {}) {
      const mode = pushOptions.mode ?? 'plaintext'
      const timestamp = String(pushOptions.timestampS ?? nowS())
      const nonce = pushOptions.nonce ?? randomNonce(10)
      const query = new URLSearchParams({
        signature: computeSignature([token, timestamp, nonce]),
        timestamp,
        nonce,
        openid: 'o-query',
      })
      if (mode === 'plaintext') return { url: `${path}?${query}`, body: plainXml, nonce, timestamp }
      if (crypto === undefined) throw new Error('compatible/safe pushes need an EncodingAESKey')
      const encrypt = crypto.encrypt(plainXml)
      query.set('encrypt_type', 'aes')
      query.set('msg_signature', crypto.msgSignature(timestamp, nonce, encrypt))
      const body =
        mode === 'safe'
          ? buildEnvelope({ toUserName: 'gh_test', encrypt })
          : plainXml.replace(/<\/xml>\s*$/, `${buildXml({ Encrypt: encrypt }).slice(5, -6)}</xml>`)
      return { url: `${path}?${query}`, body, nonce, timestamp }
    },
    verifyUrl(echostr, verifyOptions = {}) {
      const timestamp = String(verifyOptions.timestampS ?? nowS())
      const nonce = randomNonce(10)
      const query = new URLSearchParams({
        signature: computeSignature([token, timestamp, nonce]),
        timestamp,
        nonce,
        echostr,
      })
      return `${path}?${query}`
    },
  }
}

/** A push's plain XML from its fields (ToUserName, FromUserName and CreateTime defaulted). */
export function inboundXml(
  fields: Record<string, string | number>,
  nowS = Math.floor(Date.now() / 1000),
): string {
  return buildXml({ ToUserName: 'gh_test', FromUserName: 'o-user-1', CreateTime: nowS, ...fields })
}
