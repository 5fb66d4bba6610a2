// `npm run simulator`: the simulator alone, configured from the environment (defaults match `npm start`).
import { createSimulator } from './simulator.js'
import type { PushMode } from './context.js'

const env = process.env
const pushMode = (env.SIMULATOR_PUSH_MODE ??
  (env.WECHAT_ENCODING_AES_KEY ? 'safe' : 'plaintext')) as PushMode
if (!['plaintext', 'compatible', 'safe'].includes(pushMode)) {
  console.error('simulator: SIMULATOR_PUSH_MODE must be plaintext, compatible or safe')
  process.exit(1)
}
const port = Number(env.SIMULATOR_PORT ?? '8002')
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('simulator: SIMULATOR_PORT must be a port number')
  process.exit(1)
}
const timeScale = Number(env.SIMULATOR_TIME_SCALE ?? '1')

const sim = await createSimulator({
  appId: env.WECHAT_APPID ?? 'wx0000000000000000',
  appSecret: env.WECHAT_SECRET ?? 'simulator-app-secret',
  token: env.WECHAT_TOKEN ?? 'simulator-token',
  ...(env.WECHAT_ENCODING_AES_KEY ? { encodingAesKey: env.WECHAT_ENCODING_AES_KEY } : {}),
  mchId: env.WECHAT_PAY_MCHID ?? '1900000001',
  payApiKey: env.WECHAT_PAY_API_KEY ?? 'simulatorpayapikey00000000000000',
  pushUrl:
    env.SIMULATOR_PUSH_URL ??
    `http://127.0.0.1:${env.GATEWAY_PORT ?? '8001'}/api/v1/auth/wechat/verify`,
  pushMode,
  ...(env.SIMULATOR_ORIGINAL_ID ? { originalId: env.SIMULATOR_ORIGINAL_ID } : {}),
  timeScale: Number.isFinite(timeScale) && timeScale > 0 ? timeScale : 1,
})
const url = await sim.listen({ host: env.SIMULATOR_HOST ?? '127.0.0.1', port })
console.log(`WeChat simulator listening on ${url} (control API: ${url}/_sim/state)`)

const stop = (): void => {
  sim.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('simulator: close failed', error)
      process.exit(1)
    },
  )
}
// As the services stop (service-kit's STOP_SIGNALS): a closed terminal hangs up the whole group.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, stop)
