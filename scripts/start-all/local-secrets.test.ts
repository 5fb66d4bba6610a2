// The all-in-one's secrets file: made once (0600), reused, completed, and never overwritten when broken.
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { LOCAL_SECRET_NAMES, loadLocalSecrets, LocalSecretsError } from './local-secrets.js'

const dir = mkdtempSync(join(tmpdir(), 'wxgate-secrets-'))
let count = 0
const fresh = (): string => join(dir, `secrets-${++count}.json`)

describe('loadLocalSecrets', () => {
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('generates every secret in the shape the services require, into a 0600 file', () => {
    const path = fresh()
    const { secrets, created } = loadLocalSecrets(path)
    assert.equal(created, true)
    assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.deepEqual(Object.keys(secrets).sort(), [...LOCAL_SECRET_NAMES].sort())
    assert.match(secrets.WECHAT_APPID, /^wx[0-9a-f]{16}$/)
    assert.match(secrets.WECHAT_ENCODING_AES_KEY, /^[A-Za-z0-9]{43}$/)
    assert.match(secrets.WECHAT_PAY_MCHID, /^\d{10}$/)
    assert.match(secrets.WECHAT_PAY_API_KEY, /^[A-Za-z0-9]{32}$/)
    assert.ok(secrets.JWT_SECRET.length >= 32)
    assert.ok(secrets.INTERNAL_API_SECRET.length >= 32)
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), secrets)
  })

  it('reuses the kept values on the next start and makes different ones for another file', () => {
    const path = fresh()
    const first = loadLocalSecrets(path).secrets
    const again = loadLocalSecrets(path)
    assert.equal(again.created, false)
    assert.deepEqual(again.secrets, first)
    assert.notEqual(loadLocalSecrets(fresh()).secrets.JWT_SECRET, first.JWT_SECRET)
  })

  it('adds missing values and keeps the rest, tightening a loose file mode', () => {
    const path = fresh()
    writeFileSync(path, JSON.stringify({ WECHAT_APPID: 'wx0123456789abcdef', note: 'mine' }))
    chmodSync(path, 0o644)
    const { secrets, created } = loadLocalSecrets(path)
    assert.equal(created, true)
    assert.equal(secrets.WECHAT_APPID, 'wx0123456789abcdef')
    assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.equal((JSON.parse(readFileSync(path, 'utf8')) as { note: string }).note, 'mine')
  })

  it('stops on a file that is not JSON or holds a malformed value, leaving it untouched', () => {
    for (const content of [
      '{not json',
      '[]',
      JSON.stringify({ WECHAT_ENCODING_AES_KEY: 'short' }),
    ]) {
      const path = fresh()
      writeFileSync(path, content)
      assert.throws(() => loadLocalSecrets(path), LocalSecretsError)
      assert.equal(readFileSync(path, 'utf8'), content)
    }
  })
})
