// WeChat's servers pushing a message to the gateway: signed query, plaintext/compatible/safe body, 3 tries, reply check.
import {
  buildEnvelope,
  buildXml,
  computeSignature,
  createMessageCrypto,
  parseXml,
  WeChatProtocolError,
} from '@wxgate/wechat'
import type { MessageCrypto, XmlRecord } from '@wxgate/wechat'
import type { PushAttemptRecord, PushRecord, SimContext } from '../context.js'
import { SimulatorError } from '../errors.js'

/** WeChat re-sends a push it got no answer to within 5 s; three tries in all. */
export const PUSH_TRIES = 3

const REPLY_TYPES = new Set([
  'text',
  'image',
  'voice',
  'video',
  'music',
  'news',
  'transfer_customer_service',
])

export interface PushReply {
  msgType: string
  toUser: string
  fromUser: string
  createTime: number
  /** Text replies only. */
  content: string | undefined
  fields: XmlRecord
  /** The reply came encrypted (and its MsgSignature verified). */
  encrypted: boolean
}

export interface PushResult {
  /** The gateway answered 200 with `success`, an empty body or a valid reply. */
  ok: boolean
  status: number | undefined
  body: string | undefined
  reply: PushReply | undefined
  attempts: number
  /** Why the answer was not acceptable (e.g. `NO_ANSWER`, `HTTP_STATUS`, `REPLY_SIGNATURE_MISMATCH`, `REPLY_FIELDS`). */
  problem: string | undefined
  record: PushRecord
}

export interface Pusher {
  /** `bareDigits`: numeric fields written bare that do not fit a JS number (MsgId). */
  push(
    kind: PushRecord['kind'],
    openId: string,
    extra: Record<string, string | number>,
    bareDigits?: Record<string, string>,
  ): Promise<PushResult>
  /** Sends an earlier push again, unchanged (CreateTime, MsgId): what WeChat's retries look like. */
  redeliver(record: PushRecord): Promise<PushResult>
}

