// Public surface of pay-v2/ (re-exported by ../index.ts).
export { signPayParams, verifyPayParams, payStringToSign, isPaySignType } from './pay-sign.js'
export type { PaySignType, PayParams } from './pay-sign.js'
export { beijingTimeToDate, dateToBeijingTime } from './pay-time.js'
export { parsePayXml, renderSignedPayXml } from './pay-xml.js'
export type { PayFields } from './pay-xml.js'
export {
  parsePayNotification,
  renderPayNotifyAnswer,
  parsePayNotifyAnswer,
  buildPayNotification,
} from './notification.js'
export type { PayNotification, PayNotificationCheck } from './notification.js'
export { decryptRefundReqInfo, encryptRefundReqInfo } from './refund-info.js'
export { createPayClient } from './pay-client.js'
export type {
  PayClient,
  PayClientOptions,
  PayCallOptions,
  PayTradeType,
  PayTradeState,
  UnifiedOrderInput,
  UnifiedOrderResult,
  OrderQueryResult,
  JsapiPayParams,
} from './pay-client.js'
