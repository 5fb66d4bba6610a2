// WeChat Pay v2: unifiedorder, orderquery, closeorder — signatures checked in, signed out, WeChat's error codes.
import { isIP } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { PaySignType } from '@wxgate/wechat'
import {
  beijingTimeToDate,
  buildXml,
  dateToBeijingTime,
  parseXml,
  signPayParams,
  verifyPayParams,
} from '@wxgate/wechat'
import type { SimContext } from '../context.js'
import { SimulatorError } from '../errors.js'
import type { Faults } from './faults.js'
import type { UserStore } from './user.js'

export const PREPAY_TTL_MS = 2 * 3600_000
export const MWEB_URL_TTL_MS = 5 * 60_000
/** time_expire must leave at least this long ("刷卡至少1分钟，其他5分钟"). */
export const MIN_TIME_EXPIRE_MS = 5 * 60_000

export type TradeType = 'JSAPI' | 'NATIVE' | 'APP' | 'MWEB'
export type TradeState =
  'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR'

export interface SimOrder {
  outTradeNo: string
  appId: string
  body: string
  totalFee: number
  tradeType: TradeType
  openId: string | undefined
  attach: string | undefined
  deviceInfo: string | undefined
  notifyUrl: string
  signType: PaySignType
  /** The business parameters of the first unifiedorder: a repeat must send the same ones. */
  terms: Record<string, string>
  createdAt: number
  timeExpireAt: number | undefined
  prepayId: string
  prepayExpiresAt: number
  codeUrl: string | undefined
  mwebUrl: string | undefined
  /**
   * The H5 links given for the current prepay_id, by their `package`, and when each dies: 5 minutes after it
   * was given. Each unifiedorder call gives a fresh one (the newest is `mwebUrl`).
   */
  mwebLinks: Record<string, number> | undefined
  tradeState: TradeState
  transactionId: string | undefined
  timeEnd: string | undefined
  payerOpenId: string | undefined
  unifiedOrderCalls: number
}

export interface OrderStore {
  get(outTradeNo: string): SimOrder | undefined
  /** The order behind a NATIVE code_url or a (current) prepay_id. */
  findByPayLink(link: { codeUrl?: string; prepayId?: string }): SimOrder | undefined
  list(): SimOrder[]
  /** The user pays: SUCCESS, a 28-digit transaction_id, time_end in Beijing time. */
  markPaid(outTradeNo: string, payerOpenId?: string): SimOrder
}

/** Fields compared when an out_trade_no comes back (OUT_TRADE_NO_USED when any differs). */
const TERMS = [
  'body',
  'total_fee',
  'trade_type',
  'openid',
  'product_id',
  'attach',
  'notify_url',
  'fee_type',
  'detail',
]
const TRADE_TYPES = new Set(['JSAPI', 'NATIVE', 'APP', 'MWEB'])

const STATE_DESC: Record<TradeState, string> = {
  SUCCESS: '支付成功',
  REFUND: '转入退款',
  NOTPAY: '订单未支付',
  CLOSED: '订单已关闭',
  REVOKED: '已撤销',
  USERPAYING: '用户支付中',
  PAYERROR: '支付失败',
}

