// The gateway's configuration schema: only what answering WeChat needs, parsed into meaning (no DB keys).
import { z } from 'zod'
import { env } from '@wxgate/config'
import { decodeEncodingAesKey } from '@wxgate/wechat'

const encodingAesKey = env.optional().transform((raw, ctx): Buffer | undefined => {
  if (raw === undefined) return undefined
  try {
    return decodeEncodingAesKey(raw)
  } catch {
    // The reason is always the same and the value is a secret: say what is expected instead.
    ctx.addIssue({ code: 'custom', message: 'must be 43 characters of [A-Za-z0-9]' })
    return z.NEVER
  }
})

const variables = z.object({
  WECHAT_APPID: env.string(),
  WECHAT_TOKEN: env.string(),
  INTERNAL_API_SECRET: env.secret(32),
  WECHAT_ENCODING_AES_KEY: encodingAesKey,
  WECHAT_PUSH_MAX_AGE_S: env.int(300, { min: 1, max: 86_400 }),
  WECHAT_PUSH_ENCRYPTED_ONLY: env.boolean(false),
  WECHAT_PAY_MCHID: env.optional(),
  WECHAT_PAY_API_KEY: env.optional(),
  GATEWAY_HOST: env.string('0.0.0.0'),
  GATEWAY_PORT: env.port(8001),
  APP_SERVER_URL: env.url('http://127.0.0.1:8000'),
  GATEWAY_SPOOL_DIR: env.string('./data/spool'),
  REDIS_URL: env.url(undefined, { protocols: ['redis:', 'rediss:'] }).optional(),
  TRUST_PROXY: env.trustProxy(),
  GATEWAY_WELCOME_TEXT: env.string('Welcome! Thanks for following us.'),
  GATEWAY_LOGIN_SUCCESS_TEXT: env.string('Login successful. You can go back to the page now.'),
  GATEWAY_DEFAULT_REPLY_TEXT: env.optional(),
  LOG_LEVEL: env.logLevel(),
})

/** Environment variables → the gateway's config. Pay settings come as a pair or not at all. */
export const gatewayConfigSchema = variables
  .superRefine((v, ctx) => {
    if (v.WECHAT_PUSH_ENCRYPTED_ONLY && v.WECHAT_ENCODING_AES_KEY === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['WECHAT_ENCODING_AES_KEY'],
        message: 'is required when WECHAT_PUSH_ENCRYPTED_ONLY is true',
      })
    }
    if (v.WECHAT_PAY_MCHID !== undefined && v.WECHAT_PAY_API_KEY === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['WECHAT_PAY_API_KEY'],
        message: 'is required when WECHAT_PAY_MCHID is set',
      })
    }
    if (v.WECHAT_PAY_API_KEY !== undefined && v.WECHAT_PAY_MCHID === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['WECHAT_PAY_MCHID'],
        message: 'is required when WECHAT_PAY_API_KEY is set',
      })
    }
  })
  .transform((v) => ({
    host: v.GATEWAY_HOST,
    port: v.GATEWAY_PORT,
    logLevel: v.LOG_LEVEL,
    trustProxy: v.TRUST_PROXY,
    appServerUrl: v.APP_SERVER_URL,
    internalApiSecret: v.INTERNAL_API_SECRET,
    redisUrl: v.REDIS_URL,
    spoolDir: v.GATEWAY_SPOOL_DIR,
    wechat: {
      appId: v.WECHAT_APPID,
      token: v.WECHAT_TOKEN,
      /** The 32 decoded key bytes; undefined = plaintext mode only. */
      encodingAesKey: v.WECHAT_ENCODING_AES_KEY,
      pushMaxAgeS: v.WECHAT_PUSH_MAX_AGE_S,
      /**
       * Refuse plaintext pushes (401). No signature covers a plaintext body, so whoever sees one push's query
       * can send any body under it until its timestamp is stale; in safe or compatible mode WeChat always
       * encrypts, and this closes that door. Off by default: plaintext mode must keep working.
       */
      encryptedOnly: v.WECHAT_PUSH_ENCRYPTED_ONLY,
    },
    /** Undefined = payment notifications are answered FAIL (WeChat keeps them for 24 h). */
    pay:
      v.WECHAT_PAY_MCHID !== undefined && v.WECHAT_PAY_API_KEY !== undefined
        ? { mchId: v.WECHAT_PAY_MCHID, apiKey: v.WECHAT_PAY_API_KEY }
        : undefined,
    replies: {
      welcome: v.GATEWAY_WELCOME_TEXT,
      loginSuccess: v.GATEWAY_LOGIN_SUCCESS_TEXT,
      /** Reply to anything else; undefined = `success`. */
      fallback: v.GATEWAY_DEFAULT_REPLY_TEXT,
    },
  }))

export type GatewayConfig = z.output<typeof gatewayConfigSchema>
