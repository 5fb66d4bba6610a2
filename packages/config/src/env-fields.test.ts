// Tests for the env.* field helpers: defaults, parsing and problem sentences.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { z } from 'zod'
import { env, isProxyAddress } from './env-fields.js'
import { parseConfig } from './load-config.js'

function parseOne<S extends z.ZodType>(field: S, raw: string | undefined) {
  return parseConfig(z.object({ V: field }), raw === undefined ? {} : { V: raw })
}

function valueOf<S extends z.ZodType>(field: S, raw: string | undefined): unknown {
  const result = parseOne(field, raw)
  assert.ok(result.ok, result.ok ? '' : result.problems.join('; '))
  return (result.value as { V: unknown }).V
}

function problemOf<S extends z.ZodType>(field: S, raw: string | undefined): string {
  const result = parseOne(field, raw)
  assert.ok(!result.ok, 'expected a problem')
  assert.equal(result.problems.length, 1)
  return result.problems[0] as string
}

describe('env.port', () => {
  it('uses the default when unset or empty and parses a number otherwise', () => {
    assert.equal(valueOf(env.port(8000), undefined), 8000)
    assert.equal(valueOf(env.port(8000), ''), 8000)
    assert.equal(valueOf(env.port(8000), '9001'), 9001)
    assert.equal(valueOf(env.port(8000), '0'), 0)
  })

  it('rejects non-numbers and out-of-range ports', () => {
    for (const bad of ['abc', '80a', '65536', '-1', '1.5']) {
      assert.equal(problemOf(env.port(8000), bad), 'V must be a port number (0-65535)')
    }
  })
})

describe('env.secret', () => {
  it('requires the variable and its minimum length without showing the value', () => {
    assert.equal(problemOf(env.secret(32), undefined), 'V is required (at least 32 characters)')
    const short = 'short-secret-value'
    const problem = problemOf(env.secret(32), short)
    assert.equal(problem, 'V must be at least 32 characters long')
    assert.ok(!problem.includes(short))
    assert.equal(valueOf(env.secret(4), 'abcd'), 'abcd')
  })
})

describe('env.url', () => {
  it('accepts http and https URLs and strips trailing slashes', () => {
    assert.equal(valueOf(env.url(), 'https://api.example.com/'), 'https://api.example.com')
    assert.equal(valueOf(env.url('http://127.0.0.1:8000'), undefined), 'http://127.0.0.1:8000')
  })

  it('is required without a default and can be made optional', () => {
    assert.equal(problemOf(env.url(), undefined), 'V is required (a URL (http or https))')
    assert.equal(valueOf(env.url().optional(), undefined), undefined)
    assert.equal(valueOf(env.url().optional(), ''), undefined)
  })

  it('rejects malformed URLs and other schemes unless allowed', () => {
    assert.equal(problemOf(env.url(), 'not a url'), 'V must be a URL (http or https)')
    assert.equal(problemOf(env.url(), 'ftp://x'), 'V must be a URL (http or https)')
    assert.equal(
      valueOf(env.url(undefined, { protocols: ['redis:'] }), 'redis://h:6379/0'),
      'redis://h:6379/0',
    )
  })
})

describe('env.boolean', () => {
  it('reads the usual spellings and rejects others', () => {
    for (const yes of ['true', 'TRUE', '1', 'yes', 'on'])
      assert.equal(valueOf(env.boolean(false), yes), true)
    for (const no of ['false', '0', 'No', 'off'])
      assert.equal(valueOf(env.boolean(true), no), false)
    assert.equal(valueOf(env.boolean(true), undefined), true)
    assert.equal(problemOf(env.boolean(true), 'maybe'), 'V must be true or false')
  })
})

describe('env.int', () => {
  it('parses integers within the range and names the range when out of it', () => {
    assert.equal(valueOf(env.int(300, { min: 1 }), undefined), 300)
    assert.equal(valueOf(env.int(300, { min: 1, max: 600 }), '42'), 42)
    assert.equal(
      problemOf(env.int(300, { min: 1, max: 600 }), '601'),
      'V must be an integer from 1 to 600',
    )
    assert.equal(problemOf(env.int(300, { min: 1 }), '0'), 'V must be an integer of at least 1')
    assert.equal(problemOf(env.int(300), '3.5'), 'V must be an integer')
  })
})

describe('env.csv', () => {
  it('splits, trims and drops empty items, with a default when unset', () => {
    assert.deepEqual(valueOf(env.csv(), ' a, b ,,c '), ['a', 'b', 'c'])
    assert.deepEqual(valueOf(env.csv(['x']), undefined), ['x'])
    assert.deepEqual(valueOf(env.csv(), undefined), [])
  })
})

describe('env.trustProxy', () => {
  it('takes true, false, a hop count, or IPs, CIDRs and the named ranges; loopback when unset', () => {
    assert.deepEqual(valueOf(env.trustProxy(), undefined), ['loopback'])
    assert.equal(valueOf(env.trustProxy(), 'true'), true)
    assert.equal(valueOf(env.trustProxy(), ' FALSE '), false)
    assert.equal(valueOf(env.trustProxy(), '2'), 2)
    assert.deepEqual(
      valueOf(env.trustProxy(), ' 10.0.0.1, 172.16.0.0/12 ,::1,fc00::/7,loopback,uniquelocal'),
      ['10.0.0.1', '172.16.0.0/12', '::1', 'fc00::/7', 'loopback', 'uniquelocal'],
    )
    assert.deepEqual(valueOf(env.trustProxy(), '10.0.0.0/255.0.0.0'), ['10.0.0.0/255.0.0.0'])
  })

  it('refuses anything Fastify would throw on at start, in one sentence', () => {
    for (const bad of [
      'zzz',
      'yes',
      '10.0.0.0/33',
      '::1/129',
      '10.0.0.1/x',
      '1.2.3',
      'loopback,nginx',
    ]) {
      assert.equal(
        problemOf(env.trustProxy(), bad),
        'V must be true, false, a hop count or a comma-separated list of IP addresses, CIDRs, loopback, linklocal or uniquelocal',
        bad,
      )
    }
    assert.equal(isProxyAddress('zzz'), false)
    assert.equal(isProxyAddress('192.168.1.1'), true)
  })
})

describe('env.string and env.optional', () => {
  it('treats an empty string as unset', () => {
    assert.equal(valueOf(env.optional(), ''), undefined)
    assert.equal(valueOf(env.optional(), 'x'), 'x')
    assert.equal(valueOf(env.string('0.0.0.0'), ''), '0.0.0.0')
    assert.equal(problemOf(env.string(), ''), 'V is required')
  })
})
