// Turns a verified inbound message into its effect on app (direct, or via the spool) and the passive reply's text.
import { LOGIN_SCENE_PREFIX } from '@wxgate/internal-api'
import { inboundDedupeKey } from '@wxgate/wechat'
import type { InboundMessage } from '@wxgate/wechat'
import { runEventJob } from './app-calls.js'
import type { AppCallName, AppClient, EventJob, JobResult } from './app-calls.js'
import type { DedupeStore } from './dedupe.js'
import type { SpoolWorker } from '../spool/spool-worker.js'
import { withDeadline } from './deadline.js'

export interface ReplyTexts {
  welcome: string
  loginSuccess: string
  /** For anything that is not subscribe/SCAN/unsubscribe; undefined = `success`. */
  fallback: string | undefined
}

/** `delivered`: app took it now; `spooled`: kept for later; `duplicate`: a retry already handled; `dropped`: refused by app for good; `ignored`: nothing to do. */
export type EventOutcome = 'delivered' | 'spooled' | 'duplicate' | 'dropped' | 'ignored'

export interface DispatchResult {
  outcome: EventOutcome
  /** The passive text reply; undefined = answer `success`. */
  replyText: string | undefined
}

export interface EventDispatcherOptions {
  client: AppClient
  dedupe: DedupeStore
  worker: SpoolWorker<EventJob>
  replies: ReplyTexts
  /** Total time the internal calls of one push may take before the event goes to the spool. */
  deadlineMs: number
  dedupeTtlS?: number
  observeCall?: (call: AppCallName, seconds: number, status: number | 'unreachable') => void
}

/**
 * The log of one request: Fastify's `request.log`, or the fast path's equivalent with the same reqId.
 * Only the `(fields, message)` form, which is all the push code writes and all the fast path implements.
 */
export interface PushLog {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
  error(fields: object, message: string): void
}

export interface DispatchContext {
  requestId: string
  log: PushLog
}

export interface EventDispatcher {
  dispatch(msg: InboundMessage, context: DispatchContext): Promise<DispatchResult>
}

/** Thrown when an event could neither be delivered nor spooled: WeChat must retry it. */
export class SpoolWriteError extends Error {
  override readonly name = 'SpoolWriteError'
}

/** The metric label of a message: its event, its MsgType, or `unknown`. */
export function messageType(msg: InboundMessage): string {
  if (msg.msgType === 'event') return msg.event
  if (msg.msgType === 'unknown') return 'unknown'
  return msg.msgType
}

/** The app-side effect of a message, if it has one. */
export function jobForMessage(msg: InboundMessage): EventJob | undefined {
  if (msg.msgType !== 'event') return undefined
  const base = { openId: msg.fromUserName, eventTime: msg.createTime }
  switch (msg.event) {
    case 'subscribe':
      return msg.sceneStr !== undefined && msg.sceneStr !== ''
        ? { ...base, subscribed: true, binding: { sceneStr: msg.sceneStr, event: 'subscribe' } }
        : { ...base, subscribed: true }
    case 'SCAN':
      return msg.eventKey !== ''
        ? { ...base, subscribed: true, binding: { sceneStr: msg.eventKey, event: 'SCAN' } }
        : { ...base, subscribed: true }
    case 'unsubscribe':
      return { ...base, subscribed: false }
    case 'CLICK':
    case 'VIEW':
      return undefined
  }
}

function replyFor(
  job: EventJob,
  replies: ReplyTexts,
  result: JobResult | undefined,
): string | undefined {
  if (!job.subscribed) return undefined
  if (job.binding === undefined) return replies.welcome
  if (job.binding.event === 'SCAN') return replies.loginSuccess
  // A follow through a QR code is a login when app took it as one (binding/update answers only for its
  // login scenes); when app has not answered (a retry, or the event kept for later), the scene says.
  if (result?.outcome === 'accepted') {
    return result.binding === 'updated' ? replies.loginSuccess : replies.welcome
  }
  return job.binding.sceneStr.startsWith(LOGIN_SCENE_PREFIX)
    ? replies.loginSuccess
    : replies.welcome
}

