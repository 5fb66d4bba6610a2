// Wraps a WeChat client so every method call is counted (and failures by code) in the app's metrics.
import { WeChatApiError, WeChatPayError, WeChatTransportError } from '@wxgate/wechat'
import type { AppMetrics } from '../metrics/app-metrics.js'

function errorCode(error: unknown): string {
  if (error instanceof WeChatApiError) return String(error.errcode)
  if (error instanceof WeChatPayError) return error.errCode ?? error.returnCode
  if (error instanceof WeChatTransportError) return error.timedOut ? 'timeout' : 'unreachable'
  return 'error'
}

/** Returns a proxy of `client` whose async methods record `wechatCalls` and `wechatErrors`. */
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
      return (...args: unknown[]) => {
        const api = `${prefix}.${property}`
        metrics.wechatCalls.inc({ api })
        let result: unknown
        try {
          result = method.apply(target, args)
        } catch (error) {
          metrics.wechatErrors.inc({ api, code: errorCode(error) })
          throw error
        }
        if (result instanceof Promise) {
          return result.catch((error: unknown) => {
            metrics.wechatErrors.inc({ api, code: errorCode(error) })
            throw error
          })
        }
        return result
      }
    },
  })
}
