// Zod field helpers for environment variables: each parses one string into its meaning.
import { isIP } from 'node:net'
import { z } from 'zod'

type Parsed<T> = { value: T } | { problem: string }

/** A field: `string | undefined` in (empty strings are already unset), T out, problems as sentences. */
function field<T>(parse: (raw: string | undefined) => Parsed<T>) {
  return z
    .string({ error: 'must be a string' })
    .optional()
    .transform((raw, ctx): T => {
      const result = parse(raw)
      if ('problem' in result) {
        // Only the sentence is reported, never `raw`: the variable may be a secret.
        ctx.addIssue({ code: 'custom', message: result.problem })
        return z.NEVER
      }
      return result.value
    })
}

const INTEGER = /^[+-]?\d+$/
const TRUE_WORDS = new Set(['true', '1', 'yes', 'on'])
const FALSE_WORDS = new Set(['false', '0', 'no', 'off'])

function parseInteger(raw: string): number | undefined {
  if (!INTEGER.test(raw.trim())) return undefined
  const n = Number(raw.trim())
  return Number.isSafeInteger(n) ? n : undefined
}

function port(defaultPort: number) {
  return field<number>((raw) => {
    if (raw === undefined) return { value: defaultPort }
    const n = parseInteger(raw)
    if (n === undefined || n < 0 || n > 65535) {
      return { problem: 'must be a port number (0-65535)' }
    }
    return { value: n }
  })
}

function secret(minLength: number) {
  return field<string>((raw) => {
    if (raw === undefined) return { problem: `is required (at least ${minLength} characters)` }
    if (raw.length < minLength) return { problem: `must be at least ${minLength} characters long` }
    return { value: raw }
  })
}

interface UrlOptions {
  /** Allowed schemes, with the colon; default `['http:', 'https:']`. */
  protocols?: readonly string[]
}

/** Returns the URL as written minus trailing slashes, so callers can append `/path`. */
function url(defaultUrl?: string, options: UrlOptions = {}) {
  const protocols = options.protocols ?? ['http:', 'https:']
  const expected = `a URL (${protocols.map((p) => p.replace(/:$/, '')).join(' or ')})`
  return field<string>((raw) => {
    const value = raw ?? defaultUrl
    if (value === undefined) return { problem: `is required (${expected})` }
    let parsed: URL
    try {
      parsed = new URL(value)
    } catch {
      return { problem: `must be ${expected}` }
    }
    if (!protocols.includes(parsed.protocol)) return { problem: `must be ${expected}` }
    return { value: value.trim().replace(/\/+$/, '') }
  })
}

function boolean(defaultValue: boolean) {
  return field<boolean>((raw) => {
    if (raw === undefined) return { value: defaultValue }
    const word = raw.trim().toLowerCase()
    if (TRUE_WORDS.has(word)) return { value: true }
    if (FALSE_WORDS.has(word)) return { value: false }
    return { problem: 'must be true or false' }
  })
}

interface IntRange {
  min?: number
  max?: number
}

function int(defaultValue: number, range: IntRange = {}) {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range
  const expected =
    range.min !== undefined && range.max !== undefined
      ? `an integer from ${min} to ${max}`
      : range.min !== undefined
        ? `an integer of at least ${min}`
        : range.max !== undefined
          ? `an integer of at most ${max}`
          : 'an integer'
  return field<number>((raw) => {
    if (raw === undefined) return { value: defaultValue }
    const n = parseInteger(raw)
    if (n === undefined || n < min || n > max) return { problem: `must be ${expected}` }
    return { value: n }
  })
}

/** Comma-separated list; items trimmed, empty items dropped. */
function csv(defaultValue: readonly string[] = []) {
  return field<string[]>((raw) => {
    if (raw === undefined) return { value: [...defaultValue] }
    return {
      value: raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    }
  })
}

const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/**
 * True for what Fastify's `trustProxy` list takes (and would throw on at start otherwise): an IP,
 * a CIDR (prefix length, or an IPv4 netmask), or one of `loopback`, `linklocal`, `uniquelocal`.
 */
export function isProxyAddress(item: string): boolean {
  if (PROXY_RANGE_NAMES.has(item)) return true
  const slash = item.indexOf('/')
  const version = isIP(slash === -1 ? item : item.slice(0, slash))
  if (version === 0) return false
  if (slash === -1) return true
  const range = item.slice(slash + 1)
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (version === 4 ? 32 : 128)
  return version === 4 && isIP(range) === 4
}

/** `TRUST_PROXY` as Fastify's `trustProxy` takes it: a boolean, a hop count, or addresses/CIDRs. */
export type TrustProxy = boolean | number | string[]

/**
 * `TRUST_PROXY`, one grammar for both services (a shared env file must start both or neither): `true`,
 * `false`, a hop count, or a comma-separated list of addresses (see isProxyAddress). Default `loopback`.
 */
function trustProxy() {
  return field<TrustProxy>((raw) => {
    if (raw === undefined) return { value: ['loopback'] }
    const word = raw.trim().toLowerCase()
    if (word === 'true') return { value: true }
    if (word === 'false') return { value: false }
    if (/^\d+$/.test(word)) return { value: Number(word) }
    const items = raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
    // Fastify would throw a stack trace at start on a bad item: say it in one line instead.
    if (!items.every(isProxyAddress)) {
      return {
        problem:
          'must be true, false, a hop count or a comma-separated list of IP addresses, CIDRs, loopback, linklocal or uniquelocal',
      }
    }
    return { value: items }
  })
}

/** A plain string, required unless a default is given. */
function string(defaultValue?: string) {
  return field<string>((raw) => {
    const value = raw ?? defaultValue
    return value === undefined ? { problem: 'is required' } : { value }
  })
}

/** A plain optional string (empty = unset). */
function optional() {
  return field<string | undefined>((raw) => ({ value: raw }))
}

/** pino's levels: `LOG_LEVEL` of both services (a typo stops the service naming the variable). */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** One of LOG_LEVELS, default `info`. */
function logLevel() {
  return field<(typeof LOG_LEVELS)[number]>((raw) => {
    const value = raw ?? 'info'
    return (LOG_LEVELS as readonly string[]).includes(value)
      ? { value: value as (typeof LOG_LEVELS)[number] }
      : { problem: `must be one of ${LOG_LEVELS.join(', ')}` }
  })
}

/**
 * The field helpers. Any of them can be made optional with zod's `.optional()`
 * (`env.url().optional()`), since an unset or empty variable arrives as `undefined`.
 */
export const env = {
  port,
  secret,
  url,
  boolean,
  int,
  csv,
  trustProxy,
  string,
  optional,
  logLevel,
} as const
