// Reconciliation: asks WeChat Pay (orderquery) about pending orders whose notification may be lost,
// and closes expired ones (closeorder). A SUCCESS goes through the same recordPayment as a notification.
import type { FastifyBaseLogger } from 'fastify'
import type { OrdersService } from '../orders/orders.service.js'

export interface ReconcileReport {
  queried: number
  paid: number
  closed: number
  failed: number
}

export interface ReconcileJob {
  /** One pass; concurrent calls share the pass in progress. */
  runOnce(): Promise<ReconcileReport>
  start(): void
  stop(): Promise<void>
}

const BATCH = 100

export function createReconcileJob({
  orders,
  intervalS,
  minAgeS,
  logger,
}: {
  orders: OrdersService
  intervalS: number
  minAgeS: number
  logger: FastifyBaseLogger
}): ReconcileJob {
  let running: Promise<ReconcileReport> | undefined
  let timer: NodeJS.Timeout | undefined
  let stopped = false

  async function pass(): Promise<ReconcileReport> {
    const report: ReconcileReport = { queried: 0, paid: 0, closed: 0, failed: 0 }
    for (const order of await orders.listToReconcile(minAgeS * 1000, BATCH)) {
      if (stopped) break
      let answer: Awaited<ReturnType<OrdersService['queryAndRecord']>>
      try {
        answer = await orders.queryAndRecord(order)
      } catch (error) {
        report.queried += 1
        report.failed += 1
        logger.warn({ err: error, outTradeNo: order.out_trade_no }, 'orderquery failed')
        continue
      }
      if (answer === null) continue // another app instance took it since it was listed
      report.queried += 1
      if (answer.changed && answer.tradeState === 'SUCCESS') report.paid += 1
      else if (answer.changed) report.closed += 1
    }
    for (const order of await orders.listExpired(BATCH)) {
      if (stopped) break
      try {
        const outcome = await orders.closeExpired(order)
        if (outcome === 'paid') report.paid += 1
        else if (outcome === 'closed') report.closed += 1
      } catch (error) {
        report.failed += 1
        logger.warn({ err: error, outTradeNo: order.out_trade_no }, 'closeorder failed')
      }
    }
    if (report.queried + report.paid + report.closed + report.failed > 0) {
      logger.info({ report }, 'reconciliation pass')
    }
    return report
  }

  function runOnce(): Promise<ReconcileReport> {
    running ??= pass().finally(() => {
      running = undefined
    })
    return running
  }

  function schedule(): void {
    if (stopped) return
    timer = setTimeout(() => {
      runOnce()
        .catch((error: unknown) => {
          logger.error({ err: error }, 'reconciliation pass failed')
        })
        .finally(schedule)
    }, intervalS * 1000)
    timer.unref()
  }

  return {
    runOnce,
    start() {
      stopped = false
      if (timer === undefined) schedule()
    },
    async stop() {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      if (running !== undefined) await running.catch(() => undefined)
    },
  }
}
