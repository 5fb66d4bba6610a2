// Random alphanumeric nonces from the CSPRNG, for signatures and WeChat's nonce_str fields.
import { randomInt } from 'node:crypto'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** Returns `length` characters of `[A-Za-z0-9]`, each drawn uniformly with `crypto.randomInt`. */
export function randomNonce(length = 16): string {
  if (!Number.isInteger(length) || length < 0) {
    throw new RangeError(`nonce length must be a non-negative integer, got ${length}`)
  }
  let out = ''
  for (let i = 0; i < length; i += 1) out += ALPHABET[randomInt(ALPHABET.length)]
  return out
}
