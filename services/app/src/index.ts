// @wxgate/app: the App server (buildApp + its config schema), for a program that embeds it.
export { buildApp } from './app.js'
export type { AppDeps } from './app.js'
export { appConfigSchema } from './config.js'
export type { AppConfig } from './config.js'
