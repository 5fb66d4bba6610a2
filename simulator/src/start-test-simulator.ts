// Test support: a listening simulator with fixed credentials, a movable clock, and raw JSON/XML helpers.
import { createSimulator } from './simulator.js'
import type { Simulator } from './simulator.js'
import type { SimulatorOptions } from './context.js'

export const TEST_APP_ID = 'wx1234567890abcdef'
export const TEST_SECRET = 'test-app-secret'
export const TEST_TOKEN = 'test-token'
export const TEST_MCH_ID = '1900000109'
export const TEST_PAY_KEY = '192006250b4c09247ec02edce69f6a2d'
export const TEST_AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'

export interface TestSimulator extends Simulator {
  /** GET/POST a platform path and parse the JSON answer. */
  json(path: string, init?: { method?: string; body?: unknown }): Promise<Record<string, unknown>>
  /** A fresh token from cgi-bin/token. */
  accessToken(): Promise<string>
}

export async function startTestSimulator(
  options: Partial<SimulatorOptions> = {},
): Promise<TestSimulator> {
  const sim = await createSimulator({
    appId: TEST_APP_ID,
    appSecret: TEST_SECRET,
    token: TEST_TOKEN,
    mchId: TEST_MCH_ID,
    payApiKey: TEST_PAY_KEY,
    ...options,
  })
  await sim.listen({ host: '127.0.0.1', port: 0 })
  const json: TestSimulator['json'] = async (path, init = {}) => {
    const response = await fetch(`${sim.baseUrl}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      ...(init.body === undefined
        ? {}
        : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    })
    return (await response.json()) as Record<string, unknown>
  }
  return Object.assign(sim, {
    json,
    async accessToken() {
      const answer = await json(
        `/cgi-bin/token?grant_type=client_credential&appid=${TEST_APP_ID}&secret=${TEST_SECRET}`,
      )
      if (typeof answer.access_token !== 'string')
        throw new Error(`no token: ${JSON.stringify(answer)}`)
      return answer.access_token
    },
  })
}
