// The fast path's answers, written together at the end of the event loop's turn rather than one by one.
//
// Why: under load one turn's poll phase reads many requests (46 answers per turn on average with 50
// connections, measured with the push handler on a bare node:http server). Writing each answer as soon
// as it is ready wakes the client's side of the socket once per answer: nginx in production, wrk in the
// benchmark, asleep again between two answers. On the 2-core VM that wake-up was charged to our write
// and cost about as much as the push's own work (36–39k client sleeps for 37–39k answers; with the
// answers written together, ~4k for 50k). Written in the check phase that follows the poll phase, the
// answers of one turn reach the client in one burst. A lone request waits for nothing: its turn's check
// phase comes right after its poll phase. docs/benchmarks.md ("Pair 2: answers written at the end of
// the turn") has the measurements.
import type { ServerResponse } from 'node:http'

export interface AnswerQueue {
  /**
   * Runs `write` (which answers `res`) in this turn's check phase, after every answer deferred before
   * it. A write that throws is reported with its response and request id; the others are still written.
   */
  defer(res: ServerResponse, requestId: string, write: () => void): void
}

export function createAnswerQueue(
  onWriteError: (error: unknown, res: ServerResponse, requestId: string) => void,
): AnswerQueue {
  let queued: { res: ServerResponse; requestId: string; write: () => void }[] = []

  const flush = (): void => {
    // Swapped out first: a write that defers another answer schedules the next flush.
    const due = queued
    queued = []
    for (const { res, requestId, write } of due) {
      try {
        write()
      } catch (error) {
        onWriteError(error, res, requestId)
      }
    }
  }

  return {
    defer(res, requestId, write) {
      queued.push({ res, requestId, write })
      if (queued.length === 1) setImmediate(flush)
    },
  }
}
