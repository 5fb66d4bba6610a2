// The one XML codec of the WeChat protocol: strict, entity-free parsing to string records, CDATA-safe building.
// Parsing is a small hand scanner, not fast-xml-parser: WeChat documents are a root with (rarely nested)
// children, and the library needed three passes (our DOCTYPE/depth prescan, its validator, its parser plus a
// tree walk) — about 40 µs per pushed message, which carries two documents. One strict pass does all three jobs.
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

function invalid(message: string, cause?: unknown): WeChatProtocolError {
  return new WeChatProtocolError('XML_INVALID', { message: `XML_INVALID: ${message}`, cause })
}

/**
 * Parses a WeChat XML document into the children of its single root element.
 * Every leaf is a string; attributes, comments and the declaration are ignored; a field of the root named
 * twice, any DOCTYPE/ENTITY declaration or an unknown entity reference is `XML_INVALID`. Deeper, a
 * repeated name (a list, as in MASSSENDJOBFINISH) keeps its first element.
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
  return new Scanner(text, maxDepth).document()
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
  // for…in over own keys: no [name, value] array per field, as Object.entries makes.
  for (const name in fields) {
    if (!Object.hasOwn(fields, name)) continue
    const value = fields[name]
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

/** Names already checked: the same few field names are built over and over (each reply has nine). */
const goodNames = new Set<string>()
const GOOD_NAMES_KEPT = 512

function assertName(name: string): void {
  if (goodNames.has(name)) return
  if (!NAME.test(name) || name.toLowerCase().startsWith('xml:')) {
    throw invalid(`bad element name ${JSON.stringify(name.slice(0, 40))}`)
  }
  if (goodNames.size < GOOD_NAMES_KEPT) goodNames.add(name)
}

// XML 1.0 names (the same character classes fast-xml-parser accepted); sticky so it matches in place.
// The ZWNJ/ZWJ range ends the list and the combining marks open theirs, so no range reads as a joined glyph.
const NAME_START =
  ':A-Za-z_\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u200C-\\u200D'
const NAME_AT = new RegExp(
  `[${NAME_START}][\\u0300-\\u036F${NAME_START}\\-.\\d\\u00B7\\u203F-\\u2040]*`,
  'y',
)

/** `:`, `A-Z`, `_`, `a-z`: the ASCII part of NAME_START. */
function isAsciiNameStart(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x41 && code <= 0x5a) ||
    code === 0x5f ||
    code === 0x3a
  )
}

/** `-`, `.`, `0-9`: the ASCII characters a name may continue with besides NAME_START's. */
function isAsciiNameRest(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x2e
}

/** A name from the input as it may appear in an error message: quoted, at most 40 characters. */
function shown(name: string): string {
  return JSON.stringify(name.slice(0, 40))
}

function isSpace(code: number): boolean {
  // XML's four whitespace characters: space, tab, LF, CR.
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d
}

/** One piece of an element's character content: CDATA is kept verbatim, plain text is trimmed/decoded. */
interface TextPart {
  cdata: boolean
  value: string
}

/**
 * A single forward pass over one document. It accepts exactly: an optional BOM and `<?xml …?>`
 * declaration, comments, processing instructions, one root element with quoted attributes (checked,
 * then ignored), text, CDATA and child elements with matching end tags, nesting at most maxDepth.
 * Anything else (any `<!DOCTYPE`/`<!ENTITY`, a stray `<`, a second root, text outside the root, an
 * unknown entity) is XML_INVALID. Recursion is bounded by maxDepth, checked before descending.
 */
class Scanner {
  private pos = 0
  private readonly text: string

  constructor(
    text: string,
    private readonly maxDepth: number,
  ) {
    // XML line-end normalisation (CR LF and lone CR read as LF), as fast-xml-parser did, CDATA included.
    this.text = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text
  }

  document(): XmlRecord {
    const text = this.text
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1
    if (text.startsWith('<?xml', this.pos) && /[\s?]/.test(text.charAt(this.pos + 5))) {
      this.pos += 5
      this.attributes(true)
    }
    this.misc()
    if (text.charCodeAt(this.pos) !== 0x3c /* < */) throw invalid('expected a root element')
    this.pos += 1
    const root = this.element(this.name(), 1)
    this.misc()
    if (this.pos < text.length) {
      throw invalid(
        text.charCodeAt(this.pos) === 0x3c
          ? 'more than one root element'
          : 'text after the root element',
      )
    }
    return typeof root === 'string' ? {} : root
  }

