// `npm run start:app`: load config (one line per bad variable, exit 1), build, listen, drain on SIGTERM.
import { loadConfig } from '@wxgate/config'
import { exitOnStartFailure, runServer } from '@wxgate/service-kit'
import { buildApp } from './app.js'
import { appConfigSchema } from './config.js'

const config = loadConfig(appConfigSchema)
try {
  const app = await buildApp({ config })
  await runServer(app, { host: config.host, port: config.port })
} catch (error) {
  exitOnStartFailure('app', error)
}
