// Tests that the redact list really hides secrets in pino output.
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { pino } from 'pino'
import { createLoggerOptions, REDACT_PATHS, redactUrl } from './logger.js'

function capture() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'))
      callback()
    },
  })
  return { lines, stream }
}

describe('createLoggerOptions', () => {
  it('hides secrets, credentials headers, Encrypt and message content in pino output', () => {
    const { lines, stream } = capture()
    const log = pino(createLoggerOptions({ level: 'info', name: 'test' }), stream)
    log.info(
      {
        req: {
          method: 'GET',
          url: '/x',
          headers: {
            authorization: 'Bearer SECRET-BEARER',
            cookie: 'sid=SECRET-COOKIE',
            'x-admin-key': 'SECRET-ADMIN',
            'x-internal-signature': 'SECRET-SIG',
            'user-agent': 'visible-agent',
          },
        },
        headers: { authorization: 'Bearer SECRET-TOP-HEADER' },
        secret: 'SECRET-TOP',
        config: {
          secret: 'SECRET-1',
          token: 'SECRET-2',
          password: 'SECRET-3',
          apiKey: 'SECRET-4',
          api_key: 'SECRET-5',
          access_token: 'SECRET-6',
        },
        Encrypt: 'SECRET-CIPHERTEXT',
        message: { content: 'SECRET-USER-TEXT', msgType: 'text' },
        openId: 'visible-openid',
      },
      'hello',
    )
    const out = lines.join('')
    assert.equal(out.match(/SECRET/g), null, out)
    const entry = JSON.parse(out) as Record<string, unknown>
    assert.equal(entry.openId, 'visible-openid')
    assert.equal((entry.message as Record<string, unknown>).msgType, 'text')
    assert.equal((entry.config as Record<string, unknown>).token, '[redacted]')
    assert.equal(entry.name, 'test')
    assert.match(String(entry.time), /^\d{4}-\d\d-\d\dT/)
  })

  it('keeps the redact list covering the documented keys', () => {
    for (const path of [
      'config.secret',
      'config.token',
      'config.password',
      'config.apiKey',
      'config.api_key',
      'config.access_token',
      'req.headers["authorization"]',
      'err.headers["set-cookie"]',
      'Encrypt',
      'content',
      'message.content',
    ]) {
      assert.ok(REDACT_PATHS.includes(path), path)
    }
  })

  it('lists only concrete paths, so child loggers skip the wildcard redactor', () => {
    assert.deepEqual(
      REDACT_PATHS.filter((path) => path.includes('*')),
      [],
    )
  })

  it('hides the value at every listed path in pino output', () => {
    for (const path of REDACT_PATHS) {
      const { lines, stream } = capture()
      const log = pino(createLoggerOptions({ level: 'info', name: 'test' }), stream)
      log.warn(objectAt(path, `SECRET at ${path}`), 'hello')
      const out = lines.join('')
      assert.equal(out.match(/SECRET/g), null, out)
      assert.match(out, /"msg":"hello"/)
    }
  })

  it('logs an error with its cause', () => {
    const { lines, stream } = capture()
    const log = pino(createLoggerOptions({ level: 'info', name: 'test' }), stream)
    log.error({ err: new Error('outer', { cause: new Error('inner reason') }) }, 'failed')
    assert.match(lines.join(''), /inner reason/)
  })
})

/** `{ a: { b: { c: value } } }` for the pino path `a.b["c"]`. */
function objectAt(path: string, value: string): Record<string, unknown> {
  const keys = [...path.matchAll(/([^.[\]"]+)/g)].map((m) => m[1] as string)
  let inner: unknown = value
  for (const key of keys.reverse()) inner = { [key]: inner }
  return inner as Record<string, unknown>
}

describe('redactUrl', () => {
  it('replaces the values of credential query parameters only', () => {
    assert.equal(
      redactUrl('/api/v1/auth/wechat/verify?signature=abc&timestamp=1&nonce=n&echostr=e&openid=o'),
      '/api/v1/auth/wechat/verify?signature=[redacted]&timestamp=1&nonce=n&echostr=[redacted]&openid=o',
    )
    assert.equal(redactUrl('/a?code=XYZ&state=S'), '/a?code=[redacted]&state=[redacted]')
    assert.equal(
      redactUrl('/api/v1/auth/wechat/check-follow?scene_str=login_abc'),
      '/api/v1/auth/wechat/check-follow?scene_str=[redacted]',
    )
    assert.equal(redactUrl('/plain'), '/plain')
    assert.equal(redactUrl('/a?%zz=1'), '/a?%zz=1')
  })
})
