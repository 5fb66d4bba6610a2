// Reading WeChat's XML bodies: any of the content types WeChat sends, as a string, within the body limit.
import type { FastifyInstance } from 'fastify'
import { UnsupportedMediaType } from '../errors.js'

/** WeChat's 64 KiB: more than any push or notification it sends. */
export const XML_BODY_LIMIT = 64 * 1024

const XML_TYPES = new Set(['text/xml', 'application/xml', 'text/plain'])

/**
 * True for the types WeChat's headers use (they vary), and for no header at all. A header that is
 * there but names no type (`Content-Type:`, `;charset=utf-8`) is refused: Fastify refuses it too.
 */
export function isXmlContentType(header: string | undefined): boolean {
  if (header === undefined) return true
  const mediaType = header.split(';', 1)[0]?.trim().toLowerCase() ?? ''
  return XML_TYPES.has(mediaType)
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

/** The preParsing check: refuse other content types before reading the body. */
export function assertXmlContentType(header: string | undefined): void {
  if (!isXmlContentType(header)) throw new UnsupportedMediaType()
}
