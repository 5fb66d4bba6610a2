// Child log lines: pino JSON shortened to one readable line; the page's polling GETs hidden unless verbose.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createLogFormatter } from './log-lines.js'

const time = '2026-11-25T08:00:00.000Z'
const line = (fields: Record<string, unknown>): string =>
  JSON.stringify({ level: 30, time, ...fields })
const incoming = (reqId: string, method: string, url: string): string =>
  line({ reqId, req: { method, url }, msg: 'incoming request' })
const completed = (reqId: string, statusCode: number): string =>
  line({ reqId, res: { statusCode }, responseTime: 3.4, msg: 'request completed' })

describe('createLogFormatter', () => {
  it('joins a request and its completion into one line, hiding successful GETs', () => {
    const format = createLogFormatter({ verbose: false, color: false })
    assert.equal(format(incoming('r1', 'POST', '/api/v1/payment/create-order')), undefined)
    assert.match(
      format(completed('r1', 200)) ?? '',
      /POST \/api\/v1\/payment\/create-order → 200 3 ms$/,
    )
    assert.equal(format(incoming('r2', 'GET', '/api/v1/user/credits')), undefined)
    assert.equal(format(completed('r2', 200)), undefined)
    format(incoming('r3', 'GET', '/api/v1/user/credits'))
    assert.match(format(completed('r3', 401)) ?? '', /GET \/api\/v1\/user\/credits → 401/)
  })

  it('shows successful GETs when verbose', () => {
    const format = createLogFormatter({ verbose: true, color: false })
    format(incoming('r1', 'GET', '/api/v1/user/credits'))
    assert.match(format(completed('r1', 200)) ?? '', /GET \/api\/v1\/user\/credits → 200/)
  })

  it('prints other entries with their level, error and extra fields', () => {
    const format = createLogFormatter({ verbose: false, color: false })
    const out = format(
      JSON.stringify({
        level: 40,
        time,
        pid: 1,
        msg: 'readiness check failed',
        check: 'app',
        err: { type: 'InternalApiUnreachableError', code: 'X', message: 'down' },
      }),
    )
    assert.match(
      out ?? '',
      /WARN {2}readiness check failed — InternalApiUnreachableError X: down \{"check":"app"\}$/,
    )
  })

  it('passes lines that are not JSON through unchanged', () => {
    const format = createLogFormatter({ verbose: false, color: false })
    assert.equal(
      format('WeChat simulator listening on http://127.0.0.1:1'),
      'WeChat simulator listening on http://127.0.0.1:1',
    )
    assert.equal(format('{broken'), '{broken')
  })
})
