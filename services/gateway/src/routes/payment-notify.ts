// POST /api/v1/payment/notify: WeChat Pay v2 result notifications; SUCCESS only once app has taken the result.
import type { FastifyInstance, FastifyReply } from 'fastify'
import { parsePayNotification, renderPayNotifyAnswer } from '@wxgate/wechat'
import type { PayNotification, PayNotificationCheck } from '@wxgate/wechat'
import { isProtocolError } from '../errors.js'
import type { AppClient } from '../events/app-calls.js'
import type { GatewayMetrics } from '../metrics.js'
import { statusClass } from '../metrics.js'
import { assertReadableContentType, useXmlBodies, XML_BODY_LIMIT } from './xml-body.js'

export const PAYMENT_NOTIFY_PATH = '/api/v1/payment/notify'

export interface PaymentNotifyRoutesOptions {
  appId: string
  /** Unset: every notification is answered FAIL, and WeChat keeps retrying it for 24 h. */
  pay: { mchId: string; apiKey: string } | undefined
  client: AppClient
  /** How long app may take to record a payment. */
  deadlineMs: number
  metrics: GatewayMetrics
}

type PayOutcome =
  | 'success'
  | 'rejected'
  | 'invalid'
  | 'not_configured'
  | 'result_fail'
  | 'app_refused'
  | 'app_error'
  | 'app_unreachable'

/** What WeChat is told SUCCESS for: app has taken the result (a failed payment's included). */
const ACKNOWLEDGED: ReadonlySet<PayOutcome> = new Set(['success', 'result_fail'])

export function paymentNotifyRoutes(
  app: FastifyInstance,
  options: PaymentNotifyRoutesOptions,
  done: (error?: Error) => void,
): void {
  const { appId, pay, client, deadlineMs, metrics } = options
  useXmlBodies(app)
  // Fixed per process, so built once here: the hot path only checks and forwards.
  const check: PayNotificationCheck | undefined =
    pay === undefined ? undefined : { apiKey: pay.apiKey, appId, mchId: pay.mchId }
  // The message WeChat logs says only "accepted" or "retry": the reason is in our log.
  const accepted = renderPayNotifyAnswer(true, 'OK')
  const retry = renderPayNotifyAnswer(false, 'FAIL')

  function answer(reply: FastifyReply, outcome: PayOutcome): FastifyReply {
    metrics.payNotifications.inc({ outcome })
    return reply
      .type('application/xml; charset=utf-8')
      .send(ACKNOWLEDGED.has(outcome) ? accepted : retry)
  }

  app.post(PAYMENT_NOTIFY_PATH, {
    bodyLimit: XML_BODY_LIMIT,
    preParsing: async (request, _reply, payload) => {
      assertReadableContentType(request.headers['content-type'])
      return payload
    },
    handler: async (request, reply) => {
      if (check === undefined) {
        request.log.error('payment notification refused: WECHAT_PAY_MCHID/WECHAT_PAY_API_KEY unset')
        return answer(reply, 'not_configured')
      }
      const body = request.body
      if (typeof body !== 'string' || body === '') {
        request.log.warn({ code: 'BODY_MISSING' }, 'payment notification refused')
        return answer(reply, 'invalid')
      }
      let notification: PayNotification
      try {
        notification = parsePayNotification(body, check)
      } catch (error) {
        if (!isProtocolError(error)) throw error
        request.log.warn({ code: error.code }, 'payment notification refused')
        const invalid = error.code === 'XML_INVALID' || error.code === 'MESSAGE_INVALID'
        return answer(reply, invalid ? 'invalid' : 'rejected')
      }
      const { outTradeNo } = notification
      // A failed payment is news for app too (nothing is paid; an unknown order is still refused), and once
      // app has taken it the answer is SUCCESS: FAIL would have WeChat resend it for 24 hours.
      const paid = notification.resultCode === 'SUCCESS'
      if (!paid) {
        request.log.warn(
          { outTradeNo, errCode: notification.errCode },
          'payment notification with result_code FAIL',
        )
      }

      const started = performance.now()
      let status: number | 'unreachable'
      try {
        const response = await client.updateOrder(
          {
            out_trade_no: outTradeNo,
            transaction_id: notification.transactionId,
            total_fee: notification.totalFee,
            // WeChat's trade_state for a payment that failed; app records nothing for it.
            trade_state: paid ? 'SUCCESS' : 'PAYERROR',
            paid_at: notification.paidAt.toISOString(),
            ...(notification.openId === undefined ? {} : { openid: notification.openId }),
          },
          { requestId: request.id, timeoutMs: deadlineMs },
        )
        status = response.status
      } catch (error) {
        // WeChat's own 24-hour retry schedule is the durable queue for payments.
        request.log.warn({ err: error, outTradeNo }, 'app unreachable for order/update')
        status = 'unreachable'
      }
      metrics.appCallDuration.observe(
        { call: 'order/update', status: statusClass(status) },
        (performance.now() - started) / 1000,
      )
      if (status === 200) {
        if (!paid) return answer(reply, 'result_fail')
        request.log.info({ outTradeNo }, 'payment recorded')
        return answer(reply, 'success')
      }
      if (status === 'unreachable') return answer(reply, 'app_unreachable')
      request.log.warn({ outTradeNo, status }, 'app did not record the payment')
      return answer(reply, status >= 500 ? 'app_error' : 'app_refused')
    },
  })
  done()
}
