// Outbound WeChat Pay API v2 client: unifiedorder, orderquery, closeorder and JSAPI pay parameters.
import type { Dispatcher } from 'undici'
import { randomNonce } from '../crypto/random-nonce.js'
import { WeChatPayError, WeChatProtocolError, WeChatTransportError } from '../errors.js'
import { exchange } from '../http/exchange.js'
import { signPayParams, verifyPayParams } from './pay-sign.js'
import type { PayParams, PaySignType } from './pay-sign.js'
import { beijingTimeToDate, dateToBeijingTime } from './pay-time.js'
import {
  optionalPayField,
  parsePayFee,
  parsePayXml,
  renderSignedPayXml,
  requirePayField,
} from './pay-xml.js'
import type { PayFields } from './pay-xml.js'

export interface PayClientOptions {
  appId: string
  mchId: string
  apiKey: string
  /** `https://api.mch.weixin.qq.com` in production; a path prefix (simulator) is kept. */
  baseUrl: string
  /** Algorithm of every request, of the JSAPI paySign and expected of answers (default MD5). */
  signType?: PaySignType
  dispatcher?: Dispatcher
  /** Whole-call deadline, connect to last body byte (default 10 000 ms). */
  timeoutMs?: number
  /** `nonce_str` source (default 32 characters of `[A-Za-z0-9]` from the CSPRNG). */
  nonce?: () => string
  /** Clock in epoch milliseconds (default `Date.now`). */
  now?: () => number
}

export interface PayCallOptions {
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number
}

export type PayTradeType = 'JSAPI' | 'NATIVE' | 'MWEB'

export interface UnifiedOrderInput {
  outTradeNo: string
  body: string
  /** Amount in fen, a positive integer. */
  totalFee: number
  spbillCreateIp: string
  notifyUrl: string
  tradeType: PayTradeType
  /** Required for JSAPI: the payer's openid under this appid. */
  openId?: string
  /** Required for NATIVE. */
  productId?: string
  /** Required for MWEB: `{"h5_info": {...}}`, as a JSON string or an object. */
  sceneInfo?: string | Record<string, unknown>
  timeExpire?: Date
  attach?: string
}

export interface UnifiedOrderResult {
  tradeType: PayTradeType
  prepayId: string
  codeUrl?: string
  mwebUrl?: string
}

export type PayTradeState =
  'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR'

export interface OrderQueryResult {
  tradeState: PayTradeState
  tradeStateDesc?: string
  outTradeNo: string
  transactionId?: string
  totalFee?: number
  timeEnd?: string
  paidAt?: Date
  openId?: string
  fields: PayFields
}

/** The object `WeixinJSBridge.invoke('getBrandWCPayRequest', …)` takes (keys are case-sensitive). */
export interface JsapiPayParams {
  appId: string
  timeStamp: string
  nonceStr: string
  package: string
  signType: PaySignType
  paySign: string
}

export interface PayClient {
  unifiedOrder(input: UnifiedOrderInput, options?: PayCallOptions): Promise<UnifiedOrderResult>
  orderQuery(input: { outTradeNo: string }, options?: PayCallOptions): Promise<OrderQueryResult>
  /** Resolves once closed; `ORDERPAID`/`ORDERCLOSED` come as `WeChatPayError` with that `errCode`. */
  closeOrder(input: { outTradeNo: string }, options?: PayCallOptions): Promise<void>
  jsapiPayParams(prepayId: string, options?: { now?: Date; nonce?: string }): JsapiPayParams
}

const TRADE_STATES: ReadonlySet<string> = new Set<PayTradeState>([
  'SUCCESS',
  'REFUND',
  'NOTPAY',
  'CLOSED',
  'REVOKED',
  'USERPAYING',
  'PAYERROR',
])
const DEFAULT_TIMEOUT_MS = 10_000
/** Same ceiling the XML codec applies; a bigger answer is not WeChat's. */
const MAX_ANSWER_BYTES = 65_536

/**
 * Creates the v2 client. Every call signs its request, checks the answer's `sign` (and `appid`/`mch_id`
 * when present) before reading it, and maps failures to typed errors:
 * network, timeout, non-200 or non-XML → `WeChatTransportError`; `return_code`/`result_code` FAIL →
 * `WeChatPayError`; bad answer sign → `WeChatProtocolError('SIGNATURE_MISMATCH')`.
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1
 */
