// loadConfig: .env + environment (environment wins), validated by zod, one line per bad variable.
import type { z } from 'zod'
import { EnvFileError, readEnvFile } from './env-file.js'

export type ConfigEnv = Readonly<Record<string, string | undefined>>

export type ParseConfigResult<T> = { ok: true; value: T } | { ok: false; problems: string[] }

/** Thrown by `loadConfig({ exit: false })`; `problems` are the lines that would be printed. */
export class ConfigError extends Error {
  readonly problems: readonly string[]

  constructor(problems: readonly string[], options?: ErrorOptions) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`, options)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

export interface LoadConfigOptions {
  /** Defaults to `process.env`. */
  env?: ConfigEnv
  /** Path of the .env file (relative to the working directory); `false` skips it. */
  envFile?: string | false
  /** Print the problems to stderr and exit 1 (default); `false` throws a `ConfigError` instead. */
  exit?: boolean
}

// Messages for zod's own issues (a service's plain `z.string()`), phrased after the variable name.
// None of them includes the input: a config value may be a secret.
const errorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${issue.expected}`
    case 'too_small':
      return issue.origin === 'string'
        ? `must be at least ${String(issue.minimum)} characters long`
        : `must be at least ${String(issue.minimum)}`
    case 'too_big':
      return issue.origin === 'string'
        ? `must be at most ${String(issue.maximum)} characters long`
        : `must be at most ${String(issue.maximum)}`
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`
    case 'invalid_format':
      return `must be a valid ${issue.format}`
    case 'custom':
    case 'invalid_element':
    case 'invalid_key':
    case 'invalid_union':
    case 'not_multiple_of':
    case 'unrecognized_keys':
    default:
      return 'is invalid'
  }
}

/** Empty strings mean "unset" (a blank `FOO=` line or an exported empty variable). */
function withoutEmpty(env: ConfigEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') out[name] = value
  }
  return out
}

/** Pure: validates `env` against `schema`, one problem line per bad variable, value deep-frozen. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: ConfigEnv,
): ParseConfigResult<z.output<S>> {
  const result = schema.safeParse(withoutEmpty(env), { error: errorMap })
  if (result.success) return { ok: true, value: deepFreeze(result.data) }
  const problems: string[] = []
  const seen = new Set<string>()
  for (const issue of result.error.issues) {
    const name = issue.path.length > 0 ? String(issue.path[0]) : ''
    if (seen.has(name)) continue
    seen.add(name)
    problems.push(name === '' ? issue.message : `${name} ${issue.message}`)
  }
  return { ok: false, problems }
}

/**
 * Reads `.env` (if present), overlays the environment, validates. On failure prints
 * `config: NAME problem` per bad variable to stderr and exits 1 (or throws with `exit: false`).
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  options: LoadConfigOptions = {},
): z.output<S> {
  const { env = process.env, envFile = '.env', exit = true } = options
  let problems: string[]
  let cause: unknown
  try {
    const fileEnv = envFile === false ? {} : readOptionalEnvFile(envFile)
    // A variable present in the environment wins over the file, even when empty (as dotenv does).
    const result = parseConfig(schema, { ...fileEnv, ...env })
    if (result.ok) return result.value
    problems = result.problems
  } catch (error) {
    if (!(error instanceof EnvFileError)) throw error
    problems = [`${String(envFile)} ${error.message}`]
    cause = error
  }
  if (!exit) throw new ConfigError(problems, { cause })
  for (const problem of problems) process.stderr.write(`config: ${problem}\n`)
  process.exit(1)
}

function readOptionalEnvFile(path: string): Record<string, string> {
  try {
    return readEnvFile(path)
  } catch (error) {
    if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string')
      throw error
    if (error.code === 'ENOENT') return {}
    // Unreadable (EACCES, EISDIR, …): one line like any other problem, not a stack trace.
    throw new EnvFileError(`cannot be read (${error.code})`, 0, { cause: error })
  }
}

/** Freezes plain objects and arrays recursively; Buffers, URLs and class instances are left as they are. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value
  const proto = Object.getPrototypeOf(value) as unknown
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return value
  Object.freeze(value)
  for (const child of Object.values(value)) deepFreeze(child)
  return value
}
