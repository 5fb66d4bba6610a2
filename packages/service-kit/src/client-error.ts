// Requests node's HTTP parser refuses before Fastify sees them: answered in the {code, message} shape.
import type { Socket } from 'node:net'
import { STATUS_CODES } from 'node:http'
import type { FastifyBaseLogger } from 'fastify'
import { serviceKitErrors } from './errors.js'

type KitError = (typeof serviceKitErrors)[keyof typeof serviceKitErrors]

function errorFor(code: string | undefined): KitError {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return serviceKitErrors.RequestTimeout
  if (code === 'HPE_HEADER_OVERFLOW') return serviceKitErrors.HeadersTooLarge
  return serviceKitErrors.BadRequest
}

/** The raw HTTP answer for a parser error with this code (exported for tests). */
export function clientErrorAnswer(code: string | undefined): string {
  const error = errorFor(code)
  const body = JSON.stringify({ code: error.code, message: error.message })
  return (
    `HTTP/1.1 ${error.statusCode} ${STATUS_CODES[error.statusCode] ?? ''}\r\n` +
    `Content-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `Connection: close\r\n\r\n${body}`
  )
}

/**
 * Fastify's `clientErrorHandler` (called with the instance as `this`). Fastify's default answers
 * `{error, message, statusCode}` and logs the whole parser error at trace level, whose `rawPacket` holds the
 * request's first bytes: the query and the headers, bearer tokens, admin key and signatures included. Only
 * the parser's code is logged here.
 */
export function clientErrorHandler(
  this: { log: FastifyBaseLogger },
  error: NodeJS.ErrnoException,
  socket: Socket,
): void {
  // A reset connection has nobody to answer (node's own 'clientError' rule).
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  this.log.debug({ code: error.code }, 'malformed request refused by the HTTP parser')
  // As node and Fastify do: the answer is small enough to leave in one write before the socket goes.
  if (socket.writable) socket.write(clientErrorAnswer(error.code))
  socket.destroy()
}
