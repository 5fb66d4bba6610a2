// Maps failures of calls to WeChat onto the app's HTTP errors (502/504), keeping the cause.
import {
  WeChatApiError,
  WeChatPayError,
  WeChatProtocolError,
  WeChatTransportError,
} from '@wxgate/wechat'
import { AppErrors } from '../errors.js'

/** Returns the HTTP error to throw for a failed WeChat call, or the error itself if it is not one. */
export function toWeChatHttpError(error: unknown): unknown {
  if (error instanceof WeChatTransportError) {
    return error.timedOut
      ? new AppErrors.WECHAT_TIMEOUT({ cause: error })
      : new AppErrors.WECHAT_UNAVAILABLE({ cause: error })
  }
  if (error instanceof WeChatApiError || error instanceof WeChatPayError) {
    return new AppErrors.WECHAT_REJECTED({ cause: error })
  }
  // An answer we must not use: its sign does not verify, it is for another merchant, or it lacks a field.
  if (error instanceof WeChatProtocolError) return new AppErrors.WECHAT_BAD_ANSWER({ cause: error })
  return error
}