  /** Whitespace, comments and processing instructions outside the root element. */
  private misc(): void {
    const text = this.text
    for (;;) {
      while (isSpace(text.charCodeAt(this.pos))) this.pos += 1
      if (text.startsWith(COMMENT_OPEN, this.pos)) this.comment()
      else if (text.startsWith('<?', this.pos)) this.processingInstruction()
      else if (text.startsWith('<!', this.pos))
        throw invalid('DOCTYPE and ENTITY declarations are not accepted')
      else return
    }
  }

  /** Reads the element whose `<name` was just read: its value is a record if it has child elements, else its text. */
  private element(name: string, depth: number): XmlValue {
    if (depth > this.maxDepth) throw invalid(`nesting deeper than ${this.maxDepth}`)
    const text = this.text
    if (this.attributes()) return ''

    let record: XmlRecord | undefined
    const parts: TextPart[] = []
    // Plain text runs on across comments (not processing instructions) as one part.
    let pending = ''
    for (;;) {
      const lt = text.indexOf('<', this.pos)
      if (lt === -1) throw invalid(`unclosed element ${shown(name)}`)
      pending += text.slice(this.pos, lt)
      this.pos = lt
      if (text.startsWith(CDATA_OPEN, lt)) {
        if (pending !== '') parts.push({ cdata: false, value: pending })
        pending = ''
        const end = text.indexOf(']]>', lt + CDATA_OPEN.length)
        if (end === -1) throw invalid('unterminated CDATA section')
        parts.push({ cdata: true, value: text.slice(lt + CDATA_OPEN.length, end) })
        this.pos = end + 3
      } else if (text.startsWith(COMMENT_OPEN, lt)) {
        this.comment()
      } else if (text.startsWith('<?', lt)) {
        // A processing instruction splits the text (a comment does not), as fast-xml-parser did.
        if (pending !== '') parts.push({ cdata: false, value: pending })
        pending = ''
        this.processingInstruction()
      } else if (text.charCodeAt(lt + 1) === 0x21 /* ! */) {
        throw invalid('DOCTYPE and ENTITY declarations are not accepted')
      } else if (text.charCodeAt(lt + 1) === 0x2f /* / */) {
        this.pos = lt + 2
        if (this.name() !== name) throw invalid(`mismatched end tag for ${shown(name)}`)
        while (isSpace(text.charCodeAt(this.pos))) this.pos += 1
        if (text.charCodeAt(this.pos) !== 0x3e /* > */)
          throw invalid(`malformed end tag ${shown(name)}`)
        this.pos += 1
        break
      } else {
        if (pending !== '') parts.push({ cdata: false, value: pending })
        pending = ''
        record ??= {}
        this.pos = lt + 1
        const childName = this.name()
        // fast-xml-parser refused these names too; rejecting __proto__ also keeps the assignment below a plain own key.
        if (childName === '__proto__' || childName === 'constructor') {
          throw invalid(`element name ${childName} is not accepted`)
        }
        const child = this.element(childName, depth + 1)
        if (!Object.hasOwn(record, childName)) {
          record[childName] = child
        } else if (depth === 1) {
          // A field of the document named twice is ambiguous (which Encrypt, which sign?): refused.
          throw invalid(`repeated element ${shown(childName)}`)
        }
        // Deeper, repeats are lists WeChat really sends (MASSSENDJOBFINISH's <item>s, a pic event's
        // <PicList>, subscribe_msg_popup_event's <List>s); nothing we read lives there, so the first is kept.
      }
    }
    if (pending !== '') parts.push({ cdata: false, value: pending })
    return elementValue(record, parts)
  }

  /** Reads an XML name at the cursor. */
  private name(): string {
    // ASCII names (every name WeChat sends) are read by this loop, which allocates only the name; the
    // regex, whose match array was a tenth of a push's allocations, is left for names with other letters.
    const text = this.text
    const start = this.pos
    let code = text.charCodeAt(start)
    if (isAsciiNameStart(code)) {
      let end = start + 1
      while (isAsciiNameStart((code = text.charCodeAt(end))) || isAsciiNameRest(code)) end++
      // Past the end (NaN) or at an ASCII non-name character, the name is complete.
      if (!(code >= 0x80)) {
        this.pos = end
        return text.slice(start, end)
      }
    }
    NAME_AT.lastIndex = start
    const match = NAME_AT.exec(text)
    if (match === null) throw invalid('bad or missing element name')
    const name = match[0]
    this.pos += name.length
    return name
  }

