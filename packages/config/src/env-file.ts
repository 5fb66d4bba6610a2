// A small .env reader: comments, quotes and `export` prefixes, and deliberately no variable expansion.
import { readFileSync } from 'node:fs'

/** A malformed .env file; carries the line number but never the line, which may hold a secret. */
export class EnvFileError extends Error {
  readonly line: number

  /** `line` 0: about the file as a whole (it cannot be read). */
  constructor(message: string, line: number, options?: ErrorOptions) {
    super(line === 0 ? message : `line ${line}: ${message}`, options)
    this.name = 'EnvFileError'
    this.line = line
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const DOUBLE_QUOTED_ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  r: '\r',
  t: '\t',
  '\\': '\\',
  '"': '"',
  $: '$',
}

/** Reads and parses a .env file; throws the fs error (with `code`) if it cannot be read. */
export function readEnvFile(path: string): Record<string, string> {
  return parseEnvFile(readFileSync(path, 'utf8'))
}

/**
 * Parses .env text. `KEY=value`, `export KEY=value`, `# comments` (whole line, or after whitespace
 * in an unquoted value), 'single quotes' (literal) and "double quotes" (\n \r \t \\ \" escapes);
 * quoted values may span lines. Later keys win. `$VAR` is kept literally, never expanded.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n')
  const out: Record<string, string> = {}
  let pos = 0
  let line = 1

  while (pos < src.length) {
    const end = lineEnd(src, pos)
    const raw = src.slice(pos, end)
    const startLine = line
    const trimmed = raw.trimStart()
    if (trimmed === '' || trimmed.startsWith('#')) {
      pos = end + 1
      line += 1
      continue
    }
    const assignment = trimmed.replace(/^export\s+/, '')
    const eq = assignment.indexOf('=')
    if (eq === -1) throw new EnvFileError('expected KEY=value', startLine)
    const name = assignment.slice(0, eq).trim()
    if (!NAME.test(name)) throw new EnvFileError('invalid variable name', startLine)

    // Offset of the value inside src (after `=` and any blanks).
    let valueStart = pos + (raw.length - assignment.length) + eq + 1
    while (src[valueStart] === ' ' || src[valueStart] === '\t') valueStart += 1
    const quote = src[valueStart]

    if (quote === '"' || quote === "'") {
      let value = ''
      let i = valueStart + 1
      let closed = false
      while (i < src.length) {
        const ch = src[i] as string
        if (ch === quote) {
          closed = true
          break
        }
        if (ch === '\n') line += 1
        if (quote === '"' && ch === '\\' && i + 1 < src.length) {
          const next = src[i + 1] as string
          const mapped = DOUBLE_QUOTED_ESCAPES[next]
          value += mapped ?? `\\${next}`
          if (next === '\n') line += 1
          i += 2
          continue
        }
        value += ch
        i += 1
      }
      if (!closed) throw new EnvFileError(`unterminated ${quote} quote`, startLine)
      const restEnd = lineEnd(src, i + 1)
      const rest = src.slice(i + 1, restEnd).trim()
      if (rest !== '' && !rest.startsWith('#')) {
        throw new EnvFileError('unexpected text after the closing quote', line)
      }
      out[name] = value
      pos = restEnd + 1
      line += 1
      continue
    }

    const unquoted = src.slice(valueStart, end)
    const comment = unquoted.search(/(^|[ \t])#/)
    out[name] = (comment === -1 ? unquoted : unquoted.slice(0, comment)).trim()
    pos = end + 1
    line += 1
  }
  return out
}

function lineEnd(src: string, from: number): number {
  const nl = src.indexOf('\n', from)
  return nl === -1 ? src.length : nl
}
