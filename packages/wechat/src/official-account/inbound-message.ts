// The typed model of messages and events WeChat pushes to the server URL (plaintext XML, after decryption).
import { WeChatProtocolError } from '../errors.js'
import { buildXml, parseXml, type XmlBuildValue, type XmlRecord } from '../xml/codec.js'

export interface InboundBase {
  toUserName: string
  fromUserName: string
  createTime: number
  /** Every field of the message as received, including ones this model does not name. */
  fields: XmlRecord
}

export type InboundMessage = InboundBase &
  (
    | { msgType: 'text'; content: string; msgId: string }
    | {
        msgType: 'event'
        event: 'subscribe'
        eventKey: string | undefined
        ticket: string | undefined
        /** EventKey without its `qrscene_` prefix: the follow came from a parametric QR code. */
        sceneStr: string | undefined
      }
    | { msgType: 'event'; event: 'unsubscribe' }
    | { msgType: 'event'; event: 'SCAN'; eventKey: string; ticket: string | undefined }
    | { msgType: 'event'; event: 'CLICK'; eventKey: string }
    | { msgType: 'event'; event: 'VIEW'; eventKey: string; menuId: string | undefined }
    | { msgType: 'unknown'; rawMsgType: string; rawEvent: string | undefined }
  )

const QR_SCENE_PREFIX = 'qrscene_'

function messageInvalid(message: string): WeChatProtocolError {
  return new WeChatProtocolError('MESSAGE_INVALID', { message: `MESSAGE_INVALID: ${message}` })
}

function optional(fields: XmlRecord, name: string): string | undefined {
  const value = fields[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

function required(fields: XmlRecord, name: string): string {
  const value = optional(fields, name)
  if (value === undefined) throw messageInvalid(`${name} is missing`)
  return value
}

/**
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 * Maps the pushed XML to a union on MsgType/Event; unknown kinds become `msgType: 'unknown'` (never an error),
 * but a known kind missing its own fields, or any message missing the four common fields, is `MESSAGE_INVALID`.
 */
export function parseInbound(xml: string): InboundMessage {
  const fields = parseXml(xml)
  const createTimeText = required(fields, 'CreateTime')
  if (!/^[0-9]{1,15}$/.test(createTimeText)) throw messageInvalid('CreateTime is not a number')
  const base: InboundBase = {
    toUserName: required(fields, 'ToUserName'),
    fromUserName: required(fields, 'FromUserName'),
    createTime: Number(createTimeText),
    fields,
  }
  const msgType = required(fields, 'MsgType')
  if (msgType === 'text') {
    const content = fields.Content
    if (typeof content !== 'string') throw messageInvalid('Content is missing')
    return { ...base, msgType, content, msgId: required(fields, 'MsgId') }
  }
  const event = optional(fields, 'Event')
  if (msgType === 'event') {
    const eventName = event ?? ''
    switch (eventName) {
      case 'subscribe': {
        const eventKey = optional(fields, 'EventKey')
        return {
          ...base,
          msgType,
          event: eventName,
          eventKey,
          ticket: optional(fields, 'Ticket'),
          sceneStr:
            eventKey?.startsWith(QR_SCENE_PREFIX) === true
              ? eventKey.slice(QR_SCENE_PREFIX.length)
              : undefined,
        }
      }
      case 'unsubscribe':
        return { ...base, msgType, event: eventName }
      case 'SCAN':
        return {
          ...base,
          msgType,
          event: eventName,
          eventKey: required(fields, 'EventKey'),
          ticket: optional(fields, 'Ticket'),
        }
      case 'CLICK':
        return { ...base, msgType, event: eventName, eventKey: required(fields, 'EventKey') }
      case 'VIEW':
        return {
          ...base,
          msgType,
          event: eventName,
          eventKey: required(fields, 'EventKey'),
          // The element is MenuId; some doc tables spell it MenuID.
          menuId: optional(fields, 'MenuId') ?? optional(fields, 'MenuID'),
        }
      default:
        break
    }
  }
  return { ...base, msgType: 'unknown', rawMsgType: msgType, rawEvent: event }
}

/** Renders a message as WeChat would push it (plaintext XML); fields the model names override `fields`. */
export function renderInbound(msg: InboundMessage): string {
  const out: Record<string, XmlBuildValue> = {
    ...msg.fields,
    ToUserName: msg.toUserName,
    FromUserName: msg.fromUserName,
    CreateTime: msg.createTime,
  }
  switch (msg.msgType) {
    case 'text':
      Object.assign(out, { MsgType: 'text', Content: msg.content, MsgId: msg.msgId })
      break
    case 'event':
      out.MsgType = 'event'
      out.Event = msg.event
      switch (msg.event) {
        case 'subscribe':
          Object.assign(out, { EventKey: msg.eventKey, Ticket: msg.ticket })
          break
        case 'unsubscribe':
          break
        case 'SCAN':
          Object.assign(out, { EventKey: msg.eventKey, Ticket: msg.ticket })
          break
        case 'CLICK':
          out.EventKey = msg.eventKey
          break
        case 'VIEW':
          Object.assign(out, { EventKey: msg.eventKey, MenuId: msg.menuId })
          break
      }
      break
    case 'unknown':
      Object.assign(out, { MsgType: msg.rawMsgType, Event: msg.rawEvent })
      break
  }
  return buildXml(out)
}

/**
 * https://developers.weixin.qq.com/doc/service/en/Message_Management/Passive_user_reply_message.html
 * Retries are deduplicated by MsgId for messages, by FromUserName + CreateTime for events.
 */
export function inboundDedupeKey(msg: InboundMessage): string {
  const msgId = msg.msgType === 'text' ? msg.msgId : optional(msg.fields, 'MsgId')
  return msgId !== undefined ? `msg:${msgId}` : `evt:${msg.fromUserName}:${msg.createTime}`
}
