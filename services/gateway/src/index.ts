// @wxgate/gateway: the Web server WeChat calls (buildApp + its config schema), for a program that embeds it.
export { buildApp } from './app.js'
export type { GatewayDeps } from './app.js'
export { gatewayConfigSchema } from './config.js'
export type { GatewayConfig } from './config.js'
