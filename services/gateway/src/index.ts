// @wxgate/gateway: the Web server WeChat calls (buildApp + its config schema), for tests and start-all.
export { buildApp } from './app.js'
export type { GatewayDeps } from './app.js'
export { gatewayConfigSchema } from './config.js'
export type { GatewayConfig } from './config.js'