export function createEventDispatcher(options: EventDispatcherOptions): EventDispatcher {
  const { client, dedupe, worker, replies, deadlineMs, dedupeTtlS = 3600, observeCall } = options
  // The deadline of app's calls, a spool write and some slack: under WeChat's 5 s before it retries.
  const handlingTtlS = Math.ceil(deadlineMs / 1000) + 2

  async function spool(job: EventJob, context: DispatchContext, why: unknown): Promise<void> {
    try {
      await worker.enqueue(job.openId, job, context.requestId)
    } catch (error) {
      throw new SpoolWriteError('event could not be spooled', { cause: error })
    }
    context.log.warn({ openId: job.openId, why, spoolDepth: worker.depth() }, 'event spooled')
  }

  return {
    async dispatch(msg, context) {
      const job = jobForMessage(msg)
      if (job === undefined) return { outcome: 'ignored', replyText: replies.fallback }

      // WeChat's key for an event is its sender and second: the event name and scene are added, so that
      // two different events of one second (a user scanning two login codes) never collide.
      const scene = job.binding === undefined ? '' : `:${job.binding.sceneStr}`
      const key = `${inboundDedupeKey(msg)}:${messageType(msg)}${scene}`
      // Claimed in two steps. First only for as long as handling can take, so that if this process dies
      // before the event is delivered or spooled (the claim would outlive it in Redis), WeChat's retry
      // 5 s later finds it free and the event is not lost; once the effect is recorded, for an hour.
      let claimed: boolean
      try {
        claimed = await dedupe.claim(key, handlingTtlS)
      } catch (error) {
        // Without the shared store we still process: app orders subscription changes by event_time.
        context.log.warn({ err: error }, 'dedupe store unavailable, processing without it')
        claimed = true
      }
      if (!claimed) {
        return { outcome: 'duplicate', replyText: replyFor(job, replies, undefined) }
      }

      let dispatched: DispatchResult
      try {
        dispatched = await handle(job, context)
      } catch (error) {
        // Nothing was recorded: free the claim so WeChat's retry gets processed.
        try {
          await dedupe.release(key)
        } catch (releaseError) {
          context.log.error({ err: releaseError }, 'dedupe claim could not be released')
        }
        throw error
      }
      try {
        await dedupe.hold(key, dedupeTtlS)
      } catch (error) {
        // The effect is recorded; a retry after the short claim would repeat it, which app orders by event_time.
        context.log.warn({ err: error }, 'dedupe claim could not be extended')
      }
      return dispatched
    },
  }

  async function handle(job: EventJob, context: DispatchContext): Promise<DispatchResult> {
    if (worker.hasPending(job.openId)) {
      // Older events of this user are still waiting: this one must not overtake them.
      await spool(job, context, 'queued behind earlier events')
      return { outcome: 'spooled', replyText: replyFor(job, replies, undefined) }
    }
    const result = await withDeadline(deadlineMs, (signal) =>
      runEventJob(client, job, {
        requestId: context.requestId,
        signal,
        observe: observeCall,
        onUnreachable: (call, error) =>
          context.log.warn({ err: error, call }, 'app did not answer in time'),
      }),
    )
    switch (result.outcome) {
      case 'accepted':
        if (result.binding === 'refused') {
          context.log.warn(
            { openId: job.openId, status: result.bindingStatus },
            'app refused the scene binding; dropped',
          )
        }
        return { outcome: 'delivered', replyText: replyFor(job, replies, result) }
      case 'refused':
        context.log.warn(
          { openId: job.openId, call: result.call, status: result.status },
          'app refused the event; dropped',
        )
        return { outcome: 'dropped', replyText: replyFor(job, replies, result) }
      case 'retry':
        await spool(job, context, { call: result.call, status: result.status })
        return { outcome: 'spooled', replyText: replyFor(job, replies, result) }
    }
  }
}
