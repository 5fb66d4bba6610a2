// The app's own Prometheus metrics: calls to WeChat (and their failures) and orders paid.
import { Counter, type Registry } from 'prom-client'

export interface AppMetrics {
  wechatCalls: Counter<'api'>
  wechatErrors: Counter<'api' | 'code'>
  ordersPaid: Counter<'source'>
}

export function createAppMetrics(registry: Registry): AppMetrics {
  return {
    wechatCalls: new Counter({
      name: 'wxgate_wechat_calls_total',
      help: 'Calls from app to WeChat, by API',
      labelNames: ['api'],
      registers: [registry],
    }),
    wechatErrors: new Counter({
      name: 'wxgate_wechat_errors_total',
      help: 'Failed calls from app to WeChat, by API and error code',
      labelNames: ['api', 'code'],
      registers: [registry],
    }),
    ordersPaid: new Counter({
      name: 'wxgate_orders_paid_total',
      help: 'Orders marked paid, by what reported the payment (notification or reconciliation)',
      labelNames: ['source'],
      registers: [registry],
    }),
  }
}
