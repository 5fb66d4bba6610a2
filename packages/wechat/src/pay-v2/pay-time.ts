// WeChat Pay v2 times (`time_end`, `time_expire`): `yyyyMMddHHmmss` in Beijing time (UTC+8, no DST).
import { WeChatProtocolError } from '../errors.js'

const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000
const PAY_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/

/**
 * Reads a `yyyyMMddHHmmss` Beijing time. Anything else — other lengths, separators, a 13th month,
 * 31 February, hour 24 — throws `MESSAGE_INVALID` instead of rolling over as `Date.UTC` would.
 */
export function beijingTimeToDate(text: string): Date {
  const match = PAY_TIME.exec(text)
  if (match === null) throw invalid()
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const utcMs = Date.UTC(year, month - 1, day, hour, minute, second)
  const check = new Date(utcMs)
  // Date.UTC normalises out-of-range parts; a round trip that changes any part means the text was not a real time.
  if (
    year < 1970 ||
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  ) {
    throw invalid()
  }
  return new Date(utcMs - BEIJING_OFFSET_MS)
}

/** Formats an instant as `yyyyMMddHHmmss` Beijing time (sub-second part dropped). */
export function dateToBeijingTime(date: Date): string {
  const ms = date.getTime()
  if (!Number.isFinite(ms)) throw new RangeError('dateToBeijingTime needs a valid Date')
  const beijing = new Date(ms + BEIJING_OFFSET_MS)
  const year = beijing.getUTCFullYear()
  if (year < 1970 || year > 9999) throw new RangeError('dateToBeijingTime: year out of range')
  return (
    String(year).padStart(4, '0') +
    two(beijing.getUTCMonth() + 1) +
    two(beijing.getUTCDate()) +
    two(beijing.getUTCHours()) +
    two(beijing.getUTCMinutes()) +
    two(beijing.getUTCSeconds())
  )
}

function two(n: number): string {
  return String(n).padStart(2, '0')
}

function invalid(): WeChatProtocolError {
  return new WeChatProtocolError('MESSAGE_INVALID', {
    message: 'pay time must be yyyyMMddHHmmss (Beijing time)',
  })
}
