// Typed errors of the WeChat protocol layer. None of them carries a secret, a ciphertext or a body.

/** Why a protocol check failed; stable, SCREAMING_SNAKE, never reused for a new meaning. */
export type WeChatProtocolErrorCode =
  | 'SIGNATURE_MISMATCH'
  | 'APPID_MISMATCH'
  | 'MCHID_MISMATCH'
  | 'AES_KEY_INVALID'
  | 'PADDING_INVALID'
  | 'DECRYPT_FAILED'
  | 'XML_INVALID'
  | 'XML_TOO_LARGE'
  | 'MESSAGE_INVALID'

export interface WeChatProtocolErrorOptions {
  /** WeChat's own code for the failure where it has one (-40001 … -40011 in the official samples). */
  wechatCode?: number
  message?: string
  cause?: unknown
}

export class WeChatProtocolError extends Error {
  override readonly name = 'WeChatProtocolError'
  readonly code: WeChatProtocolErrorCode
  readonly wechatCode: number | undefined

  constructor(code: WeChatProtocolErrorCode, options: WeChatProtocolErrorOptions = {}) {
    super(options.message ?? code, { cause: options.cause })
    this.code = code
    this.wechatCode = options.wechatCode
  }
}

/** An Official Account API answered with a non-zero `errcode`. */
export class WeChatApiError extends Error {
  override readonly name = 'WeChatApiError'
  readonly errcode: number
  readonly errmsg: string
  /** The API path that failed, e.g. `/cgi-bin/qrcode/create` (never with its query: it holds the token). */
  readonly api: string

  constructor(api: string, errcode: number, errmsg: string, options: { cause?: unknown } = {}) {
    super(`${api} failed: ${errcode} ${errmsg}`, { cause: options.cause })
    this.api = api
    this.errcode = errcode
    this.errmsg = errmsg
  }
}

/** WeChat Pay v2 answered FAIL (communication, `return_code`) or a business failure (`result_code`/`err_code`). */
export class WeChatPayError extends Error {
  override readonly name = 'WeChatPayError'
  readonly returnCode: string
  readonly returnMsg: string | undefined
  readonly errCode: string | undefined
  readonly errCodeDes: string | undefined

  constructor(
    fields: { returnCode: string; returnMsg?: string; errCode?: string; errCodeDes?: string },
    options: { cause?: unknown } = {},
  ) {
    super(
      `WeChat Pay failed: ${fields.errCode ?? fields.returnCode} ${fields.errCodeDes ?? fields.returnMsg ?? ''}`.trim(),
      { cause: options.cause },
    )
    this.returnCode = fields.returnCode
    this.returnMsg = fields.returnMsg
    this.errCode = fields.errCode
    this.errCodeDes = fields.errCodeDes
  }
}

/** WeChat could not be reached, timed out, or answered something that is not WeChat's format. */
export class WeChatTransportError extends Error {
  override readonly name = 'WeChatTransportError'
  readonly api: string
  readonly status: number | undefined
  readonly timedOut: boolean

  constructor(
    api: string,
    options: { status?: number; timedOut?: boolean; cause?: unknown; message?: string } = {},
  ) {
    super(options.message ?? `${api}: WeChat unreachable`, { cause: options.cause })
    this.api = api
    this.status = options.status
    this.timedOut = options.timedOut ?? false
  }
}
