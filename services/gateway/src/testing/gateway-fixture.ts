// Builds a gateway for tests: config from test variables, a temp spool dir, fast backoff, silent logs.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { parseConfig } from '@wxgate/config'
import { buildApp } from '../app.js'
import type { GatewayDeps } from '../app.js'
import { gatewayConfigSchema } from '../config.js'
import type { GatewayConfig } from '../config.js'

export const TEST = {
  appId: 'wx1234567890abcdef',
  token: 'test-token',
  aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  secret: 'an-internal-secret-of-at-least-32-chars!',
  mchId: '1900000109',
  payKey: '0123456789abcdefghijklmnopqrstuv',
} as const

export function testConfig(env: Record<string, string | undefined>): GatewayConfig {
  const result = parseConfig(gatewayConfigSchema, {
    WECHAT_APPID: TEST.appId,
    WECHAT_TOKEN: TEST.token,
    INTERNAL_API_SECRET: TEST.secret,
    WECHAT_PAY_MCHID: TEST.mchId,
    WECHAT_PAY_API_KEY: TEST.payKey,
    ...env,
  })
  if (!result.ok) throw new Error(`test config: ${result.problems.join('; ')}`)
  return result.value
}

export interface TestGateway {
  app: FastifyInstance
  config: GatewayConfig
  spoolDir: string
  /** Closes the app; removes the spool dir unless it was given (a restart test reuses it). */
  close(): Promise<void>
}

export async function startGateway(options: {
  appUrl: string
  env?: Record<string, string | undefined>
  deps?: GatewayDeps
  spoolDir?: string
}): Promise<TestGateway> {
  const spoolDir = options.spoolDir ?? (await mkdtemp(join(tmpdir(), 'gateway-test-')))
  const config = testConfig({ APP_SERVER_URL: options.appUrl, ...options.env })
  const app = await buildApp({
    config,
    deps: {
      spoolDir,
      logger: false,
      spoolBackoff: { initialMs: 10, maxMs: 50 },
      spoolDeliveryTimeoutMs: 1000,
      ...options.deps,
    },
  })
  await app.ready()
  return {
    app,
    config,
    spoolDir,
    async close() {
      await app.close()
      if (options.spoolDir === undefined) await rm(spoolDir, { recursive: true, force: true })
    },
  }
}
