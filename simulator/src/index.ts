// Public entry of @wxgate/simulator: createSimulator and the types tests use.
export { createSimulator } from './simulator.js'
export type { Simulator } from './simulator.js'
export type {
  SimulatorOptions,
  SimulatorSettings,
  SimulatorRecords,
  PushMode,
  ApiCallRecord,
  TokenRequestRecord,
  PushRecord,
  PushAttemptRecord,
  NotificationRecord,
} from './context.js'
export { SimulatorError } from './errors.js'
export type { SimulatorErrorCode } from './errors.js'
export type { SimPlatform } from './platform/platform.js'
export type { SimPhone, PayResult } from './phone/phone.js'
export type { PushResult, PushReply } from './phone/push.js'
export type { NotifyOutcome } from './phone/pay-notifier.js'
export { NOTIFY_RETRY_DELAYS_S } from './phone/pay-notifier.js'
export type { SimUser, AddUserInput } from './platform/user.js'
export type { SimOrder, TradeState } from './platform/pay.js'
export type { SimMenu, SimMenuButton } from './platform/menu.js'
export type { SimQrCode } from './platform/qrcode.js'
export type { IssuedToken } from './platform/token.js'