/** A business refusal: return_code SUCCESS, result_code FAIL with WeChat's err_code (signed). */
class PayFailure extends Error {
  constructor(
    readonly errCode: string,
    readonly errCodeDes: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${errCode}: ${errCodeDes}`, options)
  }
}

/** A communication refusal: return_code FAIL, unsigned (WeChat cannot tell whose key to sign with). */
class ReturnFailure extends Error {
  constructor(readonly returnMsg: string) {
    super(returnMsg)
  }
}

type Fields = Record<string, string>

export function createOrderStore(ctx: SimContext, users: UserStore): OrderStore & OrderInternals {
  const orders = new Map<string, SimOrder>()

  /** Gives a new H5 link for `prepayId`, recorded in `links`. */
  const newMwebUrl = (prepayId: string, links: Record<string, number>, now: number): string => {
    const pkg = ctx.randomDigits(10)
    links[pkg] = now + MWEB_URL_TTL_MS
    // The cashier page is served by the simulator itself (phone/cashier-page.ts) once it listens.
    return `${ctx.baseUrl() || 'https://wx.tenpay.com'}/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=${prepayId}&package=${pkg}`
  }

  const newPrepay = (order: Pick<SimOrder, 'tradeType'>, now: number) => {
    const prepayId = `wx${dateToBeijingTime(new Date(now))}${ctx.randomHex(11)}`.slice(0, 36)
    const mwebLinks: Record<string, number> | undefined =
      order.tradeType === 'MWEB' ? {} : undefined
    return {
      prepayId,
      prepayExpiresAt: now + PREPAY_TTL_MS,
      codeUrl:
        order.tradeType === 'NATIVE'
          ? `weixin://wxpay/bizpayurl?pr=${ctx.randomToken(6).slice(0, 7)}`
          : undefined,
      mwebUrl: mwebLinks === undefined ? undefined : newMwebUrl(prepayId, mwebLinks, now),
      mwebLinks,
    }
  }

  const store: OrderStore & OrderInternals = {
    get: (outTradeNo) => orders.get(outTradeNo),
    findByPayLink: (link) =>
      [...orders.values()].find(
        (order) =>
          (link.codeUrl !== undefined && order.codeUrl === link.codeUrl) ||
          (link.prepayId !== undefined && order.prepayId === link.prepayId),
      ),
    list: () => [...orders.values()],
    markPaid(outTradeNo, payerOpenId) {
      const order = orders.get(outTradeNo)
      if (order === undefined) throw new SimulatorError('ORDER_NOT_FOUND', `no order ${outTradeNo}`)
      const now = ctx.now()
      if (order.tradeState !== 'NOTPAY') {
        throw new SimulatorError('ORDER_NOT_PAYABLE', `order is ${order.tradeState}`)
      }
      if (order.timeExpireAt !== undefined && now >= order.timeExpireAt) {
        throw new SimulatorError('ORDER_NOT_PAYABLE', 'the order has expired (time_expire)')
      }
      if (now >= order.prepayExpiresAt) {
        throw new SimulatorError('ORDER_NOT_PAYABLE', 'the prepay_id has expired')
      }
      // Paid by out_trade_no an H5 order needs a live link; the cashier page checks the very link opened.
      if (
        order.mwebLinks !== undefined &&
        Object.values(order.mwebLinks).every((dies) => now >= dies)
      ) {
        throw new SimulatorError('ORDER_NOT_PAYABLE', 'the mweb_url has expired')
      }
      let payer: string
      if (order.tradeType === 'JSAPI') {
        payer = order.openId ?? ''
        if (payerOpenId !== undefined && payerOpenId !== payer) {
          throw new SimulatorError(
            'ORDER_NOT_PAYABLE',
            'a JSAPI order can only be paid by its openid',
          )
        }
      } else {
        payer = payerOpenId ?? users.add().openId
        users.ensure(payer)
      }
      order.tradeState = 'SUCCESS'
      order.payerOpenId = payer
      order.transactionId = `4200${ctx.randomDigits(24)}`
      order.timeEnd = dateToBeijingTime(new Date(now))
      return order
    },
    handle(api, fields) {
      const { settings } = ctx
      const signType: PaySignType = fields.sign_type === 'HMAC-SHA256' ? 'HMAC-SHA256' : 'MD5'
      if (fields.mch_id !== settings.mchId) throw new ReturnFailure('mch_id参数格式错误')
      for (const name of ['appid', 'nonce_str', 'sign']) {
        if (!fields[name]) throw new PayFailure('LACK_PARAMS', `缺少参数${name}`)
      }
      if (
        fields.sign_type !== undefined &&
        fields.sign_type !== 'MD5' &&
        fields.sign_type !== 'HMAC-SHA256'
      ) {
        throw new PayFailure('PARAM_ERROR', 'sign_type参数错误')
      }
      // WeChat reads the algorithm from sign_type (default MD5), never from the sign's length.
      if (!verifyPayParams(fields, settings.payApiKey, signType))
        throw new PayFailure('SIGNERROR', '签名错误')
      if (fields.appid !== settings.appId)
        throw new PayFailure('APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配')
      if ((fields.nonce_str ?? '').length > 32)
        throw new PayFailure('PARAM_ERROR', 'nonce_str参数长度有误')
      switch (api) {
        case '/pay/unifiedorder':
          return unifiedOrder(fields, signType)
        case '/pay/orderquery':
          return orderQuery(fields)
        case '/pay/closeorder':
          return closeOrder(fields)
      }
    },
  }

  function unifiedOrder(fields: Fields, signType: PaySignType): Fields {
    for (const name of [
      'body',
      'out_trade_no',
      'total_fee',
      'spbill_create_ip',
      'notify_url',
      'trade_type',
    ]) {
      if (!fields[name]) throw new PayFailure('LACK_PARAMS', `缺少参数${name}`)
    }
    const f = {
      appid: fields.appid ?? '',
      body: fields.body ?? '',
      out_trade_no: fields.out_trade_no ?? '',
      total_fee: fields.total_fee ?? '',
      spbill_create_ip: fields.spbill_create_ip ?? '',
      notify_url: fields.notify_url ?? '',
      trade_type: fields.trade_type ?? '',
    }
    if (!TRADE_TYPES.has(f.trade_type)) throw new PayFailure('PARAM_ERROR', 'trade_type参数错误')
    const tradeType = f.trade_type as TradeType
    if (!/^[0-9A-Za-z_\-|*]{6,32}$/.test(f.out_trade_no)) {
      throw new PayFailure('PARAM_ERROR', 'out_trade_no参数格式错误')
    }
    if (Buffer.byteLength(f.body, 'utf8') > 128)
      throw new PayFailure('PARAM_ERROR', 'body参数长度有误')
    if (!/^[1-9]\d{0,9}$/.test(f.total_fee))
      throw new PayFailure('PARAM_ERROR', 'total_fee参数格式错误')
    if (isIP(f.spbill_create_ip) === 0)
      throw new PayFailure('PARAM_ERROR', 'spbill_create_ip参数格式错误')
    if (f.notify_url.length > 256 || !/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/i.test(f.notify_url)) {
      throw new PayFailure('PARAM_ERROR', 'notify_url参数格式错误（不能携带参数）')
    }
    if (fields.fee_type !== undefined && fields.fee_type !== '' && fields.fee_type !== 'CNY') {
      throw new PayFailure('PARAM_ERROR', 'fee_type参数错误')
    }
    if (fields.attach !== undefined && Buffer.byteLength(fields.attach, 'utf8') > 127) {
      throw new PayFailure('PARAM_ERROR', 'attach参数长度有误')
    }
    if (tradeType === 'JSAPI') {
      if (!fields.openid) throw new PayFailure('PARAM_ERROR', 'JSAPI支付必须传openid')
      if (ctx.settings.appId !== f.appid || !isKnownUser(fields.openid)) {
        throw new PayFailure('PARAM_ERROR', 'appid和openid不匹配')
      }
    }
    if (tradeType === 'NATIVE' && !fields.product_id) {
      throw new PayFailure('PARAM_ERROR', 'NATIVE支付必须传product_id')
    }
    if (tradeType === 'MWEB') checkSceneInfo(fields.scene_info)
    const now = ctx.now()
    let timeExpireAt: number | undefined
    for (const name of ['time_start', 'time_expire']) {
      const value = fields[name]
      if (value === undefined || value === '') continue
      let at: number
      try {
        at = beijingTimeToDate(value).getTime()
      } catch (error) {
        throw new PayFailure('PARAM_ERROR', `${name}参数格式错误`, { cause: error })
      }
      if (name === 'time_expire') timeExpireAt = at
    }
    if (timeExpireAt !== undefined && timeExpireAt - now < MIN_TIME_EXPIRE_MS) {
      throw new PayFailure('INVALID_TIME', 'time_expire时间过短，刷卡至少1分钟，其他5分钟')
    }

    const terms: Fields = {}
    for (const name of TERMS) if (fields[name]) terms[name] = fields[name]
    const existing = orders.get(f.out_trade_no)
    let order: SimOrder
    if (existing !== undefined) {
      if (existing.tradeState === 'SUCCESS') throw new PayFailure('ORDERPAID', '该订单已支付')
      if (existing.tradeState === 'CLOSED') throw new PayFailure('ORDERCLOSED', '该订单已关')
      if (JSON.stringify(existing.terms) !== JSON.stringify(terms)) {
        throw new PayFailure('OUT_TRADE_NO_USED', '商户订单号重复')
      }
      order = existing
      order.unifiedOrderCalls++
      if (now >= order.prepayExpiresAt) Object.assign(order, newPrepay(order, now))
      // The same prepay_id for 2 hours, but a fresh 5-minute H5 link on every call.
      else if (order.mwebLinks !== undefined) {
        order.mwebUrl = newMwebUrl(order.prepayId, order.mwebLinks, now)
      }
      order.signType = signType
    } else {
      order = {
        outTradeNo: f.out_trade_no,
        appId: f.appid,
        body: f.body,
        totalFee: Number(f.total_fee),
        tradeType,
        openId: fields.openid || undefined,
        attach: fields.attach || undefined,
        deviceInfo: fields.device_info || undefined,
        notifyUrl: f.notify_url,
        signType,
        terms,
        createdAt: now,
        timeExpireAt,
        ...newPrepay({ tradeType }, now),
        tradeState: 'NOTPAY',
        transactionId: undefined,
        timeEnd: undefined,
        payerOpenId: undefined,
        unifiedOrderCalls: 1,
      }
      orders.set(order.outTradeNo, order)
    }
    return {
      result_code: 'SUCCESS',
      ...(order.deviceInfo === undefined ? {} : { device_info: order.deviceInfo }),
      trade_type: order.tradeType,
      prepay_id: order.prepayId,
      ...(order.codeUrl === undefined ? {} : { code_url: order.codeUrl }),
      ...(order.mwebUrl === undefined ? {} : { mweb_url: order.mwebUrl }),
    }
  }

  function findOrder(fields: Fields, allowTransactionId: boolean): SimOrder {
    const outTradeNo = fields.out_trade_no
    const transactionId = allowTransactionId ? fields.transaction_id : undefined
    if (!outTradeNo && !transactionId) throw new PayFailure('LACK_PARAMS', '缺少参数out_trade_no')
    const order = transactionId
      ? [...orders.values()].find((candidate) => candidate.transactionId === transactionId)
      : orders.get(outTradeNo ?? '')
    if (order === undefined) throw new PayFailure('ORDERNOTEXIST', '订单不存在')
    return order
  }

  function orderQuery(fields: Fields): Fields {
    const order = findOrder(fields, true)
    const out: Fields = {
      result_code: 'SUCCESS',
      out_trade_no: order.outTradeNo,
      trade_state: order.tradeState,
      trade_state_desc: STATE_DESC[order.tradeState],
    }
    if (order.attach !== undefined) out.attach = order.attach
    if (order.deviceInfo !== undefined) out.device_info = order.deviceInfo
    if (order.tradeState === 'SUCCESS') {
      const payer = users.get(order.payerOpenId ?? '')
      Object.assign(out, {
        openid: order.payerOpenId ?? '',
        is_subscribe: payer?.subscribed === true ? 'Y' : 'N',
        trade_type: order.tradeType,
        bank_type: 'OTHERS',
        total_fee: String(order.totalFee),
        fee_type: 'CNY',
        cash_fee: String(order.totalFee),
        transaction_id: order.transactionId ?? '',
        time_end: order.timeEnd ?? '',
      })
    }
    return out
  }

  function closeOrder(fields: Fields): Fields {
    const order = findOrder(fields, false)
    if (order.tradeState === 'SUCCESS')
      throw new PayFailure('ORDERPAID', '订单已支付，不能发起关单')
    if (order.tradeState === 'CLOSED')
      throw new PayFailure('ORDERCLOSED', '订单已关闭，无法重复关闭')
    order.tradeState = 'CLOSED'
    return { result_code: 'SUCCESS', result_msg: 'OK' }
  }

  function isKnownUser(openId: string): boolean {
    return users.get(openId) !== undefined
  }

  return store
}

