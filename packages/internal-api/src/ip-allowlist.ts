// Who may call the internal API: CIDR lists over IPv4 and IPv6, IPv4-mapped IPv6 matching IPv4 ranges.

/** Loopback and private ranges: where the gateway and other trusted services normally live. */
export const DEFAULT_INTERNAL_ALLOWED_IPS: readonly string[] = Object.freeze([
  '127.0.0.0/8',
  '::1/128',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  'fc00::/7',
])

export class InvalidCidrError extends Error {
  constructor(cidr: string, reason: string) {
    super(`invalid CIDR "${cidr}": ${reason}`)
    this.name = 'InvalidCidrError'
  }
}

const V4_MAPPED_PREFIX = 0xffffn << 32n
const ALL_ONES = (1n << 128n) - 1n

/** Parses dotted-quad IPv4 (no leading zeros, which some parsers read as octal) to 32 bits. */
function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  let value = 0n
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined
    const octet = Number(part)
    if (octet > 255) return undefined
    value = (value << 8n) | BigInt(octet)
  }
  return value
}

/** Parses IPv6 text (with `::` and an optional dotted IPv4 tail) to 128 bits. */
function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const toGroups = (half: string): number[] | undefined => {
    if (half === '') return []
    const groups: number[] = []
    const pieces = half.split(':')
    for (let i = 0; i < pieces.length; i += 1) {
      const piece = pieces[i] as string
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece)
        if (v4 === undefined) return undefined
        groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn))
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(piece)) return undefined
        groups.push(parseInt(piece, 16))
      }
    }
    return groups
  }
  const head = toGroups(halves[0] as string)
  const tail = halves.length === 2 ? toGroups(halves[1] as string) : []
  if (head === undefined || tail === undefined) return undefined
  // A dotted tail is only allowed at the very end of the address.
  if (halves.length === 2 && (halves[0] as string).includes('.')) return undefined
  const missing = 8 - head.length - tail.length
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail]
  let value = 0n
  for (const group of groups) value = (value << 16n) | BigInt(group)
  return value
}

/** Any address as 128 bits; IPv4 becomes its IPv4-mapped IPv6 form `::ffff:a.b.c.d`. */
function parseAddress(text: string): { value: bigint; v4: boolean } | undefined {
  const v4 = parseIpv4(text)
  if (v4 !== undefined) return { value: V4_MAPPED_PREFIX | v4, v4: true }
  const v6 = parseIpv6(text)
  return v6 === undefined ? undefined : { value: v6, v4: false }
}

export interface Cidr {
  readonly text: string
  readonly network: bigint
  readonly mask: bigint
}

/** Parses `a.b.c.d/n`, `x::y/n`, or a bare address (a single host). Host bits must be zero. */
export function parseCidr(text: string): Cidr {
  const trimmed = text.trim()
  const slash = trimmed.indexOf('/')
  const addressText = slash === -1 ? trimmed : trimmed.slice(0, slash)
  const address = parseAddress(addressText)
  if (address === undefined) throw new InvalidCidrError(trimmed, 'not an IP address')
  const maxPrefix = address.v4 ? 32 : 128
  let prefix = maxPrefix
  if (slash !== -1) {
    const prefixText = trimmed.slice(slash + 1)
    if (!/^(0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > maxPrefix) {
      throw new InvalidCidrError(trimmed, `prefix length must be 0-${maxPrefix}`)
    }
    prefix = Number(prefixText)
  }
  const bits = (address.v4 ? 96 : 0) + prefix
  const mask = bits === 0 ? 0n : (ALL_ONES << BigInt(128 - bits)) & ALL_ONES
  if ((address.value & mask) !== address.value) {
    throw new InvalidCidrError(trimmed, 'address has bits set beyond the prefix')
  }
  return { text: trimmed, network: address.value, mask }
}

export interface IpAllowlist {
  allows(ip: string): boolean
  readonly cidrs: readonly string[]
}

/** `cidrs` is a list or a comma-separated string; throws `InvalidCidrError` for a bad entry. */
export function createIpAllowlist(cidrs: string | readonly string[]): IpAllowlist {
  const list = (typeof cidrs === 'string' ? cidrs.split(',') : cidrs)
    .map((c) => c.trim())
    .filter((c) => c !== '')
  const parsed = list.map(parseCidr)
  return Object.freeze({
    cidrs: Object.freeze(parsed.map((c) => c.text)),
    allows(ip: string): boolean {
      // Strip an IPv6 zone id (`fe80::1%eth0`): zones are local and never part of a range.
      const zone = ip.indexOf('%')
      const address = parseAddress(zone === -1 ? ip : ip.slice(0, zone))
      if (address === undefined) return false
      return parsed.some((c) => (address.value & c.mask) === c.network)
    },
  })
}
