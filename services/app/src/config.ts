// The app's configuration schema: environment variables parsed into their meaning (STYLE.md §5).
import { env } from '@wxgate/config'
import { createIpAllowlist, DEFAULT_INTERNAL_ALLOWED_IPS } from '@wxgate/internal-api'
import { z } from 'zod'
import {
  BUILT_IN_CATALOG,
  CatalogError,
  readCatalogFile,
  type Product,
} from './products/products.catalog.js'

export type DbConfig =
  | {
      readonly dialect: 'mysql'
      readonly host: string
      readonly port: number
      readonly user: string
      readonly password: string | undefined
      readonly database: string
    }
  | { readonly dialect: 'sqlite'; readonly path: string }

/** The database's variables: all that `npm run migrate` reads. */
const dbFields = {
  MYSQL_HOST: env.optional(),
  MYSQL_PORT: env.port(3306),
  MYSQL_USER: env.optional(),
  MYSQL_PASSWORD: env.optional(),
  MYSQL_DATABASE: env.optional(),
  SQLITE_PATH: env.string('./data/app.sqlite'),
}
type DbFields = z.output<z.ZodObject<typeof dbFields>>

/** MySQL when MYSQL_HOST is set (then MYSQL_USER and MYSQL_DATABASE are required), else SQLite. */
function toDbConfig(raw: DbFields, ctx: z.RefinementCtx): DbConfig {
  const missing = (name: 'MYSQL_USER' | 'MYSQL_DATABASE'): typeof z.NEVER => {
    ctx.addIssue({ code: 'custom', path: [name], message: 'is required when MYSQL_HOST is set' })
    return z.NEVER
  }
  if (raw.MYSQL_HOST === undefined) return { dialect: 'sqlite', path: raw.SQLITE_PATH }
  if (raw.MYSQL_USER === undefined) return missing('MYSQL_USER')
  if (raw.MYSQL_DATABASE === undefined) return missing('MYSQL_DATABASE')
  return {
    dialect: 'mysql',
    host: raw.MYSQL_HOST,
    port: raw.MYSQL_PORT,
    user: raw.MYSQL_USER,
    password: raw.MYSQL_PASSWORD,
    database: raw.MYSQL_DATABASE,
  }
}

/** `npm run migrate`: only the database settings, so a schema can be made before secrets exist. */
export const migrateConfigSchema = z
  .object(dbFields)
  .transform((raw, ctx) => ({ db: toDbConfig(raw, ctx) }))

const rawSchema = z.object({
  APP_HOST: env.string('0.0.0.0'),
  APP_PORT: env.port(8000),
  LOG_LEVEL: env.logLevel(),

  WECHAT_APPID: env.string(),
  WECHAT_SECRET: env.string(),
  // WeChat Pay is optional: without it the app logs users in and keeps credits, and unifiedorder
  // answers 503 PAY_NOT_CONFIGURED. The three come together or not at all.
  WECHAT_PAY_MCHID: env.optional(),
  WECHAT_PAY_API_KEY: env.optional(),
  WECHAT_PAY_NOTIFY_URL: env.url().optional(),
  WECHAT_API_BASE_URL: env.url('https://api.weixin.qq.com'),
  WECHAT_PAY_API_BASE_URL: env.url('https://api.mch.weixin.qq.com'),
  WECHAT_OPEN_BASE_URL: env.url('https://open.weixin.qq.com'),
  WECHAT_MP_BASE_URL: env.url('https://mp.weixin.qq.com'),
  WECHAT_HTTP_PROXY: env.url().optional(),

  ...dbFields,
  DB_MIGRATE: env.boolean(true),

  INTERNAL_API_SECRET: env.secret(32),
  INTERNAL_ALLOWED_IPS: env.csv([...DEFAULT_INTERNAL_ALLOWED_IPS]),
  JWT_SECRET: env.secret(32),
  ADMIN_API_KEY: env.optional(),
  REDIS_URL: env.url(undefined, { protocols: ['redis:', 'rediss:'] }).optional(),
  PRODUCTS_FILE: env.optional(),
  TRUST_PROXY: env.trustProxy(),

  // Any positive lifetime: a few seconds is how a test watches a code or an order expire. The maxima are
  // WeChat's (30 days for a temporary QR code) and a week for an order.
  QR_LOGIN_EXPIRE_S: env.int(300, { min: 1, max: 2_592_000 }),
  ORDER_EXPIRE_S: env.int(7200, { min: 1, max: 604_800 }),
  RECONCILE_INTERVAL_S: env.int(60, { min: 1, max: 86_400 }),
  RECONCILE_MIN_AGE_S: env.int(300, { min: 0, max: 86_400 }),
})

