// Wraps a WeChat client so every call that went to WeChat is counted (and failures by code) in the
// app's metrics. Local work is not a call: a synchronous method (jsapiPayParams signs here) is not
// counted, nor is a refusal that never left the process (PAY_NOT_CONFIGURED without WeChat Pay).
import {
  WeChatApiError,
  WeChatPayError,
  WeChatProtocolError,
  WeChatTransportError,
} from '@wxgate/wechat'
import type { AppMetrics } from '../metrics/app-metrics.js'

/** The failure's code for `wechat_errors_total`, or undefined for one that is not WeChat's. */
function wechatErrorCode(error: unknown): string | undefined {
  if (error instanceof WeChatApiError) return String(error.errcode)
  if (error instanceof WeChatPayError) return error.errCode ?? error.returnCode
  if (error instanceof WeChatTransportError) return error.timedOut ? 'timeout' : 'unreachable'
  if (error instanceof WeChatProtocolError) return error.code
  return undefined
}

/** Returns a proxy of `client` whose asynchronous methods record `wechatCalls` and `wechatErrors`. */
export function instrumentClient<T extends object>(
  client: T,
  prefix: string,
  metrics: AppMetrics,
): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (typeof value !== 'function' || typeof property !== 'string') return value
      const method = value as (...args: unknown[]) => unknown
      const api = `${prefix}.${property}`
      return (...args: unknown[]) => {
        const result = method.apply(target, args)
        if (!(result instanceof Promise)) return result
        return result.then(
          (answer: unknown) => {
            metrics.wechatCalls.inc({ api })
            return answer
          },
          (error: unknown) => {
            const code = wechatErrorCode(error)
            if (code !== undefined) {
              metrics.wechatCalls.inc({ api })
              metrics.wechatErrors.inc({ api, code })
            }
            throw error
          },
        )
      }
    },
  })
}
