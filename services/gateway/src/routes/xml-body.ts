// Reading WeChat's XML bodies: under any content type, as a string, within the body limit.
import type { FastifyInstance } from 'fastify'
import { UnsupportedMediaType } from '../errors.js'

/** WeChat's 64 KiB: more than any push or notification it sends. */
export const XML_BODY_LIMIT = 64 * 1024

/**
 * Whether a body under this header is read (as XML). WeChat's headers vary (text/xml, application/xml,
 * text/plain, none), and a sender that labels its XML otherwise (`curl -d` says
 * application/x-www-form-urlencoded) is judged by the body, which must parse: the label proves nothing
 * either way. Only a header that is there but names no type (`Content-Type:`, `;charset=utf-8`) is
 * refused, because Fastify refuses it before any route, so the fast path does too.
 */
export function isReadableContentType(header: string | undefined): boolean {
  if (header === undefined) return true
  return (header.split(';', 1)[0]?.trim() ?? '') !== ''
}

/** In this (encapsulated) context every body is read as a string; the routes decide what it must be. */
export function useXmlBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(
    '*',
    { parseAs: 'string', bodyLimit: XML_BODY_LIMIT },
    (_request, body, done) => {
      done(null, body)
    },
  )
}

/** The preParsing check: refuse a header naming no type (415) before reading the body. */
export function assertReadableContentType(header: string | undefined): void {
  if (!isReadableContentType(header)) throw new UnsupportedMediaType()
}
