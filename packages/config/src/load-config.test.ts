// Tests for parseConfig/loadConfig: precedence, one line per variable, freezing, exit 1.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { z } from 'zod'
import { env } from './env-fields.js'
import { ConfigError, deepFreeze, loadConfig, parseConfig } from './load-config.js'

const schema = z.object({
  APP_PORT: env.port(8000),
  INTERNAL_API_SECRET: env.secret(32),
  WECHAT_APPID: z.string(),
  TRUST_PROXY: env.csv(['127.0.0.1']),
})

const SECRET = 's'.repeat(32)

describe('parseConfig', () => {
  it('returns the parsed, deep-frozen value', () => {
    const result = parseConfig(schema, { INTERNAL_API_SECRET: SECRET, WECHAT_APPID: 'wx1' })
    assert.ok(result.ok)
    assert.deepEqual(result.value, {
      APP_PORT: 8000,
      INTERNAL_API_SECRET: SECRET,
      WECHAT_APPID: 'wx1',
      TRUST_PROXY: ['127.0.0.1'],
    })
    assert.ok(Object.isFrozen(result.value))
    assert.ok(Object.isFrozen(result.value.TRUST_PROXY))
    assert.throws(() => {
      result.value.TRUST_PROXY.push('x')
    }, TypeError)
  })

  it('reports one line per bad variable, naming it', () => {
    const result = parseConfig(schema, { APP_PORT: 'http', INTERNAL_API_SECRET: 'too-short' })
    assert.ok(!result.ok)
    assert.deepEqual(result.problems.sort(), [
      'APP_PORT must be a port number (0-65535)',
      'INTERNAL_API_SECRET must be at least 32 characters long',
      'WECHAT_APPID is required',
    ])
    assert.ok(!result.problems.join('\n').includes('too-short'))
  })

  it('treats an empty required variable as missing', () => {
    const result = parseConfig(schema, { INTERNAL_API_SECRET: '', WECHAT_APPID: '' })
    assert.ok(!result.ok)
    assert.deepEqual(result.problems.sort(), [
      'INTERNAL_API_SECRET is required (at least 32 characters)',
      'WECHAT_APPID is required',
    ])
  })

  it('supports schemas that parse variables into meaning', () => {
    const dbSchema = z
      .object({ MYSQL_HOST: env.optional(), SQLITE_PATH: env.string('./data/app.sqlite') })
      .transform(({ MYSQL_HOST, SQLITE_PATH }) =>
        MYSQL_HOST === undefined
          ? { dialect: 'sqlite' as const, path: SQLITE_PATH }
          : { dialect: 'mysql' as const, host: MYSQL_HOST },
      )
    const result = parseConfig(dbSchema, { MYSQL_HOST: '' })
    assert.ok(result.ok)
    assert.deepEqual(result.value, { dialect: 'sqlite', path: './data/app.sqlite' })
  })

  it('phrases zod refinements after the variable name and without the value', () => {
    const enumSchema = z.object({ MODE: z.enum(['a', 'b']), KEY: z.string().length(43) })
    const result = parseConfig(enumSchema, { MODE: 'zzz-secret', KEY: 'k' })
    assert.ok(!result.ok)
    const text = result.problems.join('\n')
    assert.match(text, /^MODE must be one of a, b$/m)
    assert.match(text, /^KEY /m)
    assert.ok(!text.includes('zzz-secret'))
  })
})

describe('deepFreeze', () => {
  it('leaves Buffers usable while freezing the objects that hold them', () => {
    const value = deepFreeze({ key: Buffer.alloc(4), nested: { list: [1] } })
    assert.ok(Object.isFrozen(value.nested.list))
    value.key[0] = 7
    assert.equal(value.key[0], 7)
  })
})

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxgate-load-config-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('reads the .env file and lets the environment win', () => {
    const envFile = join(dir, 'win.env')
    writeFileSync(envFile, `APP_PORT=9000\nWECHAT_APPID=from-file\nINTERNAL_API_SECRET=${SECRET}\n`)
    const config = loadConfig(schema, { env: { WECHAT_APPID: 'from-env' }, envFile, exit: false })
    assert.equal(config.APP_PORT, 9000)
    assert.equal(config.WECHAT_APPID, 'from-env')
    assert.equal(config.INTERNAL_API_SECRET, SECRET)
  })

  it('works without a .env file', () => {
    const config = loadConfig(schema, {
      env: { WECHAT_APPID: 'x', INTERNAL_API_SECRET: SECRET },
      envFile: join(dir, 'missing.env'),
      exit: false,
    })
    assert.equal(config.WECHAT_APPID, 'x')
  })

  it('throws a ConfigError listing the problems when exit is false', () => {
    assert.throws(
      () => loadConfig(schema, { env: {}, envFile: false, exit: false }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.includes('WECHAT_APPID is required') &&
        error.problems.length === 2,
    )
  })

  it('reports a malformed .env file by line', () => {
    const envFile = join(dir, 'bad.env')
    writeFileSync(envFile, 'A=1\nnot an assignment\n')
    assert.throws(
      () => loadConfig(schema, { env: {}, envFile, exit: false }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /bad\.env line 2: expected KEY=value/.test(error.problems[0] ?? ''),
    )
  })

  it('reports a .env that exists but cannot be read as one problem, not a crash', () => {
    // A directory named .env reads as EISDIR, as an unreadable file reads as EACCES for a non-root user.
    const envFile = join(dir, 'dir.env')
    mkdirSync(envFile)
    assert.throws(
      () => loadConfig(schema, { env: {}, envFile, exit: false }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.length === 1 &&
        /dir\.env cannot be read \(EISDIR\)/.test(error.problems[0] ?? ''),
    )
  })

  it('prints one line per bad variable to stderr and exits 1', () => {
    const moduleUrl = new URL('./index.ts', import.meta.url).href
    const script = `
      import { z } from ${JSON.stringify(import.meta.resolve('zod'))}
      import { env, loadConfig } from ${JSON.stringify(moduleUrl)}
      loadConfig(z.object({ INTERNAL_API_SECRET: env.secret(32), APP_PORT: env.port(8000) }))
      console.log('started anyway')
    `
    const child = spawnSync(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script],
      {
        cwd: dir,
        env: { PATH: process.env.PATH, INTERNAL_API_SECRET: 'hunter2-short', APP_PORT: 'x' },
        encoding: 'utf8',
      },
    )
    assert.equal(child.status, 1)
    assert.equal(child.stdout, '')
    assert.deepEqual(child.stderr.trim().split('\n').sort(), [
      'config: APP_PORT must be a port number (0-65535)',
      'config: INTERNAL_API_SECRET must be at least 32 characters long',
    ])
    assert.ok(!child.stderr.includes('hunter2'))
  })
})
