// GET/POST /api/v1/auth/wechat/verify: URL verification and message push (plaintext, compatible, safe).
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { GatewayErrors } from '../errors.js'
import { checkUrlVerification } from './url-verification.js'
import type { CheckedPush, PushHandler, PushQuery } from './wechat-push.js'
import { useXmlBodies, XML_BODY_LIMIT } from './xml-body.js'

export const WECHAT_VERIFY_PATH = '/api/v1/auth/wechat/verify'

export interface WeChatVerifyRoutesOptions {
  token: string
  /** The push handler, shared with the listening server's fast path (wechat-verify-fast.ts). */
  push: PushHandler
}

function queryString(query: unknown, name: string): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined
  // A repeated parameter arrives as an array: treat it as missing rather than pick one.
  const value = (query as Record<string, unknown>)[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

function pushQuery(query: unknown): PushQuery {
  return {
    signature: queryString(query, 'signature'),
    timestamp: queryString(query, 'timestamp'),
    nonce: queryString(query, 'nonce'),
    encryptType: queryString(query, 'encrypt_type'),
    msgSignature: queryString(query, 'msg_signature'),
  }
}

export function wechatVerifyRoutes(
  app: FastifyInstance,
  options: WeChatVerifyRoutesOptions,
  done: (error?: Error) => void,
): void {
  const { token, push } = options
  const checked = new WeakMap<FastifyRequest, CheckedPush>()
  useXmlBodies(app)

  // On a listening server GET and POST are answered by wechat-verify-fast.ts (tested against these
  // routes); both decide GET with url-verification.ts and POST with wechat-push.ts.
  app.get(WECHAT_VERIFY_PATH, async (request, reply) => {
    const checked = checkUrlVerification(token, {
      signature: queryString(request.query, 'signature'),
      timestamp: queryString(request.query, 'timestamp'),
      nonce: queryString(request.query, 'nonce'),
      echostr: queryString(request.query, 'echostr'),
    })
    if ('refused' in checked) {
      request.log.warn({ code: checked.refused }, 'wechat push refused')
      throw new GatewayErrors.SIGNATURE_INVALID()
    }
    request.log.info('wechat server URL verified')
    return reply
      .type('text/plain; charset=utf-8')
      .header('x-content-type-options', 'nosniff')
      .send(checked.echostr)
  })

  app.post(WECHAT_VERIFY_PATH, {
    bodyLimit: XML_BODY_LIMIT,
    // Check first, parse second: the query is authenticated before a byte of the body is read.
    preParsing: async (request, _reply, payload) => {
      checked.set(
        request,
        push.check(pushQuery(request.query), request.headers['content-type'], request.log),
      )
      return payload
    },
    handler: async (request, reply) => {
      const checkedPush = checked.get(request)
      if (checkedPush === undefined) throw new GatewayErrors.SIGNATURE_INVALID()
      const body = typeof request.body === 'string' ? request.body : ''
      const answer = await push.handle(checkedPush, body, {
        requestId: request.id,
        log: request.log,
      })
      return reply.type(answer.contentType).send(answer.body)
    },
  })
  done()
}
