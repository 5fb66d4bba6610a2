// The undici dispatcher every outbound WeChat client shares: direct, or through WECHAT_HTTP_PROXY.
import { Agent, ProxyAgent } from 'undici'
import type { Dispatcher } from 'undici'

/** Default TCP/TLS connect deadline in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3000

export interface WeChatDispatcherOptions {
  /** `http://user:pass@proxy:3128`; IP-whitelist setups send every WeChat call through one egress. */
  proxyUrl?: string
  connectTimeoutMs?: number
}

export function createWeChatDispatcher(options: WeChatDispatcherOptions = {}): Dispatcher {
  const connect = { timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS }
  if (options.proxyUrl !== undefined && options.proxyUrl !== '') {
    return new ProxyAgent({ uri: options.proxyUrl, connect, proxyTls: connect })
  }
  return new Agent({ connect })
}
