import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { INTERNAL_ROUTES, signInternalRequest } from '@wxgate/internal-api'
import { buildApp } from './app.js'
import { createDb } from './db/create-db.js'
import { migrateToLatest } from './db/migrate.js'
import { testDialects } from './db/test-databases.js'
import { createFakePay } from './testing/fake-pay.js'
import { createTestApp, type TestApp } from './testing/test-app.js'
import { testConfig } from './testing/test-config.js'

for (const dialect of testDialects()) {
  describe(`app operations (${dialect})`, () => {
    let t: TestApp
    before(async () => {
      t = await createTestApp({ dialect, pay: createFakePay().pay })
    })
    after(async () => {
      await t.close()
    })

    it('answers /healthz and /readyz (database reachable)', async () => {
      const health = await t.app.inject({ method: 'GET', url: '/healthz' })
      assert.equal(health.statusCode, 200)
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' })
      assert.equal(ready.statusCode, 200, ready.body)
      assert.ok(ready.json<{ checks: string[] }>().checks.includes('database'))
    })

    it('serves the OpenAPI document with the public and internal routes, and a viewer at /docs', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/openapi.json' })
      assert.equal(res.statusCode, 200)
      const doc = res.json<{ openapi: string; paths: Record<string, unknown> }>()
      assert.match(doc.openapi, /^3\./)
      for (const path of [
        '/api/v1/payment/create-order',
        '/api/v1/payment/unifiedorder',
        '/api/v1/payment/orders',
        '/api/v1/payment/orders/{out_trade_no}',
        '/api/v1/user/credits',
        '/api/v1/internal/payment/order/update',
        '/api/v1/internal/credits/consume',
      ]) {
        assert.ok(path in doc.paths, `${path} missing from the OpenAPI document`)
      }
      type Operation = {
        security?: Record<string, string[]>[]
        responses: Record<string, unknown>
        parameters?: { name: string; required: boolean }[]
      }
      const operation = (path: string, method: string) =>
        (doc.paths[path] as Record<string, Operation>)[method] as Operation
      const update = operation('/api/v1/internal/payment/order/update', 'put')
      assert.deepEqual(update.security, [
        { internalTimestamp: [], internalNonce: [], internalSignature: [] },
      ])
      for (const [path, method] of [
        ['/api/v1/payment/create-order', 'post'],
        ['/api/v1/internal/credits/consume', 'post'],
      ] as const) {
        assert.deepEqual(Object.keys(operation(path, method).responses), ['200', '4XX', '5XX'])
      }
      // page and page_size have defaults: a caller may leave them out.
      assert.deepEqual(
        operation('/api/v1/payment/orders', 'get').parameters?.map((p) => [p.name, p.required]),
        [
          ['page', false],
          ['page_size', false],
          ['status', false],
        ],
      )
      const docs = await t.app.inject({ method: 'GET', url: '/docs/' })
      assert.equal(docs.statusCode, 200)
      assert.match(String(docs.headers['content-type']), /text\/html/)
    })

    it('serves every internal call the gateway makes, at the method and path it uses', () => {
      for (const [name, { method, path }] of Object.entries(INTERNAL_ROUTES)) {
        assert.ok(t.app.hasRoute({ method, url: path }), `${name}: ${method} ${path}`)
      }
    })

    it('echoes a request id, or makes one', async () => {
      const given = await t.app.inject({
        method: 'GET',
        url: '/healthz',
        headers: { 'x-request-id': 'req-abc-123' },
      })
      assert.equal(given.headers['x-request-id'], 'req-abc-123')
      const made = await t.app.inject({ method: 'GET', url: '/healthz' })
      assert.ok(
        typeof made.headers['x-request-id'] === 'string' && made.headers['x-request-id'] !== '',
      )
    })

    it('counts orders paid and WeChat calls in /metrics', async () => {
      const { headers } = await t.login('o_metrics')
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/create-order',
        headers,
        payload: { product_id: 'credits_100' },
      })
      const outTradeNo = created.json<{ out_trade_no: string }>().out_trade_no
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/unifiedorder',
        headers,
        payload: { out_trade_no: outTradeNo, trade_type: 'NATIVE' },
      })
      await t.internal('PUT', '/api/v1/internal/payment/order/update', {
        out_trade_no: outTradeNo,
        transaction_id: '4200000000000000200',
        total_fee: 990,
        trade_state: 'SUCCESS',
        paid_at: '2026-11-25T08:00:00.000Z',
      })
      const res = await t.app.inject({ method: 'GET', url: '/metrics' })
      assert.equal(res.statusCode, 200)
      assert.match(res.body, /wxgate_orders_paid_total\{[^}]*source="notification"[^}]*\} 1/)
      assert.match(res.body, /wxgate_wechat_calls_total\{[^}]*api="pay.unifiedOrder"[^}]*\} 1/)
    })

    it('answers an unknown route with NOT_FOUND in the error shape', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/nothing-here' })
      assert.equal(res.statusCode, 404)
      assert.equal(res.json<{ code: string }>().code, 'NOT_FOUND')
    })
  })
}

