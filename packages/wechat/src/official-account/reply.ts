// Passive replies to a pushed message, always built and read through the XML codec.
import { WeChatProtocolError } from '../errors.js'
import { buildXml, parseXml, type XmlRecord } from '../xml/codec.js'

export interface TextReply {
  msgType: 'text'
  /** The user's OpenID (the inbound FromUserName). */
  toUser: string
  /** The Official Account's original id `gh_…` (the inbound ToUserName). */
  fromUser: string
  content: string
  createTime: number
}

/** The passive replies wxgate sends; a union so new kinds can be added without changing callers. */
export type Reply = TextReply

/** Builds a text reply; `createTime` defaults to now in Unix seconds. */
export function textReply(params: {
  toUser: string
  fromUser: string
  content: string
  createTime?: number
}): TextReply {
  return {
    msgType: 'text',
    toUser: params.toUser,
    fromUser: params.fromUser,
    content: params.content,
    createTime: params.createTime ?? Math.floor(Date.now() / 1000),
  }
}

/**
 * https://developers.weixin.qq.com/doc/service/en/Message_Management/Passive_user_reply_message.html
 * Algorithm: `<xml>` with ToUserName, FromUserName, CreateTime (bare seconds), MsgType, Content, text in CDATA.
 */
export function renderReply(reply: Reply): string {
  return buildXml({
    ToUserName: reply.toUser,
    FromUserName: reply.fromUser,
    CreateTime: reply.createTime,
    MsgType: reply.msgType,
    Content: reply.content,
  })
}

function field(fields: XmlRecord, name: string): string {
  const value = fields[name]
  if (typeof value !== 'string' || (value === '' && name !== 'Content')) {
    throw new WeChatProtocolError('MESSAGE_INVALID', {
      message: `MESSAGE_INVALID: ${name} is missing`,
    })
  }
  return value
}

/** Reads a plaintext passive reply (the simulator checks what the gateway answered); only text is known. */
export function parseReply(xml: string): Reply {
  const fields = parseXml(xml)
  const msgType = field(fields, 'MsgType')
  if (msgType !== 'text') {
    throw new WeChatProtocolError('MESSAGE_INVALID', {
      message: `MESSAGE_INVALID: unsupported reply MsgType ${JSON.stringify(msgType.slice(0, 32))}`,
    })
  }
  const createTime = field(fields, 'CreateTime')
  if (!/^[0-9]{1,15}$/.test(createTime)) {
    throw new WeChatProtocolError('MESSAGE_INVALID', {
      message: 'MESSAGE_INVALID: CreateTime is not a number',
    })
  }
  return {
    msgType,
    toUser: field(fields, 'ToUserName'),
    fromUser: field(fields, 'FromUserName'),
    content: field(fields, 'Content'),
    createTime: Number(createTime),
  }
}
