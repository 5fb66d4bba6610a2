// WeChat Pay v2 payment-result notification: check sign, appid, mch_id, then read; plus the XML answer.
import { WeChatProtocolError } from '../errors.js'
import { buildXml } from '../xml/codec.js'
import { verifyPayParams } from './pay-sign.js'
import type { PaySignType } from './pay-sign.js'
import { beijingTimeToDate } from './pay-time.js'
import {
  optionalPayField,
  parsePayFee,
  parsePayXml,
  renderSignedPayXml,
  requirePayField,
} from './pay-xml.js'
import type { PayFields } from './pay-xml.js'

export interface PayNotification {
  /** Always `SUCCESS`: a notification without communication success carries nothing to act on. */
  returnCode: 'SUCCESS'
  resultCode: 'SUCCESS' | 'FAIL'
  outTradeNo: string
  /** WeChat's 28-digit order id, kept as the exact string. */
  transactionId: string
  /** Amount paid in fen; compare it with the order's own amount before marking it paid. */
  totalFee: number
  /** `time_end` as sent, `yyyyMMddHHmmss` Beijing time. */
  timeEnd: string
  paidAt: Date
  openId?: string
  tradeType?: string
  errCode?: string
  errCodeDes?: string
  /** Every received field, strings as sent (for logs and fields this type does not name). */
  fields: PayFields
}

export interface PayNotificationCheck {
  apiKey: string
  appId: string
  mchId: string
  /** The algorithm ordered with; only used when the notification names no `sign_type`. */
  signType?: PaySignType
}

/**
 * Parses a payment notification after checking it, in this order (check first, parse second):
 * sign (`SIGNATURE_MISMATCH`), appid (`APPID_MISMATCH`), mch_id (`MCHID_MISMATCH`), then
 * return_code/result_code and the fields (`MESSAGE_INVALID`). XML errors come from the codec.
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7
 */
export function parsePayNotification(xml: string, check: PayNotificationCheck): PayNotification {
  const fields = parsePayXml(xml)
  if (!verifyPayParams(fields, check.apiKey, check.signType)) {
    throw new WeChatProtocolError('SIGNATURE_MISMATCH', {
      message: 'pay notification sign does not match',
    })
  }
  if (fields.appid !== check.appId) {
    throw new WeChatProtocolError('APPID_MISMATCH', {
      message: 'pay notification is for another appid',
    })
  }
  if (fields.mch_id !== check.mchId) {
    throw new WeChatProtocolError('MCHID_MISMATCH', {
      message: 'pay notification is for another mch_id',
    })
  }
  if (fields.return_code !== 'SUCCESS') throw invalid('return_code is not SUCCESS')
  const resultCode = fields.result_code
  if (resultCode !== 'SUCCESS' && resultCode !== 'FAIL') {
    throw invalid('result_code must be SUCCESS or FAIL')
  }
  const timeEnd = requirePayField(fields, 'time_end')
  return {
    returnCode: 'SUCCESS',
    resultCode,
    outTradeNo: requirePayField(fields, 'out_trade_no'),
    transactionId: requirePayField(fields, 'transaction_id'),
    totalFee: parsePayFee(requirePayField(fields, 'total_fee'), 'total_fee'),
    timeEnd,
    paidAt: beijingTimeToDate(timeEnd),
    openId: optionalPayField(fields, 'openid'),
    tradeType: optionalPayField(fields, 'trade_type'),
    errCode: optionalPayField(fields, 'err_code'),
    errCodeDes: optionalPayField(fields, 'err_code_des'),
    fields,
  }
}

/**
 * The answer WeChat expects: `SUCCESS`/`OK` once the result is durably recorded; anything else
 * (`FAIL`, non-200, timeout) makes it retry.
 */
export function renderPayNotifyAnswer(ok: boolean, message?: string): string {
  return buildXml({
    return_code: ok ? 'SUCCESS' : 'FAIL',
    return_msg: message ?? (ok ? 'OK' : 'FAIL'),
  })
}

/** Reads a notify answer (the simulator decides whether to retry from it). */
export function parsePayNotifyAnswer(xml: string): { ok: boolean; message: string | undefined } {
  const fields = parsePayXml(xml)
  const code = fields.return_code
  if (code !== 'SUCCESS' && code !== 'FAIL') throw invalid('return_code must be SUCCESS or FAIL')
  return { ok: code === 'SUCCESS', message: fields.return_msg }
}

/**
 * Builds a signed notification as WeChat sends it (for the simulator). `sign_type` is written only
 * if the fields hold it; the algorithm is `signType`, else that `sign_type`, else MD5.
 */
export function buildPayNotification(
  fields: Record<string, string | number>,
  apiKey: string,
  signType?: PaySignType,
): string {
  return renderSignedPayXml(fields, apiKey, signType)
}

function invalid(message: string): WeChatProtocolError {
  return new WeChatProtocolError('MESSAGE_INVALID', { message: `pay notification: ${message}` })
}
