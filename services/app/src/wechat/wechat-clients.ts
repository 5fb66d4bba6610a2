// Builds the WeChat API and Pay clients from config (one dispatcher, honouring WECHAT_HTTP_PROXY).
import { createPayClient, createWeChatApiClient, createWeChatDispatcher } from '@wxgate/wechat'
import type { WeChatApiClient } from '@wxgate/wechat'
import type { Dispatcher } from 'undici'
import type { AppConfig } from '../config.js'
import { unconfiguredPay } from './pay-api.js'
import type { PayApi } from './pay-api.js'

export function createWeChatClients(config: AppConfig): {
  wechatApi: WeChatApiClient
  pay: PayApi
  dispatcher: Dispatcher
} {
  const dispatcher = createWeChatDispatcher({ proxyUrl: config.wechat.httpProxy })
  const wechatApi = createWeChatApiClient({
    appId: config.wechat.appId,
    secret: config.wechat.secret,
    baseUrl: config.wechat.apiBaseUrl,
    dispatcher,
  })
  const pay =
    config.pay === undefined
      ? unconfiguredPay
      : createPayClient({
          appId: config.wechat.appId,
          mchId: config.pay.mchId,
          apiKey: config.pay.apiKey,
          baseUrl: config.pay.apiBaseUrl,
          dispatcher,
        })
  return { wechatApi, pay, dispatcher }
}
