// Strict PKCS#7 padding: WeChat pads to 32-byte blocks, so the pad byte ranges over 1..32, not 1..16.
import { WeChatProtocolError } from '../errors.js'

function assertBlockSize(blockSize: number): void {
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 255) {
    throw new RangeError(`PKCS#7 block size must be an integer in 1..255, got ${blockSize}`)
  }
}

/** Appends n bytes of value n (1..blockSize) so the length becomes a multiple of blockSize. */
export function pkcs7Pad(data: Buffer, blockSize: number): Buffer {
  assertBlockSize(blockSize)
  const n = blockSize - (data.length % blockSize)
  return Buffer.concat([data, Buffer.alloc(n, n)])
}

/** Removes PKCS#7 padding; throws `PADDING_INVALID` unless the last n bytes all equal n with n in 1..blockSize. */
export function pkcs7Unpad(data: Buffer, blockSize: number): Buffer {
  assertBlockSize(blockSize)
  const n = data.length === 0 ? 0 : (data[data.length - 1] ?? 0)
  if (n < 1 || n > blockSize || n > data.length) {
    throw new WeChatProtocolError('PADDING_INVALID', { message: 'PADDING_INVALID: bad pad length' })
  }
  // Every pad byte is checked (accumulated, no early exit) rather than trusting the last one.
  let diff = 0
  for (let i = data.length - n; i < data.length; i += 1) diff |= (data[i] ?? 0) ^ n
  if (diff !== 0) {
    throw new WeChatProtocolError('PADDING_INVALID', { message: 'PADDING_INVALID: bad pad bytes' })
  }
  return data.subarray(0, data.length - n)
}
