// @wxgate/config: the one place that reads configuration (.env + environment, validated by zod).
export { loadConfig, parseConfig, deepFreeze, ConfigError } from './load-config.js'
export type { ConfigEnv, LoadConfigOptions, ParseConfigResult } from './load-config.js'
export { readEnvFile, parseEnvFile, EnvFileError } from './env-file.js'
export { env, isProxyAddress } from './env-fields.js'
export type { TrustProxy } from './env-fields.js'
