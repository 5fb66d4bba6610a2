// Tests for CIDR parsing and the allowlist over IPv4, IPv6 and IPv4-mapped IPv6.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  createIpAllowlist,
  DEFAULT_INTERNAL_ALLOWED_IPS,
  InvalidCidrError,
  parseCidr,
} from './ip-allowlist.js'

describe('createIpAllowlist with the default ranges', () => {
  const allowlist = createIpAllowlist(DEFAULT_INTERNAL_ALLOWED_IPS)
  const table: [string, boolean][] = [
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['::FFFF:7f00:1', true],
    ['10.1.2.3', true],
    ['::ffff:10.0.0.5', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['172.15.255.255', false],
    ['192.168.1.1', true],
    ['192.169.0.1', false],
    ['fc00::1', true],
    ['fd12:3456:789a::1', true],
    ['fe80::1%eth0', false],
    ['8.8.8.8', false],
    ['::ffff:8.8.8.8', false],
    ['2001:db8::1', false],
    ['::2', false],
    ['::', false],
    ['not-an-ip', false],
    ['', false],
    ['010.0.0.1', false],
    ['256.0.0.1', false],
    ['1.2.3', false],
    ['1::2::3', false],
  ]
  for (const [ip, expected] of table) {
    it(`${expected ? 'allows' : 'refuses'} ${JSON.stringify(ip)}`, () => {
      assert.equal(allowlist.allows(ip), expected)
    })
  }
})

describe('createIpAllowlist', () => {
  it('accepts a comma-separated string, bare addresses and reports its ranges', () => {
    const allowlist = createIpAllowlist(' 203.0.113.7 , 2001:db8::/32,')
    assert.deepEqual(allowlist.cidrs, ['203.0.113.7', '2001:db8::/32'])
    assert.equal(allowlist.allows('203.0.113.7'), true)
    assert.equal(allowlist.allows('203.0.113.8'), false)
    assert.equal(allowlist.allows('2001:db8:ffff::1'), true)
    assert.equal(allowlist.allows('2001:db9::1'), false)
  })

  it('lets an IPv4 range match IPv4-mapped IPv6 clients and vice versa', () => {
    assert.equal(createIpAllowlist('::ffff:192.0.2.0/120').allows('192.0.2.9'), true)
    assert.equal(createIpAllowlist('192.0.2.0/24').allows('::ffff:192.0.2.9'), true)
  })

  it('matches everything with /0 and nothing with an empty list', () => {
    assert.equal(createIpAllowlist('0.0.0.0/0').allows('198.51.100.1'), true)
    assert.equal(createIpAllowlist('0.0.0.0/0').allows('2001:db8::1'), false)
    assert.equal(createIpAllowlist('::/0').allows('2001:db8::1'), true)
    assert.equal(createIpAllowlist([]).allows('127.0.0.1'), false)
  })

  it('handles the full IPv6 syntax', () => {
    const allowlist = createIpAllowlist('1:2:3:4:5:6:7:8/128, 1::/16')
    assert.equal(allowlist.allows('1:2:3:4:5:6:7:8'), true)
    assert.equal(allowlist.allows('1:ffff::'), true)
    assert.equal(allowlist.allows('2::'), false)
  })
})

describe('parseCidr', () => {
  it('rejects malformed ranges with a message naming them', () => {
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0.1/8',
      'fc00::/129',
      'fc00::1/7',
      'x/8',
      '10.0.0.0/',
      '1:2:3:4:5:6:7:8:9',
    ]) {
      assert.throws(
        () => parseCidr(bad),
        (error: unknown) => error instanceof InvalidCidrError && error.message.includes(bad),
      )
    }
  })
})
