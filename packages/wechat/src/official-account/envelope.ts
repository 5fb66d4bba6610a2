// The outer XML of safe-mode messages: the inbound envelope and the encrypted passive reply.
import { WeChatProtocolError } from '../errors.js'
import { buildXml, parseXml, type XmlRecord } from '../xml/codec.js'

export interface Envelope {
  toUserName: string | undefined
  encrypt: string
}

export interface EncryptedReply {
  encrypt: string
  msgSignature: string
  timestamp: string
  nonce: string
}

function requiredString(fields: XmlRecord, name: string): string {
  const value = fields[name]
  if (typeof value !== 'string' || value === '') {
    throw new WeChatProtocolError('MESSAGE_INVALID', {
      message: `MESSAGE_INVALID: ${name} is missing`,
      wechatCode: -40002,
    })
  }
  return value
}

/**
 * https://developers.weixin.qq.com/doc/subscription/guide/dev/push/encryption.md
 * Reads `<xml><ToUserName/><Encrypt/></xml>`; `Encrypt` is required, other (compatible-mode) fields are ignored.
 */
export function readEnvelope(xml: string): Envelope {
  const fields = parseXml(xml)
  const toUserName = fields.ToUserName
  return {
    toUserName: typeof toUserName === 'string' ? toUserName : undefined,
    encrypt: requiredString(fields, 'Encrypt'),
  }
}

/** Reads an encrypted passive reply: `Encrypt`, `MsgSignature`, `TimeStamp` and `Nonce`, all required. */
export function readEncryptedReply(xml: string): EncryptedReply {
  const fields = parseXml(xml)
  return {
    encrypt: requiredString(fields, 'Encrypt'),
    msgSignature: requiredString(fields, 'MsgSignature'),
    timestamp: requiredString(fields, 'TimeStamp'),
    nonce: requiredString(fields, 'Nonce'),
  }
}

/** Builds a safe-mode inbound body, as WeChat posts it (used by the simulator). */
export function buildEnvelope(params: { toUserName: string; encrypt: string }): string {
  return buildXml({ ToUserName: params.toUserName, Encrypt: params.encrypt })
}

/** Builds the encrypted passive reply XML; a canonical decimal timestamp is written bare, as WeChat does. */
export function buildEncryptedReply(reply: EncryptedReply): string {
  return buildXml({
    Encrypt: reply.encrypt,
    MsgSignature: reply.msgSignature,
    TimeStamp: /^(0|[1-9][0-9]{0,14})$/.test(reply.timestamp)
      ? Number(reply.timestamp)
      : reply.timestamp,
    Nonce: reply.nonce,
  })
}
