// Delivery of a spooled event to app: what each outcome of runEventJob means once WeChat has been answered
// (the live path's meanings, for a push still waiting on its answer, are in dispatch.ts).
import type { FastifyBaseLogger } from 'fastify'
import type { GatewayMetrics } from '../metrics.js'
import type { DeliveryOutcome } from '../spool/spool-worker.js'
import type { SpoolEntry } from '../spool/spool.js'
import { runEventJob } from './app-calls.js'
import type { AppCallName, AppClient, EventJob } from './app-calls.js'
import { withDeadline } from './deadline.js'

/** The `wechat_events_total` type of a job: the event it came from, as messageType() names it. */
export function jobType(job: EventJob): string {
  if (!job.subscribed) return 'unsubscribe'
  return job.binding?.event ?? 'subscribe'
}

export interface SpoolDeliveryOptions {
  client: AppClient
  metrics: GatewayMetrics
  /** Budget of one delivery attempt. */
  timeoutMs: number
  observeCall: (call: AppCallName, seconds: number, status: number | 'unreachable') => void
  log: FastifyBaseLogger
}

export function createSpoolDelivery(
  options: SpoolDeliveryOptions,
): (entry: SpoolEntry<EventJob>) => Promise<DeliveryOutcome> {
  const { client, metrics, timeoutMs, observeCall } = options
  return async (entry) => {
    const log = options.log.child({ reqId: entry.requestId, spoolEntry: entry.id })
    const job = entry.payload
    const result = await withDeadline(timeoutMs, (signal) =>
      runEventJob(client, job, {
        ...(entry.requestId === undefined ? {} : { requestId: entry.requestId }),
        signal,
        observe: observeCall,
        onUnreachable: (call, error) => log.warn({ err: error, call }, 'app did not answer'),
      }),
    )
    switch (result.outcome) {
      case 'accepted':
        if (result.binding === 'refused') {
          log.warn({ status: result.bindingStatus }, 'app refused the scene binding; dropped')
        }
        metrics.wechatEvents.inc({ type: jobType(job), outcome: 'delivered_from_spool' })
        log.info({ openId: job.openId }, 'spooled event delivered')
        return 'done'
      case 'refused':
        metrics.wechatEvents.inc({ type: jobType(job), outcome: 'dropped' })
        log.warn(
          { call: result.call, status: result.status },
          'app refused a spooled event; dropped',
        )
        return 'drop'
      case 'retry':
        log.warn({ call: result.call, status: result.status }, 'spooled event not accepted yet')
        return 'retry'
    }
  }
}
