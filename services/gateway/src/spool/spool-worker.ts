// Delivers spooled entries to app, in order per key, with backoff, until app accepts or refuses for good.
import type { Spool, SpoolEntry } from './spool.js'

/** `done`: accepted; `drop`: refused for good (logged by the caller); `retry`: try again later. */
export type DeliveryOutcome = 'done' | 'drop' | 'retry'

export interface BackoffOptions {
  initialMs: number
  maxMs: number
}

export interface SpoolWorkerOptions<T> {
  spool: Spool<T>
  deliver: (entry: SpoolEntry<T>) => Promise<DeliveryOutcome>
  backoff?: BackoffOptions
  /** How many keys are delivered at the same time. */
  concurrency?: number
  /** Told about failures of the worker itself (a delivery that threw, an unlink that failed). */
  onError?: (error: unknown, entry: SpoolEntry<T>) => void
  /** Told after every change of the spool's depth. */
  onDepth?: (depth: number) => void
  random?: () => number
  now?: () => number
}

export interface SpoolWorker<T> {
  /** Writes the entry durably, then schedules its delivery. */
  enqueue(key: string, payload: T, requestId?: string): Promise<SpoolEntry<T>>
  /** True while `key` has entries waiting: newer events for it must queue behind them. */
  hasPending(key: string): boolean
  depth(): number
  /** Starts delivering what the spool holds (entries left by an earlier run included). */
  start(): void
  /** Stops scheduling and waits for deliveries in flight. */
  stop(): Promise<void>
}

// Capped at 10 s: a spooled scan is a user waiting on a login page, so once app is back it should be
// delivered within seconds.
const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 10_000 }

/**
 * While app turns deliveries away, one key probes it and the others wait: with a timer per key, 15,000
 * users spooled during an outage made 1,500 attempts a second, two log lines each (~2 MB/s of log and
 * two-thirds of a core). The outage ends with the first delivery app takes; then every key goes.
 */
interface Outage {
  /** No delivery starts before this (ms, `now()`); then one key probes. */
  until: number
  /** How many probes in a row app turned away (the shared backoff's step). */
  step: number
  probing: string | undefined
}

export function createSpoolWorker<T>(options: SpoolWorkerOptions<T>): SpoolWorker<T> {
  const {
    spool,
    deliver,
    backoff = DEFAULT_BACKOFF,
    concurrency = 8,
    onError,
    onDepth,
    random = Math.random,
    now = Date.now,
  } = options

  let started = false
  let stopped = false
  const attempts = new Map<string, number>()
  const timers = new Map<string, NodeJS.Timeout>()
  const running = new Set<string>()
  const ready: string[] = []
  const inFlight = new Set<Promise<void>>()
  let outage: Outage | undefined
  /** Keys ready to go, held back by the outage. */
  const waiting = new Set<string>()
  let wakeTimer: NodeJS.Timeout | undefined

  function markReady(key: string): void {
    if (stopped || !started || running.has(key) || timers.has(key) || ready.includes(key)) return
    if (waiting.has(key)) return
    ready.push(key)
    pump()
  }

  /** Jittered backoff of the `n`th failure in a row (±20 %, so users queued together spread out). */
  function backoffMs(n: number): number {
    const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(n - 1, 30))
    return Math.round(base * (0.8 + 0.4 * random()))
  }

  /** Whether `key` may start now; during an outage only its one probe may. */
  function mayStart(key: string): boolean {
    if (outage === undefined) return true
    if (outage.probing === undefined && now() >= outage.until) {
      outage.probing = key
      return true
    }
    return false
  }

  /** Lets one waiting key probe once the outage's pause is over. */
  function wakeLater(): void {
    if (outage === undefined || wakeTimer !== undefined || stopped) return
    wakeTimer = setTimeout(
      () => {
        wakeTimer = undefined
        const next = waiting.values().next()
        if (next.done === true) return
        waiting.delete(next.value)
        markReady(next.value)
      },
      Math.max(0, outage.until - now()),
    )
    wakeTimer.unref()
  }

  function turnedAway(): void {
    const step = (outage?.step ?? 0) + 1
    outage = { until: now() + backoffMs(step), step, probing: undefined }
    if (waiting.size > 0) wakeLater()
  }

  function taken(): void {
    if (outage === undefined) return
    outage = undefined
    if (wakeTimer !== undefined) clearTimeout(wakeTimer)
    wakeTimer = undefined
    const keys = [...waiting]
    waiting.clear()
    for (const key of keys) markReady(key)
  }

  function pump(): void {
    while (!stopped && running.size < concurrency && ready.length > 0) {
      const key = ready.shift()
      if (key === undefined) break
      if (!mayStart(key)) {
        waiting.add(key)
        wakeLater()
        continue
      }
      running.add(key)
      const run = drain(key).finally(() => {
        running.delete(key)
        inFlight.delete(run)
        // A probe that ended without an answer (nothing left to deliver, or stopped) frees its turn.
        if (outage?.probing === key) {
          outage.probing = undefined
          wakeLater()
        }
        // An entry appended while this drain was finishing would otherwise wait for a restart.
        if (spool.has(key)) markReady(key)
        pump()
      })
      inFlight.add(run)
    }
  }

  function retryLater(key: string): void {
    const n = (attempts.get(key) ?? 0) + 1
    attempts.set(key, n)
    const delay = backoffMs(n)
    const timer = setTimeout(() => {
      timers.delete(key)
      markReady(key)
    }, delay)
    timer.unref()
    timers.set(key, timer)
  }

  async function drain(key: string): Promise<void> {
    for (;;) {
      if (stopped) return
      const entry = spool.head(key)
      if (entry === undefined) {
        attempts.delete(key)
        return
      }
      let outcome: DeliveryOutcome
      try {
        outcome = await deliver(entry)
      } catch (error) {
        onError?.(error, entry)
        outcome = 'retry'
      }
      if (outcome === 'retry') {
        turnedAway()
        retryLater(key)
        return
      }
      taken()
      try {
        await spool.remove(entry)
      } catch (error) {
        onError?.(error, entry)
        retryLater(key)
        return
      }
      attempts.delete(key)
      onDepth?.(spool.depth())
    }
  }

  return {
    async enqueue(key, payload, requestId) {
      const entry = await spool.append(key, payload, requestId)
      onDepth?.(spool.depth())
      // App just failed this event: give it a moment (the first backoff step) before trying again.
      if (started && !stopped && !running.has(key) && !timers.has(key) && !ready.includes(key)) {
        retryLater(key)
      }
      return entry
    },
    hasPending(key) {
      return spool.has(key)
    },
    depth() {
      return spool.depth()
    },
    start() {
      if (started || stopped) return
      started = true
      onDepth?.(spool.depth())
      for (const key of spool.keys()) markReady(key)
    },
    async stop() {
      stopped = true
      for (const timer of timers.values()) clearTimeout(timer)
      timers.clear()
      if (wakeTimer !== undefined) clearTimeout(wakeTimer)
      waiting.clear()
      ready.length = 0
      await Promise.allSettled([...inFlight])
    },
  }
}
