import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { parseConfig } from '@wxgate/config'
import { appConfigSchema } from './config.js'
import { TEST_ENV } from './testing/test-config.js'

function parse(env: Record<string, string | undefined>) {
  return parseConfig(appConfigSchema, env)
}

describe('app config', () => {
  it('starts with only the required variables, on the embedded SQLite database', () => {
    const { SQLITE_PATH: _path, LOG_LEVEL: _level, ...required } = TEST_ENV
    const result = parse(required)
    assert.ok(result.ok)
    assert.deepEqual(result.value.db, { dialect: 'sqlite', path: './data/app.sqlite' })
    assert.equal(result.value.port, 8000)
    assert.equal(result.value.host, '0.0.0.0')
    assert.equal(result.value.products.length, 3)
    assert.equal(result.value.reconcile.intervalS, 60)
    assert.equal(result.value.reconcile.minAgeS, 300)
    assert.equal(result.value.orderExpireS, 7200)
    assert.ok(result.value.internal.allowlist.allows('127.0.0.1'))
    assert.ok(result.value.internal.allowlist.allows('10.1.2.3'))
    assert.ok(!result.value.internal.allowlist.allows('8.8.8.8'))
  })

  it('takes lifetimes of a few seconds for QR codes and orders (tests watch them expire), not 0', () => {
    const short = parse({ ...TEST_ENV, QR_LOGIN_EXPIRE_S: '5', ORDER_EXPIRE_S: '10' })
    assert.ok(short.ok, short.ok ? '' : short.problems.join('; '))
    assert.equal(short.value.qrLoginExpireS, 5)
    assert.equal(short.value.orderExpireS, 10)
    const zero = parse({ ...TEST_ENV, QR_LOGIN_EXPIRE_S: '0' })
    assert.ok(!zero.ok)
    assert.match(zero.problems.join('\n'), /QR_LOGIN_EXPIRE_S/)
  })

  it('names every missing required variable, one problem each, without values', () => {
    const result = parse({})
    assert.ok(!result.ok)
    for (const name of ['WECHAT_APPID', 'WECHAT_SECRET', 'INTERNAL_API_SECRET', 'JWT_SECRET']) {
      assert.ok(
        result.problems.some((p) => p.startsWith(`${name} `)),
        `${name} missing from ${result.problems.join(' | ')}`,
      )
    }
  })

  it('runs without WeChat Pay when all three WECHAT_PAY_* are unset, and refuses a partial set', () => {
    const {
      WECHAT_PAY_MCHID: _m,
      WECHAT_PAY_API_KEY: _k,
      WECHAT_PAY_NOTIFY_URL: _u,
      ...rest
    } = TEST_ENV
    const without = parse(rest)
    assert.ok(without.ok)
    assert.equal(without.value.pay, undefined)
    const complete = parse(TEST_ENV)
    assert.ok(complete.ok)
    assert.equal(complete.value.pay?.mchId, TEST_ENV.WECHAT_PAY_MCHID)
    const partial = parse({ ...rest, WECHAT_PAY_MCHID: '1900000109' })
    assert.ok(!partial.ok)
    assert.deepEqual(partial.problems, [
      'WECHAT_PAY_API_KEY is required when any WECHAT_PAY_* setting is set',
    ])
  })

  it('refuses a short JWT_SECRET without echoing it', () => {
    const result = parse({ ...TEST_ENV, JWT_SECRET: 'short-secret' })
    assert.ok(!result.ok)
    assert.equal(result.problems.length, 1)
    assert.match(result.problems[0] ?? '', /^JWT_SECRET /)
    assert.ok(!(result.problems[0] ?? '').includes('short-secret'))
  })

  it('switches to MySQL when MYSQL_HOST is set and requires its database name', () => {
    const ok = parse({
      ...TEST_ENV,
      MYSQL_HOST: 'db',
      MYSQL_USER: 'wx',
      MYSQL_PASSWORD: 'pw',
      MYSQL_DATABASE: 'wxgate',
    })
    assert.ok(ok.ok)
    assert.deepEqual(ok.value.db, {
      dialect: 'mysql',
      host: 'db',
      port: 3306,
      user: 'wx',
      password: 'pw',
      database: 'wxgate',
    })
    const missing = parse({ ...TEST_ENV, MYSQL_HOST: 'db', MYSQL_USER: 'wx' })
    assert.ok(!missing.ok)
    assert.match(missing.problems.join('\n'), /^MYSQL_DATABASE /m)
  })

  it('parses INTERNAL_ALLOWED_IPS into an allowlist and refuses a malformed one', () => {
    const ok = parse({ ...TEST_ENV, INTERNAL_ALLOWED_IPS: '192.0.2.0/24, ::1' })
    assert.ok(ok.ok)
    assert.ok(ok.value.internal.allowlist.allows('192.0.2.7'))
    assert.ok(!ok.value.internal.allowlist.allows('127.0.0.1'))
    const bad = parse({ ...TEST_ENV, INTERNAL_ALLOWED_IPS: '300.1.1.1/8' })
    assert.ok(!bad.ok)
    assert.match(bad.problems.join('\n'), /^INTERNAL_ALLOWED_IPS /m)
  })

  it('parses TRUST_PROXY into addresses and refuses a malformed one in one line', () => {
    const ok = parse({ ...TEST_ENV, TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' })
    assert.ok(ok.ok)
    assert.deepEqual(ok.value.trustProxy, ['10.0.0.0/8', '127.0.0.1'])
    const bad = parse({ ...TEST_ENV, TRUST_PROXY: 'nginx' })
    assert.ok(!bad.ok)
    assert.equal(bad.problems.length, 1)
    assert.match(bad.problems[0] ?? '', /^TRUST_PROXY /)
    // The gateway's grammar (env.trustProxy): one env file starts both services or neither.
    for (const [raw, value] of [
      ['true', true],
      ['2', 2],
    ] as const) {
      const parsed = parse({ ...TEST_ENV, TRUST_PROXY: raw })
      assert.ok(parsed.ok, raw)
      assert.equal(parsed.value.trustProxy, value)
    }
  })

  it('reads PRODUCTS_FILE and names it when it is invalid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxgate-products-'))
    try {
      const good = join(dir, 'good.json')
      writeFileSync(
        good,
        JSON.stringify({
          products: [{ id: 'p1', name: 'One', price_fen: 1, credits: 10, member_days: 0 }],
        }),
      )
      const ok = parse({ ...TEST_ENV, PRODUCTS_FILE: good })
      assert.ok(ok.ok)
      assert.deepEqual(ok.value.products, [
        { id: 'p1', name: 'One', priceFen: 1, credits: 10, memberDays: 0 },
      ])
      const bad = join(dir, 'bad.json')
      writeFileSync(bad, JSON.stringify([{ id: 'p1', name: 'One', price_fen: -5 }]))
      const refused = parse({ ...TEST_ENV, PRODUCTS_FILE: bad })
      assert.ok(!refused.ok)
      assert.match(refused.problems.join('\n'), /^PRODUCTS_FILE /m)
      const absent = parse({ ...TEST_ENV, PRODUCTS_FILE: join(dir, 'absent.json') })
      assert.ok(!absent.ok)
      assert.match(absent.problems.join('\n'), /^PRODUCTS_FILE cannot be read/m)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
