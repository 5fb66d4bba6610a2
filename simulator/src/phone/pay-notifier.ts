// WeChat Pay's result notification: signed v2 XML to notify_url, retried on WeChat's 24 h schedule until SUCCESS.
import { buildPayNotification, parsePayNotifyAnswer } from '@wxgate/wechat'
import type { NotificationRecord, SimContext } from '../context.js'
import type { SimOrder } from '../platform/pay.js'
import type { UserStore } from '../platform/user.js'

/** Seconds between tries after a failed one: 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h (24h04m). */
export const NOTIFY_RETRY_DELAYS_S = [
  15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10_800, 10_800, 10_800, 21_600, 21_600,
]

export interface NotifyOutcome {
  outTradeNo: string
  /** The merchant answered return_code SUCCESS. */
  ok: boolean
  attempts: number
  /** Retries are still scheduled. */
  pending: boolean
  last: NotificationRecord | undefined
}

export interface PayNotifier {
  /** Sends the first notification now and schedules the retries; resolves after the first try. */
  start(order: SimOrder): Promise<NotifyOutcome>
  /** Resolves when the merchant accepted or the schedule ran out (undefined: never notified). */
  settled(outTradeNo: string): Promise<NotifyOutcome> | undefined
  stop(): void
}

interface Delivery {
  order: SimOrder
  xml: string
  attempts: number
  ok: boolean
  pending: boolean
  last: NotificationRecord | undefined
  settle: (outcome: NotifyOutcome) => void
  settled: Promise<NotifyOutcome>
}

export function createPayNotifier(ctx: SimContext, users: UserStore): PayNotifier {
  const deliveries = new Map<string, Delivery>()
  const timers = new Set<NodeJS.Timeout>()
  let stopped = false

  const outcome = (delivery: Delivery): NotifyOutcome => ({
    outTradeNo: delivery.order.outTradeNo,
    ok: delivery.ok,
    attempts: delivery.attempts,
    pending: delivery.pending,
    last: delivery.last,
  })

  const attempt = async (delivery: Delivery): Promise<void> => {
    delivery.attempts++
    const record: NotificationRecord = {
      outTradeNo: delivery.order.outTradeNo,
      url: delivery.order.notifyUrl,
      attempt: delivery.attempts,
      at: ctx.now(),
      xml: delivery.xml,
      status: undefined,
      body: undefined,
      error: undefined,
      ok: false,
      retryInS: undefined,
    }
    try {
      const response = await fetch(delivery.order.notifyUrl, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body: delivery.xml,
        signal: AbortSignal.timeout(ctx.settings.pushTimeoutMs),
      })
      record.status = response.status
      record.body = await response.text()
      if (response.status === 200) record.ok = parsePayNotifyAnswer(record.body).ok
    } catch (error) {
      // Unreachable, timed out, or an answer that is not the notify XML: all mean "try again later".
      record.error = error instanceof Error ? error.message : String(error)
    }
    const delayS = record.ok ? undefined : NOTIFY_RETRY_DELAYS_S[delivery.attempts - 1]
    record.retryInS = stopped ? undefined : delayS
    ctx.records.notifications.push(record)
    delivery.last = record
    if (record.ok) {
      delivery.ok = true
      delivery.pending = false
      delivery.settle(outcome(delivery))
      return
    }
    if (delayS === undefined || stopped) {
      delivery.pending = false
      delivery.settle(outcome(delivery))
      return
    }
    const timer = setTimeout(
      () => {
        timers.delete(timer)
        void attempt(delivery)
      },
      (delayS * 1000) / ctx.settings.timeScale,
    )
    timer.unref()
    timers.add(timer)
  }

  return {
    async start(order) {
      const payer = users.get(order.payerOpenId ?? '')
      const fields: Record<string, string | number> = {
        appid: order.appId,
        bank_type: 'OTHERS',
        cash_fee: order.totalFee,
        fee_type: 'CNY',
        is_subscribe: payer?.subscribed === true ? 'Y' : 'N',
        mch_id: ctx.settings.mchId,
        nonce_str: ctx.randomToken(24).slice(0, 32),
        openid: order.payerOpenId ?? '',
        out_trade_no: order.outTradeNo,
        result_code: 'SUCCESS',
        return_code: 'SUCCESS',
        time_end: order.timeEnd ?? '',
        total_fee: order.totalFee,
        trade_type: order.tradeType,
        transaction_id: order.transactionId ?? '',
      }
      if (order.attach !== undefined) fields.attach = order.attach
      if (order.deviceInfo !== undefined) fields.device_info = order.deviceInfo
      // Notifications carry sign_type only for HMAC-SHA256 orders; MD5 (the default) goes without it.
      if (order.signType === 'HMAC-SHA256') fields.sign_type = 'HMAC-SHA256'
      let settle: (outcome: NotifyOutcome) => void = () => undefined
      const settled = new Promise<NotifyOutcome>((resolve) => {
        settle = resolve
      })
      const delivery: Delivery = {
        order,
        xml: buildPayNotification(fields, ctx.settings.payApiKey, order.signType),
        attempts: 0,
        ok: false,
        pending: true,
        last: undefined,
        settle,
        settled,
      }
      deliveries.set(order.outTradeNo, delivery)
      await attempt(delivery)
      return outcome(delivery)
    },
    settled: (outTradeNo) => deliveries.get(outTradeNo)?.settled,
    stop() {
      stopped = true
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      for (const delivery of deliveries.values()) {
        if (delivery.pending) {
          delivery.pending = false
          delivery.settle(outcome(delivery))
        }
      }
    },
  }
}