function checkSceneInfo(sceneInfo: string | undefined): void {
  if (!sceneInfo) throw new PayFailure('PARAM_ERROR', 'MWEB支付必须传scene_info')
  let parsed: unknown
  try {
    parsed = JSON.parse(sceneInfo)
  } catch (error) {
    throw new PayFailure('PARAM_ERROR', 'scene_info参数格式错误', { cause: error })
  }
  const h5 = (parsed as { h5_info?: { type?: unknown } } | null)?.h5_info
  if (h5 === undefined || typeof h5.type !== 'string') {
    throw new PayFailure('PARAM_ERROR', 'scene_info参数格式错误')
  }
}

interface OrderInternals {
  handle(api: PayApi, fields: Fields): Fields
}

export type PayApi = '/pay/unifiedorder' | '/pay/orderquery' | '/pay/closeorder'

export function registerPayRoutes(
  app: FastifyInstance,
  deps: { ctx: SimContext; faults: Faults; orders: ReturnType<typeof createOrderStore> },
): void {
  const { ctx, faults, orders } = deps
  const apis: PayApi[] = ['/pay/unifiedorder', '/pay/orderquery', '/pay/closeorder']
  for (const api of apis) {
    app.post(api, async (request, reply) => {
      const text = typeof request.body === 'string' ? request.body : ''
      let fields: Fields | undefined
      let payErrCode: string | undefined
      const answer = ((): string => {
        try {
          fields = flatFields(parseXml(text))
        } catch {
          payErrCode = 'XML_FORMAT_ERROR'
          return buildXml({ return_code: 'FAIL', return_msg: 'XML格式错误' })
        }
        const signType: PaySignType = fields.sign_type === 'HMAC-SHA256' ? 'HMAC-SHA256' : 'MD5'
        const signed = (out: Fields): string => {
          const all: Fields = {
            return_code: 'SUCCESS',
            return_msg: 'OK',
            appid: ctx.settings.appId,
            mch_id: ctx.settings.mchId,
            nonce_str: ctx.randomToken(24).slice(0, 32),
            ...out,
          }
          return buildXml({ ...all, sign: signPayParams(all, ctx.settings.payApiKey, signType) })
        }
        try {
          // A queued fault answers before anything changes, as a failed WeChat call changes nothing.
          const fault = faults.take(api)
          if (fault !== undefined) {
            payErrCode = String(fault)
            return signed({
              result_code: 'FAIL',
              err_code: String(fault),
              err_code_des: '系统超时',
            })
          }
          return signed(orders.handle(api, fields))
        } catch (error) {
          if (error instanceof ReturnFailure) {
            payErrCode = 'RETURN_FAIL'
            return buildXml({ return_code: 'FAIL', return_msg: error.returnMsg })
          }
          if (error instanceof PayFailure) {
            payErrCode = error.errCode
            return signed({
              result_code: 'FAIL',
              err_code: error.errCode,
              err_code_des: error.errCodeDes,
            })
          }
          throw error
        }
      })()
      ctx.records.apiCalls.push({
        api,
        method: 'POST',
        query: {},
        body: fields ?? text,
        at: ctx.now(),
        errcode: 0,
        ...(payErrCode === undefined ? {} : { payErrCode }),
      })
      return reply.type('text/xml; charset=utf-8').send(answer)
    })
  }
}

function flatFields(record: Record<string, unknown>): Fields {
  const out: Fields = {}
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'string') out[key] = value
  }
  return out
}