export function createPayClient(options: PayClientOptions): PayClient {
  const { appId, mchId, apiKey, dispatcher } = options
  const signType = options.signType ?? 'MD5'
  const defaultTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const nonce = options.nonce ?? (() => randomNonce(32))
  const now = options.now ?? Date.now
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  assertTimeout(defaultTimeoutMs)

  async function call(
    api: string,
    params: PayParams,
    callOptions?: PayCallOptions,
  ): Promise<PayFields> {
    const timeoutMs = callOptions?.timeoutMs ?? defaultTimeoutMs
    assertTimeout(timeoutMs)
    const body = renderSignedPayXml(
      { appid: appId, mch_id: mchId, nonce_str: nonce(), sign_type: signType, ...params },
      apiKey,
      signType,
    )
    const text = await post(api, body, timeoutMs)
    let fields: PayFields
    try {
      fields = parsePayXml(text)
    } catch (error) {
      throw new WeChatTransportError(api, {
        status: 200,
        cause: error,
        message: `${api}: the answer is not WeChat Pay XML`,
      })
    }
    return checkAnswer(api, fields)
  }

  function post(api: string, body: string, timeoutMs: number): Promise<string> {
    return exchange(api, {
      peer: 'WeChat Pay',
      url: `${baseUrl}${api}`,
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', accept: 'text/xml' },
      body,
      timeoutMs,
      maxBytes: MAX_ANSWER_BYTES,
      dispatcher,
    })
  }

  function checkAnswer(api: string, fields: PayFields): PayFields {
    const returnCode = fields.return_code
    if (returnCode === 'FAIL') {
      // Communication failure: WeChat sends no sign with it, so there is nothing more to check.
      throw new WeChatPayError({ returnCode, returnMsg: optionalPayField(fields, 'return_msg') })
    }
    if (returnCode !== 'SUCCESS') {
      throw new WeChatTransportError(api, {
        status: 200,
        message: `${api}: the answer has no WeChat Pay return_code`,
      })
    }
    if (!verifyPayParams(fields, apiKey, signType)) {
      throw new WeChatProtocolError('SIGNATURE_MISMATCH', {
        message: `${api}: the answer's sign does not match`,
      })
    }
    // Signed with our key, so these can only differ through a mix-up of merchants; still, never act on one.
    if (fields.appid !== undefined && fields.appid !== appId) {
      throw new WeChatProtocolError('APPID_MISMATCH', {
        message: `${api}: answer for another appid`,
      })
    }
    if (fields.mch_id !== undefined && fields.mch_id !== mchId) {
      throw new WeChatProtocolError('MCHID_MISMATCH', {
        message: `${api}: answer for another mch_id`,
      })
    }
    if (fields.result_code !== 'SUCCESS') {
      throw new WeChatPayError({
        returnCode,
        returnMsg: optionalPayField(fields, 'return_msg'),
        errCode: optionalPayField(fields, 'err_code'),
        errCodeDes: optionalPayField(fields, 'err_code_des'),
      })
    }
    return fields
  }

  return {
    async unifiedOrder(input, callOptions) {
      const params = unifiedOrderParams(input)
      const fields = await call('/pay/unifiedorder', params, callOptions)
      const tradeType = requirePayField(fields, 'trade_type')
      if (tradeType !== input.tradeType) {
        throw new WeChatProtocolError('MESSAGE_INVALID', {
          message: `/pay/unifiedorder: answered trade_type ${tradeType} for ${input.tradeType}`,
        })
      }
      const result: UnifiedOrderResult = {
        tradeType: input.tradeType,
        prepayId: requirePayField(fields, 'prepay_id'),
      }
      if (input.tradeType === 'NATIVE') result.codeUrl = requirePayField(fields, 'code_url')
      if (input.tradeType === 'MWEB') result.mwebUrl = requirePayField(fields, 'mweb_url')
      return result
    },

    async orderQuery(input, callOptions) {
      assertOutTradeNo(input.outTradeNo)
      const fields = await call('/pay/orderquery', { out_trade_no: input.outTradeNo }, callOptions)
      const tradeState = requirePayField(fields, 'trade_state')
      if (!TRADE_STATES.has(tradeState)) {
        throw new WeChatProtocolError('MESSAGE_INVALID', {
          message: `/pay/orderquery: unknown trade_state ${tradeState.slice(0, 32)}`,
        })
      }
      const outTradeNo = optionalPayField(fields, 'out_trade_no') ?? input.outTradeNo
      if (outTradeNo !== input.outTradeNo) {
        throw new WeChatProtocolError('MESSAGE_INVALID', {
          message: '/pay/orderquery: answer is about another out_trade_no',
        })
      }
      const totalFee = optionalPayField(fields, 'total_fee')
      const timeEnd = optionalPayField(fields, 'time_end')
      const result: OrderQueryResult = {
        tradeState: tradeState as PayTradeState,
        outTradeNo,
        fields,
      }
      const tradeStateDesc = optionalPayField(fields, 'trade_state_desc')
      if (tradeStateDesc !== undefined) result.tradeStateDesc = tradeStateDesc
      const transactionId = optionalPayField(fields, 'transaction_id')
      if (transactionId !== undefined) result.transactionId = transactionId
      if (totalFee !== undefined) result.totalFee = parsePayFee(totalFee, 'total_fee')
      if (timeEnd !== undefined) {
        result.timeEnd = timeEnd
        result.paidAt = beijingTimeToDate(timeEnd)
      }
      const openId = optionalPayField(fields, 'openid')
      if (openId !== undefined) result.openId = openId
      return result
    },

    async closeOrder(input, callOptions) {
      assertOutTradeNo(input.outTradeNo)
      await call('/pay/closeorder', { out_trade_no: input.outTradeNo }, callOptions)
    },

    jsapiPayParams(prepayId, overrides = {}) {
      if (prepayId === '') throw new TypeError('jsapiPayParams needs a prepay_id')
      const at = overrides.now?.getTime() ?? now()
      if (!Number.isFinite(at)) throw new RangeError('jsapiPayParams needs a valid time')
      const unsigned = {
        appId,
        timeStamp: String(Math.floor(at / 1000)),
        nonceStr: overrides.nonce ?? nonce(),
        package: `prepay_id=${prepayId}`,
        signType,
      }
      return { ...unsigned, paySign: signPayParams(unsigned, apiKey, signType) }
    },
  }
}

