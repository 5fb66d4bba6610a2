// app while a dependency is away (Redis, the database): what still works, what refuses how, and that it
// still shuts down.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import { closedPort, stalledPort } from '@wxgate/service-kit/testing'
import { buildApp } from './app.js'
import { createDb } from './db/create-db.js'
import type { Database } from './db/database.js'
import { createTestApp, type TestApp } from './testing/test-app.js'
import { testConfig } from './testing/test-config.js'

describe('app while Redis is unreachable', () => {
  let t: TestApp
  before(async () => {
    t = await createTestApp({
      dialect: 'sqlite',
      env: { REDIS_URL: `redis://127.0.0.1:${await closedPort()}` },
    })
  })
  after(async () => {
    await t?.close()
  })

  it('still serves the login endpoints: the rate limit lets requests through', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/wechat/authorize-url',
      query: { redirect_uri: 'https://example.com/back', scope: 'snsapi_base' },
    })
    assert.equal(res.statusCode, 200, res.body)
    assert.ok(res.json<{ state: string }>().state.length > 0)
  })

  it('refuses signed internal calls with 503 (retryable) and changes nothing', async () => {
    const res = await t.internal('POST', '/api/v1/internal/user/create-or-update', {
      openid: 'o_redis_down',
      subscribed: true,
    })
    assert.equal(res.statusCode, 503, res.body)
    assert.equal(res.json<{ code: string }>().code, 'INTERNAL_REPLAY_CHECK_UNAVAILABLE')
    assert.equal(await t.app.ctx.users.findByOpenId('o_redis_down'), undefined)
  })

  it('says it is not ready', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readyz' })
    assert.equal(res.statusCode, 503)
  })

  it('closes without waiting for Redis (what SIGTERM calls)', async () => {
    // app.close() rejected here before: QUIT cannot be sent to a Redis that is away.
    await t.app.close()
  })
})

describe('app while Redis accepts connections and never answers', () => {
  let t: TestApp
  let redis: Awaited<ReturnType<typeof stalledPort>>
  before(async () => {
    redis = await stalledPort()
    t = await createTestApp({
      dialect: 'sqlite',
      env: { REDIS_URL: `redis://127.0.0.1:${redis.port}` },
    })
  })
  after(async () => {
    await t?.close()
    await redis?.close()
  })

  /** The answer, or a failure once `ms` have passed: without a command timeout these never came. */
  async function answered<T>(request: Promise<T>, ms = 10_000): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const hung = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    })
    try {
      return await Promise.race([request, hung])
    } finally {
      clearTimeout(timer)
    }
  }

  it('still serves the login endpoints, and refuses internal calls with a retryable 503', async () => {
    const login = await answered(
      t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/wechat/authorize-url',
        query: { redirect_uri: 'https://example.com/back', scope: 'snsapi_base' },
      }),
    )
    assert.equal(login.statusCode, 200, login.body)
    const internal = await answered(
      t.internal('POST', '/api/v1/internal/user/create-or-update', {
        openid: 'o_redis_stalled',
        subscribed: true,
      }),
    )
    assert.equal(internal.statusCode, 503, internal.body)
    assert.equal(internal.json<{ code: string }>().code, 'INTERNAL_REPLAY_CHECK_UNAVAILABLE')
    assert.equal(await t.app.ctx.users.findByOpenId('o_redis_stalled'), undefined)
  })
})

describe('app while its database cannot serve', () => {
  const cases: { name: string; db: () => Promise<Kysely<Database>> }[] = [
    {
      name: 'an embedded database that was never migrated (DB_MIGRATE=false)',
      db: () => Promise.resolve(createDb({ dialect: 'sqlite', path: ':memory:' })),
    },
    {
      name: 'a MySQL server that refuses connections',
      db: async () =>
        createDb({
          dialect: 'mysql',
          host: '127.0.0.1',
          port: await closedPort(),
          user: 'root',
          password: undefined,
          database: 'wxgate',
        }),
    },
  ]
  for (const { name, db: openDb } of cases) {
    describe(name, () => {
      let app: FastifyInstance
      let db: Kysely<Database>
      before(async () => {
        db = await openDb()
        app = await buildApp({ config: testConfig(), deps: { db, logger: false } })
        await app.ready()
      })
      after(async () => {
        await app.close()
        await db.destroy()
      })

      it('answers 503 DATABASE_UNAVAILABLE (retryable), not 500', async () => {
        const products = await app.inject({ method: 'GET', url: '/api/v1/payment/products' })
        assert.equal(products.statusCode, 200, 'what needs no database still works')
        const qr = await app.inject({
          method: 'GET',
          url: '/api/v1/auth/wechat/check-follow',
          query: { scene_str: 'login_unknown' },
        })
        assert.equal(qr.statusCode, 503, qr.body)
        assert.deepEqual(qr.json(), {
          code: 'DATABASE_UNAVAILABLE',
          message: 'The database is unavailable; retry later',
        })
        assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503)
      })
    })
  }
})
