// WeChat's messages built with the protocol package, genuine or forged: pay notifications and signed pushes.
import {
  buildEnvelope,
  buildPayNotification,
  buildXml,
  computeSignature,
  createMessageCrypto,
  randomNonce,
} from '@wxgate/wechat'
import type { PaySignType } from '@wxgate/wechat'
import type { TopologySecrets } from './harness.js'

export const NOTIFY_PATH = '/api/v1/payment/notify'
export const VERIFY_PATH = '/api/v1/auth/wechat/verify'

/** A payment as WeChat Pay recorded it (what `sim.phone.pay` returns). */
export interface PaidOrder {
  outTradeNo: string
  transactionId: string
  timeEnd: string
  openId: string
  totalFee: number
}

/** The fields WeChat Pay sends in a v2 result notification (a fresh nonce_str each time). */
export function payNotificationFields(
  secrets: TopologySecrets,
  paid: PaidOrder,
  tradeType = 'NATIVE',
): Record<string, string | number> {
  return {
    appid: secrets.appId,
    bank_type: 'OTHERS',
    cash_fee: paid.totalFee,
    fee_type: 'CNY',
    is_subscribe: 'Y',
    mch_id: secrets.mchId,
    nonce_str: randomNonce(32),
    openid: paid.openId,
    out_trade_no: paid.outTradeNo,
    result_code: 'SUCCESS',
    return_code: 'SUCCESS',
    time_end: paid.timeEnd,
    total_fee: paid.totalFee,
    trade_type: tradeType,
    transaction_id: paid.transactionId,
  }
}

/** A signed notification; `apiKey` other than the merchant's forges the sign. */
export function payNotificationXml(
  secrets: TopologySecrets,
  paid: PaidOrder,
  options: {
    overrides?: Record<string, string | number>
    apiKey?: string
    signType?: PaySignType
  } = {},
): string {
  const fields = { ...payNotificationFields(secrets, paid), ...options.overrides }
  if (options.signType === 'HMAC-SHA256') fields.sign_type = 'HMAC-SHA256'
  return buildPayNotification(fields, options.apiKey ?? secrets.payApiKey, options.signType)
}

/** The URL signature WeChat puts on every push (`signature`, `timestamp`, `nonce`). */
export function pushQuery(
  token: string,
  at: { timestamp?: number; nonce?: string } = {},
): Record<string, string> {
  const timestamp = String(at.timestamp ?? Math.floor(Date.now() / 1000))
  const nonce = at.nonce ?? String(100_000_000 + Math.floor(Math.random() * 800_000_000))
  return { signature: computeSignature([token, timestamp, nonce]), timestamp, nonce }
}

/** An event push as WeChat composes it (before encryption). */
export function eventXml(input: {
  toUser: string
  fromUser: string
  event: string
  eventKey?: string
  createTime?: number
  extra?: Record<string, string>
}): string {
  return buildXml({
    ToUserName: input.toUser,
    FromUserName: input.fromUser,
    CreateTime: input.createTime ?? Math.floor(Date.now() / 1000),
    MsgType: 'event',
    Event: input.event,
    EventKey: input.eventKey,
    ...input.extra,
  })
}

export interface SafePush {
  /** Path and query for the verify URL. */
  path: string
  body: string
}

/**
 * A safe-mode push (encrypt_type=aes): `plainXml` encrypted with `encodingAesKey` for `appId`, the URL and the
 * message signed with `token`. Any of them can be swapped to forge one part.
 */
export function safePush(
  secrets: TopologySecrets,
  plainXml: string,
  options: {
    token?: string
    encodingAesKey?: string
    appId?: string
    timestamp?: number
    msgSignature?: string
    openId?: string
  } = {},
): SafePush {
  const token = options.token ?? secrets.token
  const crypto = createMessageCrypto({
    token,
    encodingAesKey: options.encodingAesKey ?? secrets.encodingAesKey,
    appId: options.appId ?? secrets.appId,
  })
  const query = pushQuery(
    token,
    options.timestamp === undefined ? {} : { timestamp: options.timestamp },
  )
  const encrypt = crypto.encrypt(plainXml)
  const params = new URLSearchParams({
    ...query,
    openid: options.openId ?? 'o_attacker',
    encrypt_type: 'aes',
    msg_signature:
      options.msgSignature ??
      crypto.msgSignature(query.timestamp ?? '', query.nonce ?? '', encrypt),
  })
  return {
    path: `${VERIFY_PATH}?${params.toString()}`,
    body: buildEnvelope({ toUserName: 'gh_0123456789ab', encrypt }),
  }
}
