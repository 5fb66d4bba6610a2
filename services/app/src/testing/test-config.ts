// Test support: a valid app config from a minimal environment, plus overrides.
import { parseConfig } from '@wxgate/config'
import { appConfigSchema, type AppConfig } from '../config.js'

export const TEST_ENV = {
  WECHAT_APPID: 'wx1234567890abcdef',
  WECHAT_SECRET: 'test-app-secret-0123456789abcdef',
  WECHAT_PAY_MCHID: '1900000109',
  WECHAT_PAY_API_KEY: '192006250b4c09247ec02edce69f6a2d',
  WECHAT_PAY_NOTIFY_URL: 'https://example.com/api/v1/payment/notify',
  INTERNAL_API_SECRET: 'internal-secret-0123456789abcdef-xyz',
  JWT_SECRET: 'jwt-secret-0123456789abcdef-0123456789',
  SQLITE_PATH: ':memory:',
  LOG_LEVEL: 'silent',
} as const

export function testConfig(overrides: Record<string, string | undefined> = {}): AppConfig {
  const result = parseConfig(appConfigSchema, { ...TEST_ENV, ...overrides })
  if (!result.ok) throw new Error(`test config invalid: ${result.problems.join('; ')}`)
  return result.value
}