describe('app with REDIS_URL', () => {
  it('checks Redis in /readyz and rejects a nonce replayed to another instance', async () => {
    const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
    const a = await createTestApp({ dialect: 'sqlite', env: { REDIS_URL: redisUrl } })
    const b = await createTestApp({ dialect: 'sqlite', env: { REDIS_URL: redisUrl } })
    try {
      const ready = await a.app.inject({ method: 'GET', url: '/readyz' })
      assert.equal(ready.statusCode, 200, ready.body)
      assert.ok(ready.json<{ checks: string[] }>().checks.includes('redis'))
      const path = '/api/v1/internal/user/create-or-update'
      const payload = JSON.stringify({ openid: 'o_redis_replay' })
      const headers = {
        'content-type': 'application/json',
        ...signInternalRequest({
          secret: a.config.internal.secret,
          method: 'POST',
          pathAndQuery: path,
          body: payload,
        }),
      }
      const first = await a.app.inject({ method: 'POST', url: path, payload, headers })
      assert.equal(first.statusCode, 200)
      const replay = await b.app.inject({ method: 'POST', url: path, payload, headers })
      assert.equal(replay.statusCode, 401)
    } finally {
      await a.close()
      await b.close()
    }
  })
})

describe('app readiness without its database', () => {
  it('answers /readyz 503 NOT_READY naming the database when it is unreachable', async () => {
    const t = await createTestApp({ dialect: 'sqlite', pay: createFakePay().pay })
    try {
      await t.db.destroy()
      const res = await t.app.inject({ method: 'GET', url: '/readyz' })
      assert.equal(res.statusCode, 503)
      assert.deepEqual(res.json<{ code: string; details: unknown }>(), {
        ...res.json<object>(),
        code: 'NOT_READY',
        details: { failed: ['database'] },
      })
      const health = await t.app.inject({ method: 'GET', url: '/healthz' })
      assert.equal(health.statusCode, 200, 'the process itself is still up')
    } finally {
      await t.close().catch((error: unknown) => {
        // The database was destroyed above on purpose; closing it again may complain.
        assert.ok(error instanceof Error)
      })
    }
  })
})

describe('app readiness with DB_MIGRATE=false', () => {
  it('answers /readyz 503 until the schema is migrated, then 200', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxgate-no-migrate-'))
    const app = await buildApp({
      config: testConfig({ SQLITE_PATH: join(dir, 'app.sqlite'), DB_MIGRATE: 'false' }),
      deps: { pay: createFakePay().pay, logger: false },
    })
    try {
      await app.ready()
      const before = await app.inject({ method: 'GET', url: '/readyz' })
      assert.equal(before.statusCode, 503)
      assert.deepEqual(before.json<{ details: unknown }>().details, { failed: ['database'] })
      // `npm run migrate`, as an operator would run it beside the app.
      const migrator = createDb({ dialect: 'sqlite', path: join(dir, 'app.sqlite') })
      try {
        await migrateToLatest(migrator)
      } finally {
        await migrator.destroy()
      }
      const afterMigrate = await app.inject({ method: 'GET', url: '/readyz' })
      assert.equal(afterMigrate.statusCode, 200)
    } finally {
      await app.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

const execFileAsync = promisify(execFile)

describe('app and the ioredis module', () => {
  // A child process, so nothing this file loads counts: has building an app loaded ioredis?
  async function loadsIoredis(env: Record<string, string>): Promise<boolean> {
    const testApp = new URL('./testing/test-app.ts', import.meta.url).href
    const script = `
      import { createRequire } from 'node:module'
      const { createTestApp } = await import(${JSON.stringify(testApp)})
      const t = await createTestApp({ dialect: 'sqlite', env: ${JSON.stringify(env)} })
      await t.close()
      const loaded = Object.keys(createRequire(import.meta.url).cache)
      console.log(JSON.stringify(loaded.some((p) => /[\\/]node_modules[\\/]ioredis[\\/]/.test(p))))
    `
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: fileURLToPath(new URL('../../..', import.meta.url)) },
    )
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as boolean
  }

  it('loads ioredis only when REDIS_URL is set', async () => {
    assert.equal(await loadsIoredis({}), false)
    const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
    assert.equal(await loadsIoredis({ REDIS_URL: redisUrl }), true)
  })
})
