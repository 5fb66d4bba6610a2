// Test support for the features that talk to WeChat (login, QR codes, menus): app (buildApp) on a fresh
// test database, wired to a WeChat simulator, with a clock the test moves. testing/test-app.ts is the
// lighter harness, with fakes instead of the simulator.
import { signInternalRequest } from '@wxgate/internal-api'
import { createSimulator } from '@wxgate/simulator'
import type { Simulator } from '@wxgate/simulator'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../app.js'
import type { AppConfig } from '../config.js'
import { createTestDatabase } from '../db/test-databases.js'
import type { TestDatabase, TestDialect } from '../db/test-databases.js'
import { TEST_ENV, testConfig } from './test-config.js'

export interface LoginTestApp {
  app: FastifyInstance
  sim: Simulator
  database: TestDatabase
  config: AppConfig
  /** App's clock (unix ms): starts at the real time, moves only with `advance`. */
  now(): number
  advance(ms: number): void
  /** A correctly signed internal call (`path` as in INTERNAL_ROUTES, as TestApp's `internal` takes it). */
  internal(method: 'POST' | 'PUT', path: string, body: unknown): Promise<LightMyRequestResponse>
  close(): Promise<void>
}

export async function startLoginTestApp(
  dialect: TestDialect,
  env: Record<string, string> = {},
): Promise<LoginTestApp> {
  const sim = await createSimulator({
    appId: TEST_ENV.WECHAT_APPID,
    appSecret: TEST_ENV.WECHAT_SECRET,
    token: 'wechat-token',
    mchId: '1900000109',
    payApiKey: 'pay-api-key-0123456789abcdef01234',
  })
  const database = await createTestDatabase(dialect)
  try {
    const baseUrl = await sim.listen({ host: '127.0.0.1', port: 0 })
    const config = testConfig({
      WECHAT_PAY_MCHID: '1900000109',
      WECHAT_PAY_API_KEY: 'pay-api-key-0123456789abcdef01234',
      WECHAT_API_BASE_URL: baseUrl,
      WECHAT_PAY_API_BASE_URL: baseUrl,
      WECHAT_OPEN_BASE_URL: baseUrl,
      WECHAT_MP_BASE_URL: baseUrl,
      ...env,
    })
    let clock = Date.now()
    const now = (): number => clock
    const app = await buildApp({ config, deps: { db: database.db, now } })
    await app.ready()
    return {
      app,
      sim,
      database,
      config,
      now,
      advance(ms) {
        clock += ms
      },
      internal(method, pathAndQuery, body) {
        const payload = JSON.stringify(body)
        const headers = signInternalRequest({
          secret: config.internal.secret,
          method,
          pathAndQuery,
          body: payload,
          timestamp: Math.floor(clock / 1000),
        })
        return app.inject({
          method,
          url: pathAndQuery,
          payload,
          headers: { ...headers, 'content-type': 'application/json' },
        })
      },
      async close() {
        await app.close()
        await sim.close()
        await database.destroy()
      },
    }
  } catch (error) {
    await sim.close()
    await database.destroy()
    throw error
  }
}
