// One pushed message (plaintext, compatible or safe mode), from its query to its answer, apart from any
// HTTP framework. The Fastify route (wechat-verify.ts) and the listening server's fast path
// (wechat-verify-fast.ts) both call it: one copy of the checks, two ways of carrying the request.
import {
  parseInbound,
  readEnvelope,
  renderReply,
  textReply,
  verifyUrlSignature,
} from '@wxgate/wechat'
import type { InboundMessage, MessageCrypto } from '@wxgate/wechat'
import { GatewayErrors, isProtocolError, protocolErrorToHttp } from '../errors.js'
import { messageType, SpoolWriteError } from '../events/dispatch.js'
import type { DispatchContext, EventDispatcher, PushLog } from '../events/dispatch.js'
import type { GatewayMetrics } from '../metrics.js'
import type { EncryptedQueryMarks } from './encrypted-queries.js'
import { assertReadableContentType } from './xml-body.js'

export interface WeChatPushOptions {
  token: string
  /** Set when an EncodingAESKey is configured: compatible and safe mode pushes are accepted. */
  crypto: MessageCrypto | undefined
  pushMaxAgeS: number
  /** Refuse pushes without `encrypt_type=aes` (WECHAT_PUSH_ENCRYPTED_ONLY; needs `crypto`). Default false. */
  encryptedOnly?: boolean
  dispatcher: EventDispatcher
  metrics: GatewayMetrics
  /** Marks that an encrypted push used a query, and asks whether one did (encrypted-queries.ts). */
  encryptedQueries: EncryptedQueryMarks
  /** ms clock */
  now: () => number
}

/** The query parameters a push is checked with; each undefined when absent, empty or repeated. */
export interface PushQuery {
  signature: string | undefined
  timestamp: string | undefined
  nonce: string | undefined
  encryptType: string | undefined
  msgSignature: string | undefined
}

/** What the query of a push says, once its signature checked out. */
export interface CheckedPush {
  signature: string
  timestamp: string
  nonce: string
  /** Set for `encrypt_type=aes` (compatible and safe mode). */
  msgSignature: string | undefined
}

/** The 200 answer to a push: `success`, or a passive reply (encrypted when the push was). */
export interface PushAnswer {
  contentType: string
  body: string
}

export interface PushHandler {
  /** Checks the query and content type, before a byte of the body is read. Throws the error to answer. */
  check(query: PushQuery, contentType: string | undefined, log: PushLog): CheckedPush
  /** Handles the body of a checked push. Throws the error to answer (an HTTP error, or a bug: 500). */
  handle(push: CheckedPush, body: string, context: DispatchContext): Promise<PushAnswer>
}

/** Why a push was refused: for the log only, never for the answer. */
type RefusalCode =
  | 'SIGNATURE_MISSING'
  | 'TIMESTAMP_INVALID'
  | 'TIMESTAMP_STALE'
  | 'SIGNATURE_MISMATCH'
  | 'MSG_SIGNATURE_MISSING'
  | 'ENCRYPT_TYPE_UNKNOWN'
  | 'ENCRYPTION_NOT_CONFIGURED'
  | 'BODY_MISSING'
  | 'QUERY_DOWNGRADED'
  | 'PLAINTEXT_REFUSED'

const TIMESTAMP = /^\d{1,12}$/
const SUCCESS: PushAnswer = { contentType: 'text/plain; charset=utf-8', body: 'success' }

