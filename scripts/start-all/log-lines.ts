// Child output made readable: each line prefixed with its service, pino JSON turned into one short line.

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
}

const STANDARD_KEYS = new Set([
  'level',
  'time',
  'pid',
  'hostname',
  'name',
  'msg',
  'reqId',
  'req',
  'res',
  'responseTime',
  'err',
  'error',
])

export interface LogLineOptions {
  /** Also show successful GET requests (the demo page polls several times a second). */
  verbose: boolean
  color: boolean
}

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A log field as text: strings and numbers as they are, anything else as JSON. */
function scalar(value: unknown): string {
  if (value === undefined || value === null) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value)
}

function clock(time: unknown): string {
  const date = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date()
  return Number.isNaN(date.getTime()) ? '--:--:--' : date.toTimeString().slice(0, 8)
}

/** A formatter for one service's lines; it remembers each request's method and URL until it completes. */
export function createLogFormatter(options: LogLineOptions): (line: string) => string | undefined {
  const pending = new Map<string, string>()
  const paint = (code: number, text: string): string =>
    options.color ? `\u001b[${code}m${text}\u001b[0m` : text
  return (line) => {
    if (!line.startsWith('{')) return line
    let entry: unknown
    try {
      entry = JSON.parse(line)
    } catch {
      return line
    }
    if (!isObject(entry)) return line
    const level = typeof entry.level === 'number' ? entry.level : 30
    const reqId = typeof entry.reqId === 'string' ? entry.reqId : undefined
    const req = isObject(entry.req) ? entry.req : undefined
    const res = isObject(entry.res) ? entry.res : undefined
    if (req !== undefined && reqId !== undefined && entry.msg === 'incoming request') {
      if (pending.size > 10_000) pending.clear()
      pending.set(reqId, `${String(req.method)} ${String(req.url)}`)
      return undefined
    }
    const time = paint(2, clock(entry.time))
    if (res !== undefined && reqId !== undefined && entry.msg === 'request completed') {
      const request = pending.get(reqId) ?? '(request)'
      pending.delete(reqId)
      const status = typeof res.statusCode === 'number' ? res.statusCode : 0
      if (!options.verbose && status < 400 && /^(GET|HEAD|OPTIONS) /.test(request)) return undefined
      const ms =
        typeof entry.responseTime === 'number' ? ` ${Math.round(entry.responseTime)} ms` : ''
      const statusText = paint(status >= 500 ? 31 : status >= 400 ? 33 : 32, String(status))
      return `${time} ${request} → ${statusText}${ms}`
    }
    const levelName = LEVELS[level] ?? String(level)
    const levelText = paint(level >= 50 ? 31 : level >= 40 ? 33 : 36, levelName.padEnd(5))
    const err = isObject(entry.err) ? entry.err : isObject(entry.error) ? entry.error : undefined
    const errText =
      err === undefined
        ? ''
        : ` — ${scalar(err.type) || 'Error'}${err.code === undefined ? '' : ` ${scalar(err.code)}`}: ${scalar(err.message)}`
    const extra = Object.fromEntries(
      Object.entries(entry).filter(([key]) => !STANDARD_KEYS.has(key)),
    )
    const extraText = Object.keys(extra).length === 0 ? '' : ` ${paint(2, JSON.stringify(extra))}`
    return `${time} ${levelText} ${scalar(entry.msg)}${errText}${extraText}`
  }
}