export function createPusher(ctx: SimContext): Pusher {
  let crypto: MessageCrypto | undefined
  let cryptoKey: string | undefined
  const messageCrypto = (): MessageCrypto => {
    const key = ctx.settings.encodingAesKey
    if (key === undefined) {
      throw new SimulatorError(
        'ENCODING_AES_KEY_MISSING',
        'compatible and safe modes need encodingAesKey',
      )
    }
    if (crypto === undefined || cryptoKey !== key) {
      crypto = createMessageCrypto({
        token: ctx.settings.token,
        encodingAesKey: key,
        appId: ctx.settings.appId,
        randomBytes: (size) => ctx.randomBytes(size),
      })
      cryptoKey = key
    }
    return crypto
  }

  const send = async (
    kind: PushRecord['kind'],
    openId: string,
    plainXml: string,
  ): Promise<PushResult> => {
    const url = ctx.settings.pushUrl
    if (url === undefined || url === '')
      throw new SimulatorError('PUSH_URL_MISSING', 'no pushUrl configured')
    const mode = ctx.settings.pushMode
    const { token } = ctx.settings
    const attempts: PushAttemptRecord[] = []
    const record: PushRecord = {
      kind,
      openId,
      mode,
      url,
      plainXml,
      sentXml: '',
      query: {},
      attempts,
      ok: false,
      problem: undefined,
      at: ctx.now(),
    }
    ctx.records.pushes.push(record)
    const finish = (result: Omit<PushResult, 'record' | 'attempts'>): PushResult => {
      record.ok = result.ok
      record.problem = result.problem
      return { ...result, attempts: attempts.length, record }
    }
    for (let attempt = 1; attempt <= PUSH_TRIES; attempt++) {
      const timestamp = String(ctx.nowS())
      // WeChat's nonces are decimal numbers.
      const nonce = String(Number(ctx.randomDigits(9)) + 1)
      const query: Record<string, string> = {
        signature: computeSignature([token, timestamp, nonce]),
        timestamp,
        nonce,
        openid: openId,
      }
      let body = plainXml
      if (mode !== 'plaintext') {
        const crypto = messageCrypto()
        const encrypt = crypto.encrypt(plainXml)
        query.encrypt_type = 'aes'
        query.msg_signature = crypto.msgSignature(timestamp, nonce, encrypt)
        body =
          mode === 'safe'
            ? buildEnvelope({ toUserName: ctx.settings.originalId, encrypt })
            : compatibleBody(plainXml, encrypt)
      }
      record.query = query
      record.sentXml = body
      const target = new URL(url)
      for (const [key, value] of Object.entries(query)) target.searchParams.set(key, value)
      const at = ctx.now()
      try {
        const response = await fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'text/xml', 'user-agent': 'Mozilla/4.0' },
          body,
          signal: AbortSignal.timeout(ctx.settings.pushTimeoutMs),
        })
        const text = await response.text()
        attempts.push({
          at,
          status: response.status,
          body: text,
          error: undefined,
          timedOut: false,
        })
        return finish(checkAnswer(response.status, text, openId, mode))
      } catch (error) {
        const timedOut =
          error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
        attempts.push({
          at,
          status: undefined,
          body: undefined,
          error: error instanceof Error ? error.message : String(error),
          timedOut,
        })
      }
    }
    return finish({
      ok: false,
      status: undefined,
      body: undefined,
      reply: undefined,
      problem: 'NO_ANSWER',
    })
  }

  const checkAnswer = (
    status: number,
    text: string,
    openId: string,
    mode: PushRecord['mode'],
  ): Omit<PushResult, 'record' | 'attempts'> => {
    const base = { status, body: text }
    if (status !== 200) return { ...base, ok: false, reply: undefined, problem: 'HTTP_STATUS' }
    // `success` and an empty body need no encryption, in every mode.
    if (text === '' || text === 'success')
      return { ...base, ok: true, reply: undefined, problem: undefined }
    let plain = text
    let encrypted = false
    try {
      const fields = parseXml(text)
      if (typeof fields.Encrypt === 'string') {
        if (mode === 'plaintext') {
          return {
            ...base,
            ok: false,
            reply: undefined,
            problem: 'REPLY_ENCRYPTED_IN_PLAINTEXT_MODE',
          }
        }
        plain = messageCrypto().openReply(text)
        encrypted = true
      } else if (mode === 'safe') {
        return { ...base, ok: false, reply: undefined, problem: 'REPLY_NOT_ENCRYPTED' }
      }
      const reply = readReply(plain, encrypted)
      if (reply.toUser !== openId || reply.fromUser !== ctx.settings.originalId) {
        return { ...base, ok: false, reply, problem: 'REPLY_USERS_NOT_SWAPPED' }
      }
      return { ...base, ok: true, reply, problem: undefined }
    } catch (error) {
      const code = error instanceof WeChatProtocolError ? error.code : 'INVALID'
      return { ...base, ok: false, reply: undefined, problem: `REPLY_${code}` }
    }
  }

  return {
    async push(kind, openId, extra, bareDigits = {}) {
      let plainXml = buildXml({
        ToUserName: ctx.settings.originalId,
        FromUserName: openId,
        CreateTime: ctx.nowS(),
        MsgType: kind === 'text' ? 'text' : 'event',
        ...extra,
        ...Object.fromEntries(Object.keys(bareDigits).map((name) => [name, 0])),
      })
      // WeChat writes MsgId as a bare number, but it exceeds 2^53: the digits replace a placeholder 0.
      for (const [name, digits] of Object.entries(bareDigits)) {
        if (!/^\d{1,20}$/.test(digits))
          throw new SimulatorError('INVALID_REQUEST', `${name} must be digits`)
        plainXml = plainXml.replace(`<${name}>0</${name}>`, `<${name}>${digits}</${name}>`)
      }
      return send(kind, openId, plainXml)
    },
    redeliver: (record) => send(record.kind, record.openId, record.plainXml),
  }
}

function readReply(xml: string, encrypted: boolean): PushReply {
  const fields = parseXml(xml)
  const text = (name: string): string => {
    const value = fields[name]
    if (typeof value !== 'string' || value === '') {
      throw new WeChatProtocolError('MESSAGE_INVALID', { message: `reply ${name} is missing` })
    }
    return value
  }
  const msgType = text('MsgType')
  if (!REPLY_TYPES.has(msgType)) {
    throw new WeChatProtocolError('MESSAGE_INVALID', { message: 'reply MsgType is unknown' })
  }
  const createTime = text('CreateTime')
  if (!/^\d{1,15}$/.test(createTime)) {
    throw new WeChatProtocolError('MESSAGE_INVALID', {
      message: 'reply CreateTime is not a number',
    })
  }
  let content: string | undefined
  if (msgType === 'text') content = text('Content')
  return {
    msgType,
    toUser: text('ToUserName'),
    fromUser: text('FromUserName'),
    createTime: Number(createTime),
    content,
    fields,
    encrypted,
  }
}

/** Compatible mode: the plain message with its `Encrypt` appended, in one document. */
function compatibleBody(plainXml: string, encrypt: string): string {
  const encryptElement = buildXml({ Encrypt: encrypt }).slice('<xml>'.length, -'</xml>'.length)
  return `${plainXml.slice(0, -'</xml>'.length)}${encryptElement}</xml>`
}