export function createPushHandler(options: WeChatPushOptions): PushHandler {
  const { token, crypto, pushMaxAgeS, dispatcher, metrics, encryptedQueries, now } = options
  const encryptedOnly = options.encryptedOnly ?? false
  // A query stays marked for as long as its timestamp is accepted on either side of now.
  const queryTtlS = 2 * pushMaxAgeS + 1

  function refuse(log: PushLog, code: RefusalCode, error: Error): Error {
    log.warn({ code }, 'wechat push refused')
    return error
  }
  function invalidPush(log: PushLog, code: RefusalCode, error: Error): Error {
    metrics.wechatEvents.inc({ type: 'invalid', outcome: 'rejected' })
    return refuse(log, code, error)
  }

  return {
    check(query, contentType, log) {
      const { signature, timestamp, nonce } = query
      const unauthorized = (code: RefusalCode): Error =>
        invalidPush(log, code, new GatewayErrors.SIGNATURE_INVALID())
      if (signature === undefined || timestamp === undefined || nonce === undefined) {
        throw unauthorized('SIGNATURE_MISSING')
      }
      if (!TIMESTAMP.test(timestamp)) throw unauthorized('TIMESTAMP_INVALID')
      // Whole seconds, as the timestamp is: one exactly pushMaxAgeS off is still accepted.
      if (Math.abs(Math.floor(now() / 1000) - Number(timestamp)) > pushMaxAgeS) {
        throw unauthorized('TIMESTAMP_STALE')
      }
      if (!verifyUrlSignature({ token, timestamp, nonce, signature })) {
        throw unauthorized('SIGNATURE_MISMATCH')
      }
      let msgSignature: string | undefined
      if (query.encryptType === 'aes') {
        msgSignature = query.msgSignature
        if (msgSignature === undefined) throw unauthorized('MSG_SIGNATURE_MISSING')
        if (crypto === undefined) {
          throw invalidPush(log, 'ENCRYPTION_NOT_CONFIGURED', new GatewayErrors.MESSAGE_INVALID())
        }
      } else if (query.encryptType !== undefined && query.encryptType !== 'raw') {
        throw invalidPush(log, 'ENCRYPT_TYPE_UNKNOWN', new GatewayErrors.MESSAGE_INVALID())
      } else if (encryptedOnly) {
        throw unauthorized('PLAINTEXT_REFUSED')
      }
      assertReadableContentType(contentType)
      return { signature, timestamp, nonce, msgSignature }
    },

    async handle(push, body, context) {
      const { log } = context
      if (body === '') throw invalidPush(log, 'BODY_MISSING', new GatewayErrors.MESSAGE_INVALID())

      // No signature covers a plaintext body: its query says only that WeChat sent *a* push at that
      // timestamp and nonce, so two plaintext pushes may share one (a sender with a fixed nonce, within
      // a second) and each is handled; dedupe gives WeChat's identical retries one effect. What must
      // not pass is an encrypted push's query stripped of msg_signature and sent again with a
      // plaintext body of someone else's choosing: encrypted pushes mark their query, and a plaintext
      // push under a marked query is refused. (msg_signature itself binds an encrypted body.)
      if (push.msgSignature !== undefined) {
        await encryptedQueries.mark(push.signature, queryTtlS)
      } else if (await encryptedQueries.wasMarked(push.signature)) {
        throw invalidPush(log, 'QUERY_DOWNGRADED', new GatewayErrors.SIGNATURE_INVALID())
      }

      let msg: InboundMessage
      try {
        if (push.msgSignature !== undefined && crypto !== undefined) {
          // Safe and compatible mode: only the encrypted copy is authenticated, so only it is used.
          const envelope = readEnvelope(body)
          crypto.verifyMsgSignature({
            timestamp: push.timestamp,
            nonce: push.nonce,
            encrypt: envelope.encrypt,
            msgSignature: push.msgSignature,
          })
          msg = parseInbound(crypto.decrypt(envelope.encrypt))
        } else {
          msg = parseInbound(body)
        }
      } catch (error) {
        if (!isProtocolError(error)) throw error
        metrics.wechatEvents.inc({ type: 'invalid', outcome: 'rejected' })
        log.warn({ code: error.code, wechatCode: error.wechatCode }, 'wechat push refused')
        throw protocolErrorToHttp(error)
      }

      const type = messageType(msg)
      let replyText: string | undefined
      try {
        const result = await dispatcher.dispatch(msg, context)
        metrics.wechatEvents.inc({ type, outcome: result.outcome })
        replyText = result.replyText
        log.info({ type, outcome: result.outcome, openId: msg.fromUserName }, 'wechat push handled')
      } catch (error) {
        if (!(error instanceof SpoolWriteError)) throw error
        metrics.wechatEvents.inc({ type, outcome: 'failed' })
        log.error({ err: error }, 'event neither delivered nor spooled')
        throw new GatewayErrors.SPOOL_UNAVAILABLE({ cause: error })
      }

      if (replyText === undefined) return SUCCESS
      const nowS = Math.floor(now() / 1000)
      const plainXml = renderReply(
        textReply({
          toUser: msg.fromUserName,
          fromUser: msg.toUserName,
          content: replyText,
          createTime: nowS,
        }),
      )
      return {
        contentType: 'application/xml; charset=utf-8',
        body:
          push.msgSignature !== undefined && crypto !== undefined
            ? crypto.encryptReply(plainXml, { timestamp: String(nowS), nonce: push.nonce })
            : plainXml,
      }
    },
  }
}
