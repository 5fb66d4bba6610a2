// Constant-time string comparison for signatures and tokens (only the length can leak).
import { timingSafeEqual } from 'node:crypto'

/** Compares the UTF-8 bytes of two strings in constant time; unequal lengths return false at once. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8')
  const right = Buffer.from(b, 'utf8')
  if (left.length !== right.length) return false
  return timingSafeEqual(left, right)
}
