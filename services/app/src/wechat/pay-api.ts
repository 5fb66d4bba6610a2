// The narrow slice of @wxgate/wechat's PayClient the app uses, so tests may inject a fake.
export type PayTradeType = 'JSAPI' | 'NATIVE' | 'MWEB'

export type PayTradeState =
  'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR'

export interface PayApi {
  unifiedOrder(input: {
    outTradeNo: string
    body: string
    totalFee: number
    spbillCreateIp: string
    notifyUrl: string
    tradeType: PayTradeType
    openId?: string
    productId?: string
    sceneInfo?: string
    timeExpire?: Date
    attach?: string
  }): Promise<{ tradeType: string; prepayId: string; codeUrl?: string; mwebUrl?: string }>
  orderQuery(input: { outTradeNo: string }): Promise<{
    tradeState: PayTradeState
    outTradeNo: string
    transactionId?: string
    totalFee?: number
    timeEnd?: string
    paidAt?: Date
    openId?: string
  }>
  closeOrder(input: { outTradeNo: string }): Promise<void>
  jsapiPayParams(prepayId: string): {
    appId: string
    timeStamp: string
    nonceStr: string
    package: string
    signType: string
    paySign: string
  }
}
