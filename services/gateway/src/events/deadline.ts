// Runs a piece of work under a deadline signal whose timer is cleared as soon as the work settles.
/**
 * Calls `run` with a signal that aborts (reason: a `TimeoutError` DOMException, as
 * `AbortSignal.timeout` gives) after `ms`, and clears the timer once `run` settles. Unlike
 * `AbortSignal.timeout()`, no timer outlives the work to fire later and build an error for nothing.
 */
export async function withDeadline<T>(
  ms: number,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController()
  const timer = setTimeout(() => {
    controller.abort(new DOMException(`deadline of ${ms} ms passed`, 'TimeoutError'))
  }, ms)
  try {
    return await run(controller.signal)
  } finally {
    clearTimeout(timer)
  }
}
