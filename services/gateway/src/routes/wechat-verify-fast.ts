// GET and POST /api/v1/auth/wechat/verify answered on the node:http server ahead of Fastify
// (benchmark pairs 1 and 2): the same answers without Fastify's per-request frame, each written at the
// end of its event-loop turn together with the others of that turn (answer-queue.ts).
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Counter } from 'prom-client'
import { createGenReqId, mapError, REQUEST_ID_HEADER } from '@wxgate/service-kit'
import { checkUrlVerification } from './url-verification.js'
import { GatewayErrors } from '../errors.js'
import { createAnswerQueue } from './answer-queue.js'
import type { PushLog } from '../events/dispatch.js'
import { WECHAT_VERIFY_PATH } from './wechat-verify.js'
import type { CheckedPush, PushAnswer, PushHandler } from './wechat-push.js'
import { XML_BODY_LIMIT } from './xml-body.js'

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

/**
 * A query value or name as Fastify's parser (fast-querystring) decodes it: `+` is a space, and a
 * malformed escape leaves the whole text as written (spaces for `+` still). Most need nothing.
 */
function decode(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text
  const spaced = text.replaceAll('+', ' ')
  try {
    return decodeURIComponent(spaced)
  } catch {
    return spaced
  }
}

/**
 * The parameters named in `slots`, in slot order, each undefined when absent, empty or repeated (as
 * in the Fastify route). A scan for a few names, rather than an object of every parameter.
 */
function readQuery(search: string, slots: ReadonlyMap<string, number>): (string | undefined)[] {
  // undefined: not seen yet; null: seen twice (a repeated parameter counts as missing).
  const found = new Array<string | null | undefined>(slots.size).fill(undefined)
  let start = 0
  while (start <= search.length) {
    let end = search.indexOf('&', start)
    if (end === -1) end = search.length
    if (end > start) {
      // Within the pair only: an indexOf over the rest of the URL per pair would be quadratic.
      const pair = search.slice(start, end)
      const eq = pair.indexOf('=')
      const slot = slots.get(decode(eq === -1 ? pair : pair.slice(0, eq)))
      if (slot !== undefined) {
        found[slot] =
          found[slot] === undefined ? (eq === -1 ? '' : decode(pair.slice(eq + 1))) : null
      }
    }
    start = end + 1
  }
  return found.map((value) => (typeof value === 'string' && value !== '' ? value : undefined))
}

const VERIFY_SLOTS = new Map([
  ['signature', 0],
  ['timestamp', 1],
  ['nonce', 2],
  ['echostr', 3],
])
const PUSH_SLOTS = new Map([
  ['signature', 0],
  ['timestamp', 1],
  ['nonce', 2],
  ['encrypt_type', 3],
  ['msg_signature', 4],
])

/**
 * A request's log lines with its reqId, as Fastify's `request.log` writes them, without creating a
 * child logger per request (most requests log nothing at LOG_LEVEL=warn).
 */
function requestLog(log: FastifyBaseLogger, reqId: string, infoOn: () => boolean): PushLog {
  return {
    info(fields, message) {
      if (infoOn()) log.info({ reqId, ...fields }, message)
    },
    warn(fields, message) {
      log.warn({ reqId, ...fields }, message)
    },
    error(fields, message) {
      log.error({ reqId, ...fields }, message)
    },
  }
}

/**
 * The Fastify routes' behaviour without Fastify's per-request frame: same answers, same
 * `X-Request-Id`, same log lines and the same `http_request_duration_seconds` labels. GET is checked
 * here; POST runs the push handler the Fastify route runs (wechat-push.ts), so only the carrying of
 * the request is this file's. The Fastify routes stay the reference and still answer app.inject,
 * HEAD, any URL not matched exactly here, and any POST WeChat would not send (no or a too large
 * Content-Length, chunked bodies), whose answers (413, …) are Fastify's own.
 */
