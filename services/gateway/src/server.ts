// Starts the gateway: config from the environment (and .env), then listen until SIGTERM.
import { loadConfig } from '@wxgate/config'
import { exitOnStartFailure, runServer } from '@wxgate/service-kit'
import { buildApp } from './app.js'
import { gatewayConfigSchema } from './config.js'

const config = loadConfig(gatewayConfigSchema)
try {
  const app = await buildApp({ config })
  await runServer(app, { host: config.host, port: config.port })
} catch (error) {
  exitOnStartFailure('gateway', error)
}
