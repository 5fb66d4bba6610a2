// The calls an event makes to app (create-or-update, then the scene binding), under one deadline.
import type { InternalCallOptions, InternalClient, InternalResponse } from '@wxgate/internal-api'

/** The part of @wxgate/internal-api's client that the gateway uses. */
export type AppClient = Pick<
  InternalClient,
  'createOrUpdateUser' | 'createBinding' | 'updateBinding' | 'updateOrder' | 'ready'
>

/** The effect of one subscribe/SCAN/unsubscribe on app; also what the spool stores. */
export interface EventJob {
  openId: string
  /** WeChat's CreateTime (unix seconds): app orders subscription changes by it. */
  eventTime: number
  subscribed: boolean
  binding?: { sceneStr: string; event: 'subscribe' | 'SCAN' }
}

export function isEventJob(value: unknown): value is EventJob {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  if (typeof v.openId !== 'string' || typeof v.eventTime !== 'number') return false
  if (typeof v.subscribed !== 'boolean') return false
  if (v.binding === undefined) return true
  if (typeof v.binding !== 'object' || v.binding === null) return false
  const b = v.binding as Record<string, unknown>
  return typeof b.sceneStr === 'string' && (b.event === 'subscribe' || b.event === 'SCAN')
}

export type AppCallName = 'user/create-or-update' | 'binding/update' | 'binding/create'

/**
 * `accepted`: app took the event (`binding` says what happened to the scene);
 * `refused`: app refused it for good (a 4xx that retrying cannot fix), logged and dropped;
 * `retry`: app was slow, down or failing; the event must be kept and delivered later.
 */
export type JobResult =
  | {
      outcome: 'accepted'
      binding: 'none' | 'updated' | 'created' | 'refused'
      bindingStatus?: number
    }
  | { outcome: 'refused'; call: AppCallName; status: number }
  | { outcome: 'retry'; call: AppCallName; status: number | 'unreachable' }

export interface RunJobOptions {
  requestId?: string
  /** The deadline shared by all the calls of the job. */
  signal: AbortSignal
  /** Told about every call: its name, duration and HTTP status (or `unreachable`). */
  observe?: (call: AppCallName, seconds: number, status: number | 'unreachable') => void
  /** Told why a call got no answer (timeout, refused connection, …). */
  onUnreachable?: (call: AppCallName, error: unknown) => void
}

/** Statuses after which the same call may succeed later: app trouble, or config being fixed (401/403). */
export function isRetryableStatus(status: number): boolean {
  return (
    status >= 500 ||
    status === 401 ||
    status === 403 ||
    status === 408 ||
    status === 425 ||
    status === 429
  )
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300
}

class DeadlineError extends Error {
  override readonly name = 'DeadlineError'
}

/** Resolves like `promise`, or rejects once `signal` aborts (the client may not stop by itself). */
function raceDeadline<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new DeadlineError('deadline passed'))
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new DeadlineError('deadline passed'))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error instanceof Error ? error : new Error('app call failed', { cause: error }))
      },
    )
  })
}

type Call = (options: InternalCallOptions) => Promise<InternalResponse>

async function timed(
  name: AppCallName,
  call: Call,
  options: RunJobOptions,
): Promise<number | 'unreachable'> {
  const started = performance.now()
  let status: number | 'unreachable'
  try {
    const answer = await raceDeadline(
      call({ requestId: options.requestId, signal: options.signal }),
      options.signal,
    )
    status = answer.status
  } catch (error) {
    // Network failure, timeout or our deadline: all mean "try again later" to the caller,
    // which records the event in the spool; the reason goes to the log.
    status = 'unreachable'
    options.onUnreachable?.(name, error)
  }
  options.observe?.(name, (performance.now() - started) / 1000, status)
  return status
}

/** Runs the job's calls in order; any retryable failure makes the whole job retry (each call is idempotent). */
export async function runEventJob(
  client: AppClient,
  job: EventJob,
  options: RunJobOptions,
): Promise<JobResult> {
  const user = await timed(
    'user/create-or-update',
    (o) =>
      client.createOrUpdateUser(
        { openid: job.openId, subscribed: job.subscribed, event_time: job.eventTime },
        o,
      ),
    options,
  )
  if (user === 'unreachable' || isRetryableStatus(user)) {
    return { outcome: 'retry', call: 'user/create-or-update', status: user }
  }
  if (!isSuccess(user)) return { outcome: 'refused', call: 'user/create-or-update', status: user }
  if (job.binding === undefined) return { outcome: 'accepted', binding: 'none' }

  const bindingBody = {
    scene_str: job.binding.sceneStr,
    openid: job.openId,
    event: job.binding.event,
    event_time: job.eventTime,
  }
  const update = await timed('binding/update', (o) => client.updateBinding(bindingBody, o), options)
  if (update === 'unreachable' || isRetryableStatus(update)) {
    return { outcome: 'retry', call: 'binding/update', status: update }
  }
  if (isSuccess(update)) return { outcome: 'accepted', binding: 'updated' }
  if (update !== 404) return { outcome: 'accepted', binding: 'refused', bindingStatus: update }

  // Not a login scene (e.g. a permanent channel QR): record the scan as a new binding.
  const create = await timed('binding/create', (o) => client.createBinding(bindingBody, o), options)
  if (create === 'unreachable' || isRetryableStatus(create)) {
    return { outcome: 'retry', call: 'binding/create', status: create }
  }
  if (isSuccess(create)) return { outcome: 'accepted', binding: 'created' }
  return { outcome: 'accepted', binding: 'refused', bindingStatus: create }
}
