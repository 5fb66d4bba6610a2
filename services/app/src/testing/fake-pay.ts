// Test support: an in-memory WeChat Pay for service tests that need exact control over answers.
import { WeChatPayError } from '@wxgate/wechat'
import type { PayApi, PayTradeState } from '../wechat/pay-api.js'

export interface FakeOrder {
  totalFee: number
  tradeState: PayTradeState
  transactionId?: string
  paidAt?: Date
  openId?: string
}

export function createFakePay() {
  const orders = new Map<string, FakeOrder>()
  const calls: { api: string; outTradeNo: string }[] = []
  let counter = 0
  let closeError: string | undefined
  let queryFailsFor: string | undefined

  const pay: PayApi = {
    unifiedOrder(input) {
      calls.push({ api: 'unifiedorder', outTradeNo: input.outTradeNo })
      orders.set(input.outTradeNo, { totalFee: input.totalFee, tradeState: 'NOTPAY' })
      counter += 1
      return Promise.resolve({
        tradeType: input.tradeType,
        prepayId: `wx_prepay_${counter}`,
        ...(input.tradeType === 'NATIVE'
          ? { codeUrl: `weixin://wxpay/bizpayurl?pr=${counter}` }
          : {}),
        ...(input.tradeType === 'MWEB'
          ? { mwebUrl: `https://wx.tenpay.com/mweb?p=${counter}` }
          : {}),
      })
    },
    orderQuery({ outTradeNo }) {
      calls.push({ api: 'orderquery', outTradeNo })
      const order = orders.get(outTradeNo)
      if (outTradeNo === queryFailsFor) {
        return Promise.reject(new WeChatPayError({ returnCode: 'SUCCESS', errCode: 'SYSTEMERROR' }))
      }
      if (order === undefined) {
        return Promise.reject(
          new WeChatPayError({ returnCode: 'SUCCESS', errCode: 'ORDERNOTEXIST' }),
        )
      }
      return Promise.resolve({
        tradeState: order.tradeState,
        outTradeNo,
        ...(order.transactionId !== undefined ? { transactionId: order.transactionId } : {}),
        ...(order.tradeState === 'SUCCESS' ? { totalFee: order.totalFee } : {}),
        ...(order.paidAt !== undefined ? { paidAt: order.paidAt } : {}),
        ...(order.openId !== undefined ? { openId: order.openId } : {}),
      })
    },
    closeOrder({ outTradeNo }) {
      calls.push({ api: 'closeorder', outTradeNo })
      const order = orders.get(outTradeNo)
      if (closeError !== undefined) {
        return Promise.reject(new WeChatPayError({ returnCode: 'SUCCESS', errCode: closeError }))
      }
      if (order?.tradeState === 'SUCCESS') {
        return Promise.reject(new WeChatPayError({ returnCode: 'SUCCESS', errCode: 'ORDERPAID' }))
      }
      if (order !== undefined) order.tradeState = 'CLOSED'
      return Promise.resolve()
    },
    jsapiPayParams(prepayId) {
      return {
        appId: 'wx1234567890abcdef',
        timeStamp: '1800000000',
        nonceStr: 'nonce',
        package: `prepay_id=${prepayId}`,
        signType: 'MD5',
        paySign: 'SIGN',
      }
    },
  }

  return {
    pay,
    calls,
    /** The phone pays: WeChat now reports SUCCESS (no notification is sent by this fake). */
    markPaid(outTradeNo: string, fields: { transactionId: string; openId?: string }) {
      const order = orders.get(outTradeNo)
      if (order === undefined) throw new Error(`fake pay: unknown order ${outTradeNo}`)
      order.tradeState = 'SUCCESS'
      order.transactionId = fields.transactionId
      order.paidAt = new Date('2026-11-25T08:00:00.000Z')
      if (fields.openId !== undefined) order.openId = fields.openId
    },
    failCloseWith(errCode: string | undefined) {
      closeError = errCode
    },
    /** orderquery of this order answers SYSTEMERROR (undefined: none does). */
    failQueryOf(outTradeNo: string | undefined) {
      queryFailsFor = outTradeNo
    },
  }
}
