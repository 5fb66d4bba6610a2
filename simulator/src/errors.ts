// The simulator's own refusals (a phone action WeChat would not allow, a bad control request), with stable codes.

export type SimulatorErrorCode =
  | 'USER_NOT_FOUND'
  | 'USER_EXISTS'
  | 'ALREADY_FOLLOWING'
  | 'NOT_FOLLOWING'
  | 'QR_CODE_NOT_FOUND'
  | 'QR_CODE_EXPIRED'
  | 'MENU_KEY_NOT_FOUND'
  | 'ORDER_NOT_FOUND'
  | 'ORDER_NOT_PAYABLE'
  | 'PUSH_URL_MISSING'
  | 'ENCODING_AES_KEY_MISSING'
  | 'AUTHORIZE_INVALID'
  | 'INVALID_REQUEST'

const STATUS: Record<SimulatorErrorCode, number> = {
  USER_NOT_FOUND: 404,
  USER_EXISTS: 409,
  ALREADY_FOLLOWING: 409,
  NOT_FOLLOWING: 409,
  QR_CODE_NOT_FOUND: 404,
  QR_CODE_EXPIRED: 410,
  MENU_KEY_NOT_FOUND: 404,
  ORDER_NOT_FOUND: 404,
  ORDER_NOT_PAYABLE: 409,
  PUSH_URL_MISSING: 409,
  ENCODING_AES_KEY_MISSING: 409,
  AUTHORIZE_INVALID: 400,
  INVALID_REQUEST: 400,
}

export class SimulatorError extends Error {
  override readonly name = 'SimulatorError'
  readonly code: SimulatorErrorCode
  readonly statusCode: number

  constructor(code: SimulatorErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.code = code
    this.statusCode = STATUS[code]
  }
}
