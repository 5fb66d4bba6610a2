// The gateway→app request signature: HMAC-SHA256 over method, path+query, timestamp, nonce and body hash.
import { createHash, createHmac, createSecretKey, randomInt, timingSafeEqual } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { InternalAuthError } from './errors.js'

export const TIMESTAMP_HEADER = 'x-internal-timestamp'
export const NONCE_HEADER = 'x-internal-nonce'
export const SIGNATURE_HEADER = 'x-internal-signature'
export const DEFAULT_MAX_SKEW_S = 300

// A type alias (not an interface) so it is assignable to plain header records.
export type InternalSignatureHeaders = {
  'x-internal-timestamp': string
  'x-internal-nonce': string
  'x-internal-signature': string
}

export type InternalSecret = string | KeyObject
export type RawBody = string | Uint8Array | undefined

const NONCE = /^[A-Za-z0-9]{16,64}$/
const TIMESTAMP = /^\d{1,12}$/
const SIGNATURE = /^[0-9a-f]{64}$/
const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const EMPTY_BODY_SHA256 = createHash('sha256').update('').digest('hex')

// HMAC keys are built once per secret (STYLE §9.4); a process normally has one or two secrets.
const keyCache = new Map<string, KeyObject>()
const KEY_CACHE_LIMIT = 8

function hmacKey(secret: InternalSecret): KeyObject {
  if (typeof secret !== 'string') return secret
  let key = keyCache.get(secret)
  if (key === undefined) {
    key = createSecretKey(Buffer.from(secret, 'utf8'))
    if (keyCache.size >= KEY_CACHE_LIMIT) {
      const oldest = keyCache.keys().next()
      if (oldest.done !== true) keyCache.delete(oldest.value)
    }
    keyCache.set(secret, key)
  }
  return key
}

function bodySha256Hex(body: RawBody): string {
  if (body === undefined || body.length === 0) return EMPTY_BODY_SHA256
  return createHash('sha256').update(body).digest('hex')
}

/**
 * S = METHOD "\n" PATH_AND_QUERY "\n" TIMESTAMP "\n" NONCE "\n" hex(sha256(raw body)).
 * PATH_AND_QUERY is the request target exactly as sent on the wire, never re-encoded.
 */
export function internalStringToSign(
  method: string,
  pathAndQuery: string,
  timestamp: string,
  nonce: string,
  body: RawBody,
): string {
  return `${method.toUpperCase()}\n${pathAndQuery}\n${timestamp}\n${nonce}\n${bodySha256Hex(body)}`
}

function computeSignature(secret: InternalSecret, stringToSign: string): Buffer {
  return createHmac('sha256', hmacKey(secret)).update(stringToSign, 'utf8').digest()
}

/** A fresh nonce of 32 characters `[A-Za-z0-9]` from a CSPRNG. */
export function randomInternalNonce(length = 32): string {
  let out = ''
  for (let i = 0; i < length; i += 1) out += NONCE_ALPHABET[randomInt(NONCE_ALPHABET.length)]
  return out
}

export interface SignInternalRequestInput {
  secret: InternalSecret
  method: string
  pathAndQuery: string
  body?: RawBody
  /** Unix seconds; default now. */
  timestamp?: number
  nonce?: string
}

/** Returns the three `X-Internal-*` headers for one request. */
export function signInternalRequest(input: SignInternalRequestInput): InternalSignatureHeaders {
  const timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000))
  const nonce = input.nonce ?? randomInternalNonce()
  const stringToSign = internalStringToSign(
    input.method,
    input.pathAndQuery,
    timestamp,
    nonce,
    input.body,
  )
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [NONCE_HEADER]: nonce,
    [SIGNATURE_HEADER]: computeSignature(input.secret, stringToSign).toString('hex'),
  }
}

export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>

export interface VerifyInternalRequestInput {
  secret: InternalSecret
  method: string
  pathAndQuery: string
  body?: RawBody
  /** Request headers with lowercase names (as Node gives them). */
  headers: HeaderBag
  /** Unix seconds; default now. */
  now?: number
  maxSkewS?: number
}

function singleHeader(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * Checks the three headers and the signature (constant time), then the ±maxSkewS window.
 * Replay protection is the caller's: claim the returned nonce in a `NonceStore`.
 */
export function verifyInternalRequest(input: VerifyInternalRequestInput): {
  timestamp: number
  nonce: string
} {
  const timestamp = singleHeader(input.headers, TIMESTAMP_HEADER)
  const nonce = singleHeader(input.headers, NONCE_HEADER)
  const signature = singleHeader(input.headers, SIGNATURE_HEADER)
  if (timestamp === undefined || nonce === undefined || signature === undefined) {
    throw new InternalAuthError('SIGNATURE_MISSING', 'internal signature headers are missing')
  }
  if (!NONCE.test(nonce)) {
    throw new InternalAuthError('NONCE_INVALID', 'nonce must be 16-64 characters [A-Za-z0-9]')
  }
  if (!TIMESTAMP.test(timestamp)) {
    throw new InternalAuthError('TIMESTAMP_STALE', 'timestamp is not unix seconds')
  }
  if (!SIGNATURE.test(signature)) {
    throw new InternalAuthError('SIGNATURE_INVALID', 'signature is not 64 lowercase hex digits')
  }
  const expected = computeSignature(
    input.secret,
    internalStringToSign(input.method, input.pathAndQuery, timestamp, nonce, input.body),
  )
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    throw new InternalAuthError('SIGNATURE_INVALID', 'signature does not match')
  }
  const seconds = Number(timestamp)
  const now = input.now ?? Math.floor(Date.now() / 1000)
  if (Math.abs(now - seconds) > (input.maxSkewS ?? DEFAULT_MAX_SKEW_S)) {
    throw new InternalAuthError('TIMESTAMP_STALE', 'timestamp is outside the allowed window')
  }
  return { timestamp: seconds, nonce }
}
