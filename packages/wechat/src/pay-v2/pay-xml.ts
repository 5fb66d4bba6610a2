// WeChat Pay v2 messages on the wire: flat `<xml>` documents of string fields, signed on the way out.
import { WeChatProtocolError } from '../errors.js'
import { buildXml, parseXml } from '../xml/codec.js'
import type { XmlLimits } from '../xml/codec.js'
import { signPayParams } from './pay-sign.js'
import type { PayParams, PaySignType } from './pay-sign.js'

/** A received v2 message: every field a string, exactly as sent (28-digit ids stay exact). */
export type PayFields = Record<string, string>

/** Parses a v2 message; a nested element is `MESSAGE_INVALID` (v2 is flat, and sign needs plain values). */
export function parsePayXml(xml: string, limits?: XmlLimits): PayFields {
  const record = parseXml(xml, limits)
  const fields: PayFields = {}
  for (const [name, value] of Object.entries(record)) {
    if (typeof value !== 'string') {
      throw invalid(`${name} is not a plain value`)
    }
    fields[name] = value
  }
  return fields
}

/**
 * Renders a v2 message with its `sign` appended (fields in the given order, `undefined` left out).
 * The algorithm is `signType`, else the fields' `sign_type`, else MD5.
 */
export function renderSignedPayXml(
  fields: PayParams,
  apiKey: string,
  signType?: PaySignType,
): string {
  const { sign: _ignored, ...unsigned } = fields
  return buildXml({ ...unsigned, sign: signPayParams(unsigned, apiKey, signType) })
}

/** A field's value, with an empty value read as absent (WeChat sends `<attach><![CDATA[]]></attach>`). */
export function optionalPayField(fields: PayFields, name: string): string | undefined {
  const value = fields[name]
  return value === undefined || value === '' ? undefined : value
}

/** A field that must be present and non-empty, else `MESSAGE_INVALID`. */
export function requirePayField(fields: PayFields, name: string): string {
  const value = optionalPayField(fields, name)
  if (value === undefined) throw invalid(`${name} is missing`)
  return value
}

/** Parses a fen amount: a positive decimal integer below 2^53, nothing else (no sign, no decimals). */
export function parsePayFee(text: string, name: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(text)) throw invalid(`${name} must be a positive integer`)
  const fee = Number(text)
  if (!Number.isSafeInteger(fee)) throw invalid(`${name} is too large`)
  return fee
}

function invalid(message: string): WeChatProtocolError {
  return new WeChatProtocolError('MESSAGE_INVALID', { message: `pay message: ${message}` })
}
