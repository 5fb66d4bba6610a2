// Request ids: a caller's X-Request-Id is kept when it is safe to log and echo, otherwise one is made.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export const REQUEST_ID_HEADER = 'x-request-id'
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/

export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID_PATTERN.test(value)
}

/** A Fastify `genReqId` reading `header` (lowercase). */
export function createGenReqId(header: string = REQUEST_ID_HEADER) {
  const name = header.toLowerCase()
  return (req: IncomingMessage): string => {
    const given = req.headers[name]
    return isValidRequestId(given) ? given : randomUUID()
  }
}