export function createVerifyFastPath(
  app: FastifyInstance,
  options: {
    token: string
    push?: PushHandler
    taken?: Counter<'method'>
    /** The client's address as Fastify's `request.ip` names it (TRUST_PROXY); default: the socket's. */
    clientAddress?: (req: IncomingMessage) => string | undefined
  },
): FastPath {
  const { token, push } = options
  const clientAddress = options.clientAddress ?? ((req) => req.socket.remoteAddress)
  // Bound once: an unlabelled inc() per request taken.
  const takenGet = options.taken?.labels({ method: 'GET' })
  const takenPost = options.taken?.labels({ method: 'POST' })
  const genReqId = createGenReqId(REQUEST_ID_HEADER)
  const log = app.log
  const unauthorized = refusal(new GatewayErrors.SIGNATURE_INVALID())
  // What a body that never arrives in full maps to: Fastify gives its read error status 400.
  const abandoned = mapError({ statusCode: 400 })
  const duration = app.metrics.httpRequestDuration
  // One bound child per method and status (labels checked once); prom-client still hashes them per observe.
  const observed = new Map<string, ReturnType<typeof duration.labels>>()
  const observer = (method: string, status: number): ReturnType<typeof duration.labels> => {
    const key = `${method} ${status}`
    let child = observed.get(key)
    if (child === undefined) {
      child = duration.labels({ method, route: WECHAT_VERIFY_PATH, status: String(status) })
      observed.set(key, child)
    }
    return child
  }
  // Only builds the info lines' objects when they would be written (an operator may set LOG_LEVEL=warn).
  const infoOn = (): boolean => {
    const level = log.level
    return level === 'info' || level === 'debug' || level === 'trace'
  }
  // Building or writing an answer fails only on a bug: logged, and that socket closed.
  const abandon = (error: unknown, res: ServerResponse, reqId: string): void => {
    log.error({ reqId, err: error }, 'answer could not be written')
    res.destroy()
  }
  const answers = createAnswerQueue(abandon)
  let closing = false
  // While closing, Fastify answers 503 and closes the connection: leave every request to it.
  app.addHook('preClose', (done) => {
    closing = true
    done()
  })

  // Measured to the end of res.end() (the answer handed to the socket), where Fastify's elapsedTime
  // runs to the response's 'finish' event: one listener per request saved, a few µs less counted.
  const finish = (method: string, reqId: string, started: number, statusCode: number): void => {
    const seconds = (performance.now() - started) / 1000
    observer(method, statusCode).observe(seconds)
    if (infoOn()) {
      log.info({ reqId, res: { statusCode }, responseTime: seconds * 1000 }, 'request completed')
    }
  }

  /**
   * The one place the fast path writes: every decision and log line comes before, only the write waits
   * for the end of the turn (answer-queue.ts). `headers` is node's flat [name, value, …] form, which
   * it does not have to build from an object per request.
   */
  const send = (
    res: ServerResponse,
    reqId: string,
    started: number,
    statusCode: number,
    headers: string[],
    body: string,
  ): void => {
    const method = res.req.method ?? 'GET'
    answers.defer(res, reqId, () => {
      // A close that began while the answer waited would otherwise wait for this keep-alive
      // connection to go idle on its own (nginx keeps idle upstream connections open): close it after.
      if (closing) res.shouldKeepAlive = false
      res.writeHead(statusCode, headers)
      res.end(body)
      finish(method, reqId, started, statusCode)
    })
  }

  const sendJson = (
    res: ServerResponse,
    reqId: string,
    started: number,
    statusCode: number,
    json: string,
    length: number,
  ): void =>
    send(
      res,
      reqId,
      started,
      statusCode,
      [
        REQUEST_ID_HEADER,
        reqId,
        'content-type',
        'application/json; charset=utf-8',
        'content-length',
        String(length),
      ],
      json,
    )

  const refuse = (
    res: ServerResponse,
    reqId: string,
    started: number,
    answer: Refusal,
    logCode: string | undefined,
  ): void => {
    // The same two lines as the GET route and service-kit's errorHandler write.
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
    sendJson(res, reqId, started, answer.statusCode, answer.body, answer.length)
  }

  // service-kit's errorHandler, for the errors a push may end in: the same status, body and log line.
  const fail = (res: ServerResponse, reqId: string, started: number, error: unknown): void => {
    const { statusCode, body } = mapError(error)
    if (statusCode >= 500) {
      log.error({ reqId, err: error, code: body.code }, 'request failed')
    } else if (infoOn()) {
      const message = error instanceof Error ? error.message : String(error)
      log.info({ reqId, code: body.code, statusCode, error: message }, 'request refused')
    }
    const text = JSON.stringify(body)
    sendJson(res, reqId, started, statusCode, text, Buffer.byteLength(text))
  }

  const answerPush = (
    res: ServerResponse,
    reqId: string,
    started: number,
    answer: PushAnswer,
  ): void =>
    send(
      res,
      reqId,
      started,
      200,
      [
        REQUEST_ID_HEADER,
        reqId,
        'content-type',
        answer.contentType,
        'content-length',
        String(Buffer.byteLength(answer.body)),
      ],
      answer.body,
    )

  const incoming = (req: IncomingMessage, reqId: string, url: string): void => {
    if (!infoOn()) return
    const req_ = {
      id: reqId,
      method: req.method,
      url,
      ip: clientAddress(req),
      headers: req.headers,
    }
    log.info({ reqId, req: req_ }, 'incoming request')
  }

  /** A push as WeChat sends it: a declared Content-Length within the limit, no chunked body. */
  const carriesPush = (req: IncomingMessage): boolean => {
    const declared = req.headers['content-length']
    return (
      declared !== undefined &&
      req.headers['transfer-encoding'] === undefined &&
      /^\d{1,6}$/.test(declared) &&
      Number(declared) <= XML_BODY_LIMIT
    )
  }

  const handlePush = (
    handler: PushHandler,
    req: IncomingMessage,
    res: ServerResponse,
    search: string,
  ): void => {
    const started = performance.now()
    const reqId = genReqId(req)
    incoming(req, reqId, req.url ?? '')
    const requestLines = requestLog(log, reqId, infoOn)
    const [signature, timestamp, nonce, encryptType, msgSignature] = readQuery(search, PUSH_SLOTS)
    let checked: CheckedPush
    try {
      checked = handler.check(
        { signature, timestamp, nonce, encryptType, msgSignature },
        req.headers['content-type'],
        requestLines,
      )
    } catch (error) {
      fail(res, reqId, started, error)
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    // The client went away mid-body: there is no one to answer. Logged as Fastify's body reader and
    // service-kit's errorHandler log it (a 400 refusal); like there, no response, so nothing is timed.
    req.on('error', (error) => {
      if (infoOn()) {
        log.info(
          {
            reqId,
            code: abandoned.body.code,
            statusCode: abandoned.statusCode,
            error: error.message,
          },
          'request refused',
        )
      }
    })
    req.once('end', () => {
      // A push arrives in one chunk: decode it in place rather than copy it first.
      const body =
        chunks.length === 1
          ? (chunks[0] as Buffer).toString('utf8')
          : Buffer.concat(chunks).toString('utf8')
      handler
        .handle(checked, body, { requestId: reqId, log: requestLines })
        .then(
          (answer) => answerPush(res, reqId, started, answer),
          (error: unknown) => fail(res, reqId, started, error),
        )
        // Answering the error failed (a bug in mapping it): log it rather than end the process.
        .catch((error: unknown) => abandon(error, res, reqId))
    })
  }

  return (req, res) => {
    if (closing || (req.method !== 'GET' && req.method !== 'POST')) return false
    const url = req.url ?? ''
    const q = url.indexOf('?')
    if ((q === -1 ? url : url.slice(0, q)) !== WECHAT_VERIFY_PATH) return false
    if (req.method === 'POST') {
      if (push === undefined || !carriesPush(req)) return false
      takenPost?.inc()
      handlePush(push, req, res, q === -1 ? '' : url.slice(q + 1))
      return true
    }

    takenGet?.inc()
    const started = performance.now()
    const reqId = genReqId(req)
    incoming(req, reqId, url)
    const [signature, timestamp, nonce, given] =
      q === -1
        ? [undefined, undefined, undefined, undefined]
        : readQuery(url.slice(q + 1), VERIFY_SLOTS)
    const checked = checkUrlVerification(token, { signature, timestamp, nonce, echostr: given })
    if ('refused' in checked) {
      refuse(res, reqId, started, unauthorized, checked.refused)
      return true
    }
    const { echostr } = checked
    if (infoOn()) log.info({ reqId }, 'wechat server URL verified')
    send(
      res,
      reqId,
      started,
      200,
      [
        REQUEST_ID_HEADER,
        reqId,
        'content-type',
        'text/plain; charset=utf-8',
        'x-content-type-options',
        'nosniff',
        'content-length',
        String(Buffer.byteLength(echostr)),
      ],
      echostr,
    )
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
