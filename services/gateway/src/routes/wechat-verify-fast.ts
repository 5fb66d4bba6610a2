// GET /api/v1/auth/wechat/verify answered on the node:http server ahead of Fastify (benchmark pair 1).
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import { unescape } from 'node:querystring'
import type { FastifyInstance } from 'fastify'
import { createGenReqId, mapError, REQUEST_ID_HEADER } from '@wxgate/service-kit'
import { verifyUrlSignature } from '@wxgate/wechat'
import { GatewayErrors } from '../errors.js'
import { WECHAT_VERIFY_PATH } from './wechat-verify.js'

/** Answers the request and returns true, or returns false and leaves it untouched for Fastify. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean

interface Refusal {
  statusCode: number
  /** The error handler's JSON body, serialised once. */
  body: string
  /** Bytes of body. */
  length: number
  code: string
  message: string
}

function refusal(error: Error): Refusal {
  const { statusCode, body } = mapError(error)
  const text = JSON.stringify(body)
  return {
    statusCode,
    body: text,
    length: Buffer.byteLength(text),
    code: body.code,
    message: error.message,
  }
}

/** A query value or name as node:querystring (and Fastify's parser) decodes it; most need nothing. */
function decode(text: string): string {
  return text.includes('%') || text.includes('+') ? unescape(text.replaceAll('+', ' ')) : text
}

/**
 * The four parameters the check reads, each undefined when absent, empty or repeated (as in the
 * Fastify route). A scan for four names: node:querystring builds an object of every parameter.
 */
function readVerifyQuery(search: string): (string | undefined)[] {
  // undefined: not seen yet; null: seen twice (a repeated parameter counts as missing).
  const found: (string | null | undefined)[] = [undefined, undefined, undefined, undefined]
  let start = 0
  while (start <= search.length) {
    let end = search.indexOf('&', start)
    if (end === -1) end = search.length
    if (end > start) {
      // Within the pair only: an indexOf over the rest of the URL per pair would be quadratic.
      const pair = search.slice(start, end)
      const eq = pair.indexOf('=')
      const slot = PARAM_SLOTS.get(decode(eq === -1 ? pair : pair.slice(0, eq)))
      if (slot !== undefined) {
        found[slot] =
          found[slot] === undefined ? (eq === -1 ? '' : decode(pair.slice(eq + 1))) : null
      }
    }
    start = end + 1
  }
  return found.map((value) => (typeof value === 'string' && value !== '' ? value : undefined))
}

const PARAM_SLOTS = new Map([
  ['signature', 0],
  ['timestamp', 1],
  ['nonce', 2],
  ['echostr', 3],
])

/**
 * The Fastify route's GET behaviour without Fastify's per-request frame: same answers, same
 * `X-Request-Id`, same log lines and the same `http_request_duration_seconds` labels. The Fastify
 * route stays the reference (and still answers app.inject, HEAD and any URL not matched here).
 */
