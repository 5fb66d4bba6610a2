// GET/POST /api/v1/auth/wechat/verify: URL verification and message push (plaintext, compatible, safe).
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
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
import type { EventDispatcher } from '../events/dispatch.js'
import type { GatewayMetrics } from '../metrics.js'
import { assertXmlContentType, useXmlBodies, XML_BODY_LIMIT } from './xml-body.js'

export const WECHAT_VERIFY_PATH = '/api/v1/auth/wechat/verify'

export interface WeChatVerifyRoutesOptions {
  token: string
  /** Set when an EncodingAESKey is configured: compatible and safe mode pushes are accepted. */
  crypto: MessageCrypto | undefined
  pushMaxAgeS: number
  dispatcher: EventDispatcher
  metrics: GatewayMetrics
  /** Claims a key for ttlS seconds: true the first time, false while it is held (SET NX; shared with Redis). */
  claimQuery: (key: string, ttlS: number) => Promise<boolean>
  /** ms clock */
  now: () => number
}

/** What the query of a push says, once its signature checked out. */
interface CheckedPush {
  signature: string
  timestamp: string
  nonce: string
  /** Set for `encrypt_type=aes` (compatible and safe mode). */
  msgSignature: string | undefined
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
  | 'QUERY_REPLAYED'

function queryString(query: unknown, name: string): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined
  // A repeated parameter arrives as an array: treat it as missing rather than pick one.
  const value = (query as Record<string, unknown>)[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

const TIMESTAMP = /^\d{1,12}$/

function refuse(request: FastifyRequest, code: RefusalCode, error: Error): Error {
  request.log.warn({ code }, 'wechat push refused')
  return error
}

export function wechatVerifyRoutes(
  app: FastifyInstance,
  options: WeChatVerifyRoutesOptions,
  done: (error?: Error) => void,
): void {
  const { token, crypto, pushMaxAgeS, dispatcher, metrics, claimQuery, now } = options
  const checked = new WeakMap<FastifyRequest, CheckedPush>()
  // A query stays claimed for as long as its timestamp is accepted on either side of now.
  const queryTtlS = 2 * pushMaxAgeS + 1
  useXmlBodies(app)

  // On a listening server this GET is answered by wechat-verify-fast.ts (tested against this route):
  // a change here must be made there too.
  app.get(WECHAT_VERIFY_PATH, async (request, reply) => {
    const signature = queryString(request.query, 'signature')
    const timestamp = queryString(request.query, 'timestamp')
    const nonce = queryString(request.query, 'nonce')
    const echostr = queryString(request.query, 'echostr')
    if (signature === undefined || timestamp === undefined || nonce === undefined) {
      throw refuse(request, 'SIGNATURE_MISSING', new GatewayErrors.PUSH_UNAUTHORIZED())
    }
    // Checked before echostr is looked at: echoing it unchecked would let anyone claim the URL.
    if (!verifyUrlSignature({ token, timestamp, nonce, signature })) {
      throw refuse(request, 'SIGNATURE_MISMATCH', new GatewayErrors.PUSH_UNAUTHORIZED())
    }
    if (echostr === undefined) throw new GatewayErrors.MESSAGE_INVALID()
    request.log.info('wechat server URL verified')
    return reply
      .type('text/plain; charset=utf-8')
      .header('x-content-type-options', 'nosniff')
      .send(echostr)
  })

  app.post(WECHAT_VERIFY_PATH, {
    bodyLimit: XML_BODY_LIMIT,
    // Check first, parse second: the query is authenticated before a byte of the body is read.
    preParsing: async (request, _reply, payload) => {
      const signature = queryString(request.query, 'signature')
      const timestamp = queryString(request.query, 'timestamp')
      const nonce = queryString(request.query, 'nonce')
      const unauthorized = (code: RefusalCode): Error => {
        metrics.wechatEvents.inc({ type: 'invalid', outcome: 'rejected' })
        return refuse(request, code, new GatewayErrors.PUSH_UNAUTHORIZED())
      }
      if (signature === undefined || timestamp === undefined || nonce === undefined) {
        throw unauthorized('SIGNATURE_MISSING')
      }
      if (!TIMESTAMP.test(timestamp)) throw unauthorized('TIMESTAMP_INVALID')
      if (Math.abs(now() / 1000 - Number(timestamp)) > pushMaxAgeS) {
        throw unauthorized('TIMESTAMP_STALE')
      }
      if (!verifyUrlSignature({ token, timestamp, nonce, signature })) {
        throw unauthorized('SIGNATURE_MISMATCH')
      }
      const encryptType = queryString(request.query, 'encrypt_type')
      let msgSignature: string | undefined
      if (encryptType === 'aes') {
        msgSignature = queryString(request.query, 'msg_signature')
        if (msgSignature === undefined) throw unauthorized('MSG_SIGNATURE_MISSING')
        if (crypto === undefined) {
          metrics.wechatEvents.inc({ type: 'invalid', outcome: 'rejected' })
          throw refuse(request, 'ENCRYPTION_NOT_CONFIGURED', new GatewayErrors.MESSAGE_INVALID())
        }
      } else if (encryptType !== undefined && encryptType !== 'raw') {
        metrics.wechatEvents.inc({ type: 'invalid', outcome: 'rejected' })
        throw refuse(request, 'ENCRYPT_TYPE_UNKNOWN', new GatewayErrors.MESSAGE_INVALID())
      }
      assertXmlContentType(request.headers['content-type'])
      checked.set(request, { signature, timestamp, nonce, msgSignature })
      return payload
    },
    handler: async (request, reply) => {
      const push = checked.get(request)
      if (push === undefined) throw new GatewayErrors.PUSH_UNAUTHORIZED()
      const body = request.body
      if (typeof body !== 'string' || body === '') {
        metrics.wechatEvents.inc({ type: 'invalid', outcome: 'rejected' })
        throw refuse(request, 'BODY_MISSING', new GatewayErrors.MESSAGE_INVALID())
      }

      // No signature covers a plaintext body, so a query must not carry a second, different one; an
      // identical retry (WeChat re-sends the same request) is let through and dedupe gives it one effect.
      // Encrypted pushes mark their query as used too, so it cannot be stripped of msg_signature and
      // replayed with a plaintext body. (msg_signature itself binds an encrypted body.)
      const firstUse = await claimQuery(`query:${push.signature}`, queryTtlS)
      if (push.msgSignature === undefined) {
        const bodyKey = `query-body:${push.signature}:${createHash('sha256').update(body).digest('hex')}`
        const newBody = await claimQuery(bodyKey, queryTtlS)
        if (!firstUse && newBody) {
          metrics.wechatEvents.inc({ type: 'invalid', outcome: 'rejected' })
          throw refuse(request, 'QUERY_REPLAYED', new GatewayErrors.PUSH_UNAUTHORIZED())
        }
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
        request.log.warn({ code: error.code, wechatCode: error.wechatCode }, 'wechat push refused')
        throw protocolErrorToHttp(error)
      }

      const type = messageType(msg)
      let replyText: string | undefined
      try {
        const result = await dispatcher.dispatch(msg, { requestId: request.id, log: request.log })
        metrics.wechatEvents.inc({ type, outcome: result.outcome })
        replyText = result.replyText
        request.log.info(
          { type, outcome: result.outcome, openId: msg.fromUserName },
          'wechat push handled',
        )
      } catch (error) {
        if (!(error instanceof SpoolWriteError)) throw error
        metrics.wechatEvents.inc({ type, outcome: 'failed' })
        request.log.error({ err: error }, 'event neither delivered nor spooled')
        throw new GatewayErrors.SPOOL_UNAVAILABLE({ cause: error })
      }

      if (replyText === undefined) return reply.type('text/plain; charset=utf-8').send('success')
      const nowS = Math.floor(now() / 1000)
      const plainXml = renderReply(
        textReply({
          toUser: msg.fromUserName,
          fromUser: msg.toUserName,
          content: replyText,
          createTime: nowS,
        }),
      )
      const xml =
        push.msgSignature !== undefined && crypto !== undefined
          ? crypto.encryptReply(plainXml, { timestamp: String(nowS), nonce: push.nonce })
          : plainXml
      return reply.type('application/xml; charset=utf-8').send(xml)
    },
  })
  done()
}