  /**
   * Checks `name="value"` pairs (values ignored) up to the end of a tag: `>` (false) or `/>` (true, an
   * empty element); with `instruction` up to `?>` — the declaration's and PIs' pseudo-attributes.
   */
  private attributes(instruction = false): boolean {
    const text = this.text
    let seen: Set<string> | undefined
    for (;;) {
      const code = text.charCodeAt(this.pos)
      const closer = instruction ? 0x3f /* ? */ : 0x2f /* / */
      if (code === 0x3e /* > */ && !instruction) {
        this.pos += 1
        return false
      }
      if (code === closer && text.charCodeAt(this.pos + 1) === 0x3e) {
        this.pos += 2
        return true
      }
      // Each attribute must be preceded by whitespace: `<a x="1"y="2">` is malformed.
      if (!isSpace(code)) throw invalid('malformed tag')
      while (isSpace(text.charCodeAt(this.pos))) this.pos += 1
      const next = text.charCodeAt(this.pos)
      if (next === 0x3e || next === closer) continue
      const attribute = this.name()
      seen ??= new Set()
      if (seen.has(attribute)) throw invalid(`repeated attribute ${shown(attribute)}`)
      seen.add(attribute)
      while (isSpace(text.charCodeAt(this.pos))) this.pos += 1
      if (text.charCodeAt(this.pos) !== 0x3d /* = */)
        throw invalid(`attribute ${shown(attribute)} has no value`)
      this.pos += 1
      while (isSpace(text.charCodeAt(this.pos))) this.pos += 1
      const quote = text.charAt(this.pos)
      if (quote !== '"' && quote !== "'")
        throw invalid(`attribute ${shown(attribute)} is not quoted`)
      const end = text.indexOf(quote, this.pos + 1)
      if (end === -1) throw invalid(`attribute ${shown(attribute)} is not closed`)
      this.pos = end + 1
    }
  }

  private comment(): void {
    this.pos += COMMENT_OPEN.length
    this.skipPast('-->', 'unterminated comment')
  }

  private processingInstruction(): void {
    // Only at the very start may a PI be the XML declaration.
    if (/^xml[\s?]/.test(this.text.slice(this.pos + 2, this.pos + 6))) {
      throw invalid('XML declaration allowed only at the start of the document')
    }
    this.pos += 2
    this.name()
    // The instruction's data is free text up to `?>`, but must be set off from the target by whitespace.
    if (!this.text.startsWith('?>', this.pos) && !isSpace(this.text.charCodeAt(this.pos))) {
      throw invalid('malformed processing instruction')
    }
    this.skipPast('?>', 'unterminated processing instruction')
  }

  private skipPast(terminator: string, message: string): void {
    const end = this.text.indexOf(terminator, this.pos)
    if (end === -1) throw invalid(message)
    this.pos = end + terminator.length
  }
}

/** An element with child elements is their record (only whitespace between them), else its text. */
function elementValue(record: XmlRecord | undefined, parts: readonly TextPart[]): XmlValue {
  if (record !== undefined) {
    if (parts.some((part) => part.cdata || part.value.trim() !== '')) {
      throw invalid('mixed text and element content')
    }
    return record
  }
  // The common shapes first: one CDATA section, one run of plain text, nothing.
  const only = parts.length === 1 ? parts[0] : undefined
  if (only !== undefined) return only.cdata ? only.value : decodeReferences(only.value.trim())
  if (parts.length === 0) return ''
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

// A Map, not an object literal: a lookup must not find what an object inherits (`&constructor;`).
const PREDEFINED = new Map([
  ['lt', '<'],
  ['gt', '>'],
  ['amp', '&'],
  ['quot', '"'],
  ['apos', "'"],
])

/** Decodes only the five predefined entities and character references; anything else after `&` is invalid. */
function decodeReferences(text: string): string {
  if (!text.includes('&')) return text
  return text.replace(/&([^;&\s]*);?/g, (match: string, ref: string) => {
    if (!match.endsWith(';')) throw invalid('bare ampersand')
    const predefined = PREDEFINED.get(ref)
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