export function createVerifyFastPath(app: FastifyInstance, options: { token: string }): FastPath {
  const { token } = options
  const genReqId = createGenReqId(REQUEST_ID_HEADER)
  const log = app.log
  const unauthorized = refusal(new GatewayErrors.PUSH_UNAUTHORIZED())
  const invalid = refusal(new GatewayErrors.MESSAGE_INVALID())
  const duration = app.metrics.httpRequestDuration
  // One bound child per status (labels checked once); prom-client still hashes them per observe.
  const observed = new Map<number, ReturnType<typeof duration.labels>>()
  const observer = (status: number): ReturnType<typeof duration.labels> => {
    let child = observed.get(status)
    if (child === undefined) {
      child = duration.labels({ method: 'GET', route: WECHAT_VERIFY_PATH, status: String(status) })
      observed.set(status, child)
    }
    return child
  }
  // Only builds the info lines' objects when they would be written (LOG_LEVEL is warn in production).
  const infoOn = (): boolean => {
    const level = log.level
    return level === 'info' || level === 'debug' || level === 'trace'
  }
  let closing = false
  // While closing, Fastify answers 503 and closes the connection: leave every request to it.
  app.addHook('preClose', (done) => {
    closing = true
    done()
  })

  // Measured to the end of res.end() (the answer handed to the socket), where Fastify's elapsedTime
  // runs to the response's 'finish' event: one listener per request saved, a few µs less counted.
  const finish = (reqId: string, started: number, statusCode: number): void => {
    const seconds = (performance.now() - started) / 1000
    observer(statusCode).observe(seconds)
    if (infoOn()) {
      log.info({ reqId, res: { statusCode }, responseTime: seconds * 1000 }, 'request completed')
    }
  }

  const refuse = (
    res: ServerResponse,
    reqId: string,
    started: number,
    answer: Refusal,
    logCode: string | undefined,
  ): void => {
    // The same two lines as the route's refuse() and service-kit's errorHandler.
    if (logCode !== undefined) log.warn({ reqId, code: logCode }, 'wechat push refused')
    if (infoOn()) {
      log.info(
        {
          reqId,
          code: answer.code,
          statusCode: answer.statusCode,
          error: answer.message,
        },
        'request refused',
      )
    }
    // The flat [name, value, …] form: node skips turning an object into that list per request.
    res.writeHead(answer.statusCode, [
      REQUEST_ID_HEADER,
      reqId,
      'content-type',
      'application/json; charset=utf-8',
      'content-length',
      String(answer.length),
    ])
    res.end(answer.body)
    finish(reqId, started, answer.statusCode)
  }

  return (req, res) => {
    if (req.method !== 'GET' || closing) return false
    const url = req.url ?? ''
    const q = url.indexOf('?')
    if ((q === -1 ? url : url.slice(0, q)) !== WECHAT_VERIFY_PATH) return false

    const started = performance.now()
    const reqId = genReqId(req)
    if (infoOn()) {
      const req_ = {
        id: reqId,
        method: req.method,
        url,
        ip: req.socket.remoteAddress,
        headers: req.headers,
      }
      log.info({ reqId, req: req_ }, 'incoming request')
    }
    const [signature, timestamp, nonce, echostr] =
      q === -1 ? [undefined, undefined, undefined, undefined] : readVerifyQuery(url.slice(q + 1))
    if (signature === undefined || timestamp === undefined || nonce === undefined) {
      refuse(res, reqId, started, unauthorized, 'SIGNATURE_MISSING')
      return true
    }
    // Checked before echostr is looked at: echoing it unchecked would let anyone claim the URL.
    if (!verifyUrlSignature({ token, timestamp, nonce, signature })) {
      refuse(res, reqId, started, unauthorized, 'SIGNATURE_MISMATCH')
      return true
    }
    if (echostr === undefined) {
      refuse(res, reqId, started, invalid, undefined)
      return true
    }
    if (infoOn()) log.info({ reqId }, 'wechat server URL verified')
    res.writeHead(200, [
      REQUEST_ID_HEADER,
      reqId,
      'content-type',
      'text/plain; charset=utf-8',
      'x-content-type-options',
      'nosniff',
      'content-length',
      String(Buffer.byteLength(echostr)),
    ])
    res.end(echostr)
    finish(reqId, started, 200)
    return true
  }
}

/**
 * Puts `fastPath` in front of the server's request listener (Fastify's), which gets every request
 * the fast path leaves. app.inject() does not go through the server, so it still sees Fastify only.
 */
export function installFastPath(server: Server, fastPath: FastPath): void {
  const listeners = server.listeners('request') as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[]
  const [fastify] = listeners
  if (listeners.length !== 1 || fastify === undefined) {
    throw new Error(`expected one request listener on the server, found ${listeners.length}`)
  }
  server.removeListener('request', fastify)
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!fastPath(req, res)) fastify(req, res)
  })
}