export const appConfigSchema = rawSchema.transform((raw, ctx) => {
  const problem = (name: keyof typeof raw, message: string): typeof z.NEVER => {
    ctx.addIssue({ code: 'custom', path: [name], message })
    return z.NEVER
  }

  const db = toDbConfig(raw, ctx)

  const paySettings = [raw.WECHAT_PAY_MCHID, raw.WECHAT_PAY_API_KEY, raw.WECHAT_PAY_NOTIFY_URL]
  const payMissing = (
    ['WECHAT_PAY_MCHID', 'WECHAT_PAY_API_KEY', 'WECHAT_PAY_NOTIFY_URL'] as const
  ).find((_name, index) => paySettings[index] === undefined)
  if (payMissing !== undefined && paySettings.some((value) => value !== undefined)) {
    return problem(payMissing, 'is required when any WECHAT_PAY_* setting is set')
  }
  const pay =
    raw.WECHAT_PAY_MCHID !== undefined &&
    raw.WECHAT_PAY_API_KEY !== undefined &&
    raw.WECHAT_PAY_NOTIFY_URL !== undefined
      ? {
          mchId: raw.WECHAT_PAY_MCHID,
          apiKey: raw.WECHAT_PAY_API_KEY,
          notifyUrl: raw.WECHAT_PAY_NOTIFY_URL,
          apiBaseUrl: raw.WECHAT_PAY_API_BASE_URL,
        }
      : undefined

  let allowlist: ReturnType<typeof createIpAllowlist>
  try {
    allowlist = createIpAllowlist(raw.INTERNAL_ALLOWED_IPS)
  } catch {
    return problem(
      'INTERNAL_ALLOWED_IPS',
      'must be a comma-separated list of IP addresses or CIDRs',
    )
  }

  let products: readonly Product[] = BUILT_IN_CATALOG
  if (raw.PRODUCTS_FILE !== undefined) {
    try {
      products = readCatalogFile(raw.PRODUCTS_FILE)
    } catch (error) {
      if (!(error instanceof CatalogError)) throw error
      return problem('PRODUCTS_FILE', error.message)
    }
  }

  return {
    host: raw.APP_HOST,
    port: raw.APP_PORT,
    logLevel: raw.LOG_LEVEL,
    wechat: {
      appId: raw.WECHAT_APPID,
      secret: raw.WECHAT_SECRET,
      apiBaseUrl: raw.WECHAT_API_BASE_URL,
      openBaseUrl: raw.WECHAT_OPEN_BASE_URL,
      mpBaseUrl: raw.WECHAT_MP_BASE_URL,
      httpProxy: raw.WECHAT_HTTP_PROXY,
    },
    /** Undefined when WeChat Pay is not configured. */
    pay,
    db,
    dbMigrate: raw.DB_MIGRATE,
    internal: { secret: raw.INTERNAL_API_SECRET, allowlist },
    jwtSecret: raw.JWT_SECRET,
    adminApiKey: raw.ADMIN_API_KEY,
    redisUrl: raw.REDIS_URL,
    products,
    trustProxy: raw.TRUST_PROXY,
    qrLoginExpireS: raw.QR_LOGIN_EXPIRE_S,
    orderExpireS: raw.ORDER_EXPIRE_S,
    reconcile: { intervalS: raw.RECONCILE_INTERVAL_S, minAgeS: raw.RECONCILE_MIN_AGE_S },
  }
})

export type AppConfig = z.output<typeof appConfigSchema>