function unifiedOrderParams(input: UnifiedOrderInput): PayParams {
  assertOutTradeNo(input.outTradeNo)
  if (!Number.isSafeInteger(input.totalFee) || input.totalFee <= 0) {
    throw new RangeError('unifiedOrder: totalFee must be a positive integer (fen)')
  }
  if (input.tradeType === 'JSAPI' && (input.openId === undefined || input.openId === '')) {
    throw new TypeError('unifiedOrder: JSAPI needs openId')
  }
  if (input.tradeType === 'NATIVE' && (input.productId === undefined || input.productId === '')) {
    throw new TypeError('unifiedOrder: NATIVE needs productId')
  }
  if (input.tradeType === 'MWEB' && input.sceneInfo === undefined) {
    throw new TypeError('unifiedOrder: MWEB needs sceneInfo')
  }
  const sceneInfo =
    typeof input.sceneInfo === 'object' ? JSON.stringify(input.sceneInfo) : input.sceneInfo
  return {
    body: input.body,
    attach: input.attach,
    out_trade_no: input.outTradeNo,
    total_fee: input.totalFee,
    spbill_create_ip: input.spbillCreateIp,
    time_expire: input.timeExpire === undefined ? undefined : dateToBeijingTime(input.timeExpire),
    notify_url: input.notifyUrl,
    trade_type: input.tradeType,
    product_id: input.tradeType === 'NATIVE' ? input.productId : undefined,
    openid: input.tradeType === 'JSAPI' ? input.openId : undefined,
    scene_info: sceneInfo,
  }
}

function assertOutTradeNo(outTradeNo: string): void {
  if (outTradeNo === '') throw new TypeError('outTradeNo must not be empty')
}

function assertTimeout(timeoutMs: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError('timeoutMs must be a positive number')
  }
}
