// The one XML codec of the WeChat protocol: strict, entity-free parsing to string records, CDATA-safe building.
import { XMLParser } from 'fast-xml-parser'
import { WeChatProtocolError } from '../errors.js'

export type XmlValue = string | XmlRecord
export interface XmlRecord {
  [name: string]: XmlValue
}

export interface XmlLimits {
  /** Largest accepted document in UTF-8 bytes (default 65536). */
  maxBytes?: number
  /** Deepest accepted element nesting, the root counting as 1 (default 8). */
  maxDepth?: number
}

export type XmlBuildValue = string | number | XmlRecord | undefined

const DEFAULT_MAX_BYTES = 65_536
const DEFAULT_MAX_DEPTH = 8
const CDATA_OPEN = '<![CDATA['
const COMMENT_OPEN = '<!--'
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/

// Built once: the parser keeps no state between documents. Every value stays a string (MsgId and
// transaction_id exceed 2^53), entities are never expanded, CDATA is kept apart so its whitespace survives.
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  trimValues: false,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
})

type OrderedNode = Record<string, unknown>

function invalid(message: string, cause?: unknown): WeChatProtocolError {
  return new WeChatProtocolError('XML_INVALID', { message: `XML_INVALID: ${message}`, cause })
}

/**
 * Parses a WeChat XML document into the children of its single root element.
 * Every leaf is a string; attributes, comments and the declaration are ignored; a repeated element
 * name, any DOCTYPE/ENTITY declaration or an unknown entity reference is `XML_INVALID`.
 */
export function parseXml(text: string, limits: XmlLimits = {}): XmlRecord {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH
  // Measured before any parsing so an oversized body costs nothing but this count.
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new WeChatProtocolError('XML_TOO_LARGE', {
      message: `XML_TOO_LARGE: document exceeds ${maxBytes} bytes`,
    })
  }
  // Rejects DOCTYPE/ENTITY and excessive nesting before the parser sees the text (no entity bombs, no deep recursion).
  prescan(text, maxDepth)

  let ordered: unknown
  try {
    ordered = parser.parse(text, true)
  } catch (error) {
    throw invalid('malformed document', error)
  }
  if (!Array.isArray(ordered)) throw invalid('no root element')
  const elements = ordered.filter((node): node is OrderedNode => elementName(node) !== undefined)
  const root = elements[0]
  if (elements.length !== 1 || root === undefined)
    throw invalid('expected exactly one root element')
  const rootName = elementName(root)
  const children = rootName === undefined ? undefined : root[rootName]
  const value = convertChildren(Array.isArray(children) ? (children as unknown[]) : [], 1, maxDepth)
  return typeof value === 'string' ? {} : value
}

/**
 * Builds a WeChat XML document: strings in CDATA (`]]>` split across sections), numbers bare,
 * `undefined` skipped, nested records nested.
 */
export function buildXml(
  fields: Record<string, XmlBuildValue>,
  options: { root?: string } = {},
): string {
  const root = options.root ?? 'xml'
  assertName(root)
  return `<${root}>${buildFields(fields)}</${root}>`
}

function buildFields(fields: Record<string, XmlBuildValue>): string {
  let out = ''
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue
    assertName(name)
    out += `<${name}>${buildValue(name, value)}</${name}>`
  }
  return out
}

function buildValue(name: string, value: string | number | XmlRecord): string {
  if (typeof value === 'string') return cdata(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(`field ${name} is not a finite number`)
    return String(value)
  }
  return buildFields(value)
}

function cdata(value: string): string {
  // `]]>` would end the section early and let the rest be read as markup: close and reopen between `]]` and `>`.
  return `${CDATA_OPEN}${value.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`
}

function assertName(name: string): void {
  if (!NAME.test(name) || name.toLowerCase().startsWith('xml:')) {
    throw invalid(`bad element name ${JSON.stringify(name.slice(0, 40))}`)
  }
}

