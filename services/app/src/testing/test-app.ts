// Test support: a built app on a fresh database of one dialect, with helpers to sign in and call internal APIs.
import { signInternalRequest } from '@wxgate/internal-api'
import type { WeChatApiClient } from '@wxgate/wechat'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Kysely } from 'kysely'
import { buildApp } from '../app.js'
import type { AppConfig } from '../config.js'
import type { Database } from '../db/database.js'
import { createTestDatabase, type TestDialect } from '../db/test-databases.js'
import type { PayApi } from '../wechat/pay-api.js'
import { testConfig } from './test-config.js'

export interface TestApp {
  app: FastifyInstance
  config: AppConfig
  /** The app's database, for what a test checks beneath the API. */
  db: Kysely<Database>
  dialect: TestDialect
  /** Creates (or reuses) the user and returns a Bearer token for it. */
  login(
    openId: string,
  ): Promise<{ token: string; userId: number; headers: { authorization: string } }>
  /** A correctly signed internal call. */
  internal(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
    options?: { remoteAddress?: string; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>
  close(): Promise<void>
}

export async function createTestApp({
  dialect,
  pay,
  wechatApi,
  now,
  env = {},
}: {
  dialect: TestDialect
  pay?: PayApi
  wechatApi?: WeChatApiClient
  now?: () => number
  env?: Record<string, string | undefined>
}): Promise<TestApp> {
  const database = await createTestDatabase(dialect)
  const config = testConfig(env)
  let app: FastifyInstance
  try {
    app = await buildApp({
      config,
      deps: {
        db: database.db,
        ...(pay !== undefined ? { pay } : {}),
        ...(wechatApi !== undefined ? { wechatApi } : {}),
        ...(now !== undefined ? { now } : {}),
        logger: false,
      },
    })
    await app.ready()
  } catch (error) {
    await database.destroy()
    throw error
  }

  return {
    app,
    config,
    db: database.db,
    dialect,
    async login(openId) {
      const { user } = await app.ctx.users.createOrUpdate({ openId, subscribed: true })
      const { token } = await app.ctx.sessions.issue({ userId: user.id, openId })
      return { token, userId: user.id, headers: { authorization: `Bearer ${token}` } }
    },
    async internal(method, path, body, options = {}) {
      const payload = body === undefined ? '' : JSON.stringify(body)
      const signed = signInternalRequest({
        secret: config.internal.secret,
        method,
        pathAndQuery: path,
        body: payload,
        timestamp: Math.floor((now ?? Date.now)() / 1000),
      })
      return app.inject({
        method,
        url: path,
        payload,
        remoteAddress: options.remoteAddress ?? '127.0.0.1',
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...signed,
          ...options.headers,
        },
      })
    },
    async close() {
      await app.close()
      await database.destroy()
    },
  }
}
