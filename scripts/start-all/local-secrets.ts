// The all-in-one's generated secrets: made once with crypto.randomBytes, kept in a 0600 JSON file, reused after.
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** Uniform characters from `alphabet` (rejection sampling: no modulo bias). */
function randomText(length: number, alphabet: string): string {
  const limit = 256 - (256 % alphabet.length)
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length]
    }
  }
  return out
}

/** Every variable the file holds, how to make it and what a kept value must look like. */
const SECRETS = {
  WECHAT_APPID: { make: () => `wx${randomBytes(8).toString('hex')}`, shape: /^wx[0-9a-f]{16}$/ },
  WECHAT_SECRET: { make: () => randomBytes(16).toString('hex'), shape: /^[0-9a-f]{32}$/ },
  WECHAT_TOKEN: { make: () => randomText(32, ALNUM), shape: /^[A-Za-z0-9]{3,32}$/ },
  WECHAT_ENCODING_AES_KEY: { make: () => randomText(43, ALNUM), shape: /^[A-Za-z0-9]{43}$/ },
  WECHAT_PAY_MCHID: { make: () => `1${randomText(9, '0123456789')}`, shape: /^\d{10}$/ },
  WECHAT_PAY_API_KEY: { make: () => randomText(32, ALNUM), shape: /^[A-Za-z0-9]{32}$/ },
  JWT_SECRET: { make: () => randomBytes(32).toString('hex'), shape: /^.{32,}$/ },
  INTERNAL_API_SECRET: { make: () => randomBytes(32).toString('hex'), shape: /^.{32,}$/ },
} as const

export type LocalSecretName = keyof typeof SECRETS
export type LocalSecrets = Record<LocalSecretName, string>

export const LOCAL_SECRET_NAMES = Object.keys(SECRETS) as LocalSecretName[]

export class LocalSecretsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'LocalSecretsError'
  }
}

export interface LoadedSecrets {
  secrets: LocalSecrets
  /** True when the file was written now (first run, or values added to an older file). */
  created: boolean
}

/**
 * Reads the secrets file, making it (mode 0600) or completing it when values are missing. A file that is not
 * JSON, or holds a malformed value, stops the start: overwriting it would silently drop the user's data.
 */
export function loadLocalSecrets(path: string): LoadedSecrets {
  let kept: Record<string, unknown> = {}
  if (existsSync(path)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'))
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new TypeError('not a JSON object')
      }
      kept = parsed as Record<string, unknown>
    } catch (error) {
      throw new LocalSecretsError(`${path} is not a JSON object; fix or delete it`, {
        cause: error,
      })
    }
    // A file copied around may have lost its mode; these are credentials.
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600)
  }
  const secrets = {} as LocalSecrets
  let missing = false
  for (const name of LOCAL_SECRET_NAMES) {
    const value = kept[name]
    if (value === undefined) {
      secrets[name] = SECRETS[name].make()
      missing = true
    } else if (typeof value !== 'string' || !SECRETS[name].shape.test(value)) {
      throw new LocalSecretsError(`${path}: ${name} is malformed; fix or delete the file`)
    } else {
      secrets[name] = value
    }
  }
  if (missing) {
    const temp = `${path}.${process.pid}.tmp`
    writeFileSync(temp, `${JSON.stringify({ ...kept, ...secrets }, null, 2)}\n`, { mode: 0o600 })
    renameSync(temp, path)
  }
  return { secrets, created: missing }
}
