// The narrow slice of @wxgate/wechat's PayClient the app uses, so tests may inject a fake.
import { AppErrors } from '../errors.js'
import type {
  JsapiPayParams,
  OrderQueryResult,
  UnifiedOrderInput,
  UnifiedOrderResult,
} from '@wxgate/wechat'

export type { PayTradeState, PayTradeType } from '@wxgate/wechat'

/** The PayClient's own types, minus per-call options and the raw answer fields the app never reads. */
export interface PayApi {
  unifiedOrder(input: UnifiedOrderInput): Promise<UnifiedOrderResult>
  orderQuery(input: { outTradeNo: string }): Promise<Omit<OrderQueryResult, 'fields'>>
  closeOrder(input: { outTradeNo: string }): Promise<void>
  jsapiPayParams(prepayId: string): JsapiPayParams
}

/** Stands in when WECHAT_PAY_* is unset: every call answers 503 PAY_NOT_CONFIGURED. */
export const unconfiguredPay: PayApi = {
  unifiedOrder: () => Promise.reject(new AppErrors.PAY_NOT_CONFIGURED()),
  orderQuery: () => Promise.reject(new AppErrors.PAY_NOT_CONFIGURED()),
  closeOrder: () => Promise.reject(new AppErrors.PAY_NOT_CONFIGURED()),
  jsapiPayParams: () => {
    throw new AppErrors.PAY_NOT_CONFIGURED()
  },
}
