// Merchant order numbers: UTC time to the second plus 16 random characters (30 chars, WeChat allows 32).
import { randomInt } from 'node:crypto'

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'

export function newOutTradeNo(now: number): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[^0-9]/g, '')
    .slice(0, 14)
  let suffix = ''
  for (let i = 0; i < 16; i += 1) suffix += ALPHABET[randomInt(ALPHABET.length)]
  return `${stamp}${suffix}`
}
