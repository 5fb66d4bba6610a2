// The gateway's own Prometheus metrics, registered on the service's registry (service-kit adds the HTTP ones).
import { Counter, Gauge, Histogram } from 'prom-client'
import type { Registry } from 'prom-client'

export interface GatewayMetrics {
  /** type: subscribe, SCAN, text, … or `invalid`; outcome: delivered, spooled, duplicate, dropped, ignored, rejected, failed (neither delivered nor spooled), delivered_from_spool. */
  wechatEvents: Counter<'type' | 'outcome'>
  /** outcome: success, rejected (sign/appid/mch_id), invalid, not_configured, result_fail, app_refused, app_error, app_unreachable. */
  payNotifications: Counter<'outcome'>
  spoolDepth: Gauge
  /** call: user/create-or-update, binding/update, binding/create, order/update, readyz; status: HTTP status class or unreachable. */
  appCallDuration: Histogram<'call' | 'status'>
  /** method: GET or POST — requests to the WeChat URL answered without Fastify's per-request frame. */
  fastPathRequests: Counter<'method'>
}

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  return {
    wechatEvents: new Counter({
      name: 'wechat_events_total',
      help: 'WeChat pushes by message/event type and what became of them',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    }),
    payNotifications: new Counter({
      name: 'pay_notifications_total',
      help: 'WeChat Pay notifications by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    spoolDepth: new Gauge({
      name: 'gateway_spool_depth',
      help: 'Events waiting in the spool for app to accept them',
      registers: [registry],
    }),
    appCallDuration: new Histogram({
      name: 'app_call_duration_seconds',
      help: 'Duration of internal calls from the gateway to app',
      labelNames: ['call', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5],
      registers: [registry],
    }),
    fastPathRequests: new Counter({
      name: 'gateway_fast_path_requests_total',
      help: 'Requests to the WeChat URL taken by the node:http fast path ahead of Fastify, by method',
      labelNames: ['method'],
      registers: [registry],
    }),
  }
}

/** `2xx`, `4xx`, `5xx` or `unreachable`: a bounded label set. */
export function statusClass(status: number | 'unreachable'): string {
  return status === 'unreachable' ? status : `${Math.floor(status / 100)}xx`
}
