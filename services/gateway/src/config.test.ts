import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '@wxgate/config'
import { gatewayConfigSchema } from './config.js'

const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const minimal = {
  WECHAT_APPID: 'wx1234567890abcdef',
  WECHAT_TOKEN: 'token',
  INTERNAL_API_SECRET: 'x'.repeat(32),
}

describe('gateway config', () => {
  it('starts with only the appid, the token and the internal secret, using the documented defaults', () => {
    const result = parseConfig(gatewayConfigSchema, minimal)
    assert.ok(result.ok, JSON.stringify(result))
    const config = result.value
    assert.equal(config.host, '0.0.0.0')
    assert.equal(config.port, 8001)
    assert.equal(config.appServerUrl, 'http://127.0.0.1:8000')
    assert.equal(config.spoolDir, './data/spool')
    assert.equal(config.wechat.pushMaxAgeS, 300)
    assert.equal(config.wechat.encodingAesKey, undefined)
    assert.equal(config.pay, undefined)
    assert.equal(config.redisUrl, undefined)
    assert.deepEqual(config.trustProxy, ['loopback'])
    assert.equal(config.logLevel, 'info')
    assert.equal(config.replies.fallback, undefined)
    assert.ok(Object.isFrozen(config.wechat))
  })

  it('names each missing required variable on its own line', () => {
    const result = parseConfig(gatewayConfigSchema, { INTERNAL_API_SECRET: 'short' })
    assert.equal(result.ok, false)
    if (result.ok) return
    assert.deepEqual(result.problems.map((p) => p.split(' ')[0]).sort(), [
      'INTERNAL_API_SECRET',
      'WECHAT_APPID',
      'WECHAT_TOKEN',
    ])
    assert.ok(
      result.problems.every((p) => !p.includes('short')),
      'never echoes a value',
    )
  })

  it('decodes the EncodingAESKey into its 32 bytes once', () => {
    const result = parseConfig(gatewayConfigSchema, {
      ...minimal,
      WECHAT_ENCODING_AES_KEY: AES_KEY,
    })
    assert.ok(result.ok)
    assert.equal(result.value.wechat.encodingAesKey?.length, 32)
    assert.deepEqual(result.value.wechat.encodingAesKey, Buffer.from(`${AES_KEY}=`, 'base64'))
  })

  it('refuses a malformed EncodingAESKey without printing it', () => {
    const result = parseConfig(gatewayConfigSchema, {
      ...minimal,
      WECHAT_ENCODING_AES_KEY: 'tooshort',
    })
    assert.equal(result.ok, false)
    if (result.ok) return
    assert.equal(result.problems.length, 1)
    assert.match(result.problems[0] ?? '', /^WECHAT_ENCODING_AES_KEY must be 43 characters/)
    assert.ok(!(result.problems[0] ?? '').includes('tooshort'))
  })

  it('refuses only plaintext pushes when asked to, which needs the EncodingAESKey', () => {
    const off = parseConfig(gatewayConfigSchema, { ...minimal, WECHAT_ENCODING_AES_KEY: AES_KEY })
    assert.ok(off.ok)
    assert.equal(off.value.wechat.encryptedOnly, false, 'plaintext mode keeps working by default')
    const on = parseConfig(gatewayConfigSchema, {
      ...minimal,
      WECHAT_ENCODING_AES_KEY: AES_KEY,
      WECHAT_PUSH_ENCRYPTED_ONLY: 'true',
    })
    assert.ok(on.ok)
    assert.equal(on.value.wechat.encryptedOnly, true)
    const keyless = parseConfig(gatewayConfigSchema, {
      ...minimal,
      WECHAT_PUSH_ENCRYPTED_ONLY: 'true',
    })
    assert.equal(keyless.ok, false)
    if (keyless.ok) return
    assert.equal(keyless.problems.length, 1)
    assert.match(keyless.problems[0] ?? '', /^WECHAT_ENCODING_AES_KEY .*WECHAT_PUSH_ENCRYPTED_ONLY/)
  })

  it('takes the pay settings as a pair', () => {
    const both = parseConfig(gatewayConfigSchema, {
      ...minimal,
      WECHAT_PAY_MCHID: '1900000109',
      WECHAT_PAY_API_KEY: 'k'.repeat(32),
    })
    assert.ok(both.ok)
    assert.deepEqual(both.value.pay, { mchId: '1900000109', apiKey: 'k'.repeat(32) })
    const half = parseConfig(gatewayConfigSchema, { ...minimal, WECHAT_PAY_MCHID: '1900000109' })
    assert.equal(half.ok, false)
    if (half.ok) return
    assert.deepEqual(half.problems, ['WECHAT_PAY_API_KEY is required when WECHAT_PAY_MCHID is set'])
  })

  it('parses ports, URLs, the push window, Redis and TRUST_PROXY into their meaning', () => {
    const result = parseConfig(gatewayConfigSchema, {
      ...minimal,
      GATEWAY_PORT: '9001',
      APP_SERVER_URL: 'http://app.internal:8000/',
      WECHAT_PUSH_MAX_AGE_S: '60',
      REDIS_URL: 'redis://127.0.0.1:6379/2',
      TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
      GATEWAY_DEFAULT_REPLY_TEXT: 'Hi',
    })
    assert.ok(result.ok, JSON.stringify(result))
    assert.equal(result.value.port, 9001)
    assert.equal(result.value.appServerUrl, 'http://app.internal:8000')
    assert.equal(result.value.wechat.pushMaxAgeS, 60)
    assert.equal(result.value.redisUrl, 'redis://127.0.0.1:6379/2')
    assert.deepEqual(result.value.trustProxy, ['10.0.0.0/8', '127.0.0.1'])
    assert.equal(result.value.replies.fallback, 'Hi')
    const hops = parseConfig(gatewayConfigSchema, { ...minimal, TRUST_PROXY: '2' })
    assert.ok(hops.ok)
    assert.equal(hops.value.trustProxy, 2)
  })

  it('refuses a Redis URL of another scheme, a port out of range and an unknown log level', () => {
    const result = parseConfig(gatewayConfigSchema, {
      ...minimal,
      REDIS_URL: 'http://127.0.0.1:6379',
      GATEWAY_PORT: '70000',
      LOG_LEVEL: 'verbose',
    })
    assert.equal(result.ok, false)
    if (result.ok) return
    assert.deepEqual(result.problems.map((p) => p.split(' ')[0]).sort(), [
      'GATEWAY_PORT',
      'LOG_LEVEL',
      'REDIS_URL',
    ])
  })

  it('refuses a TRUST_PROXY Fastify could not compile, in one line', () => {
    const result = parseConfig(gatewayConfigSchema, { ...minimal, TRUST_PROXY: '127.0.0.1, nginx' })
    assert.equal(result.ok, false)
    if (result.ok) return
    assert.equal(result.problems.length, 1)
    assert.match(result.problems[0] ?? '', /^TRUST_PROXY /)
    const flag = parseConfig(gatewayConfigSchema, { ...minimal, TRUST_PROXY: 'true' })
    assert.ok(flag.ok)
    assert.equal(flag.value.trustProxy, true)
  })

  it('has no database settings', () => {
    const result = parseConfig(gatewayConfigSchema, {
      ...minimal,
      MYSQL_HOST: 'db',
      SQLITE_PATH: 'x',
    })
    assert.ok(result.ok)
    assert.ok(!JSON.stringify(result.value).toLowerCase().includes('mysql'))
    assert.ok(!JSON.stringify(result.value).toLowerCase().includes('sqlite'))
  })
})