/** One pass over the markup outside CDATA and comments: any `<!` declaration and nesting beyond maxDepth fail. */
function prescan(text: string, maxDepth: number): void {
  let depth = 0
  let i = text.indexOf('<')
  while (i !== -1) {
    if (text.startsWith(CDATA_OPEN, i)) {
      const end = text.indexOf(']]>', i + CDATA_OPEN.length)
      if (end === -1) throw invalid('unterminated CDATA section')
      i = text.indexOf('<', end + 3)
      continue
    }
    if (text.startsWith(COMMENT_OPEN, i)) {
      const end = text.indexOf('-->', i + COMMENT_OPEN.length)
      if (end === -1) throw invalid('unterminated comment')
      i = text.indexOf('<', end + 3)
      continue
    }
    const next = text[i + 1]
    if (next === '!') throw invalid('DOCTYPE and ENTITY declarations are not accepted')
    const close = tagEnd(text, i + 1)
    if (close === -1) throw invalid('unterminated tag')
    if (next === '/') {
      depth -= 1
    } else if (next !== '?' && text[close - 1] !== '/') {
      depth += 1
      if (depth > maxDepth) throw invalid(`nesting deeper than ${maxDepth}`)
    }
    i = text.indexOf('<', close + 1)
  }
}

/** Index of the `>` closing the tag that starts before `from`, skipping quoted attribute values. */
function tagEnd(text: string, from: number): number {
  let quote: string | undefined
  for (let i = from; i < text.length; i += 1) {
    const char = text[i]
    if (quote !== undefined) {
      if (char === quote) quote = undefined
    } else if (char === '"' || char === "'") {
      quote = char
    } else if (char === '>') {
      return i
    }
  }
  return -1
}

function elementName(node: unknown): string | undefined {
  if (typeof node !== 'object' || node === null) return undefined
  for (const key of Object.keys(node)) {
    if (key !== '#text' && key !== '#cdata' && key !== ':@') return key
  }
  return undefined
}

/** An element's children become a record if it has child elements, else its text as one string. */
function convertChildren(children: readonly unknown[], depth: number, maxDepth: number): XmlValue {
  // Checked again on the tree: the prescan is the cheap guard, this one is the authoritative one.
  if (depth > maxDepth) throw invalid(`nesting deeper than ${maxDepth}`)
  const record: XmlRecord = {}
  let hasElements = false
  const parts: { cdata: boolean; value: string }[] = []
  for (const child of children) {
    if (typeof child !== 'object' || child === null) continue
    const node = child as OrderedNode
    const name = elementName(node)
    if (name !== undefined) {
      hasElements = true
      if (Object.hasOwn(record, name)) throw invalid(`repeated element ${name}`)
      const grandChildren = node[name]
      record[name] = convertChildren(
        Array.isArray(grandChildren) ? (grandChildren as unknown[]) : [],
        depth + 1,
        maxDepth,
      )
    } else if ('#cdata' in node) {
      parts.push({ cdata: true, value: cdataText(node['#cdata']) })
    } else if (typeof node['#text'] === 'string') {
      parts.push({ cdata: false, value: node['#text'] })
    }
  }
  if (hasElements) {
    if (parts.some((part) => part.cdata || part.value.trim() !== '')) {
      throw invalid('mixed text and element content')
    }
    return record
  }
  if (!parts.some((part) => part.cdata)) {
    // Plain text is trimmed (pretty-printed pay XML tolerates it); references decoded.
    return decodeReferences(
      parts
        .map((part) => part.value)
        .join('')
        .trim(),
    )
  }
  // CDATA is kept verbatim, whitespace and all; only the indentation around the sections is dropped.
  return parts
    .map((part) =>
      part.cdata ? part.value : part.value.trim() === '' ? '' : decodeReferences(part.value),
    )
    .join('')
}

function cdataText(value: unknown): string {
  if (!Array.isArray(value)) return ''
  let out = ''
  for (const part of value) {
    if (typeof part === 'object' && part !== null) {
      const raw = (part as OrderedNode)['#text']
      if (typeof raw === 'string') out += raw
    }
  }
  return out
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

/** Decodes only the five predefined entities and character references; anything else after `&` is invalid. */
function decodeReferences(text: string): string {
  if (!text.includes('&')) return text
  return text.replace(/&([^;&\s]*);?/g, (match: string, ref: string) => {
    if (!match.endsWith(';')) throw invalid('bare ampersand')
    const predefined = PREDEFINED[ref]
    if (predefined !== undefined) return predefined
    const code = /^#x[0-9A-Fa-f]{1,6}$/.test(ref)
      ? Number.parseInt(ref.slice(2), 16)
      : /^#[0-9]{1,7}$/.test(ref)
        ? Number.parseInt(ref.slice(1), 10)
        : undefined
    if (code === undefined || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || code === 0) {
      throw invalid('unknown entity reference')
    }
    return String.fromCodePoint(code)
  })
}
