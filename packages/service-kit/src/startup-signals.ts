// The start-up stop handler of scripts/launch.mjs: until a service listens, a stop signal exits 0 at once
// (nothing is in flight). Whoever takes the signals over removes it.

/**
 * The signals that stop a service gracefully: SIGTERM (process managers), SIGINT (Ctrl-C) and SIGHUP (a closed
 * terminal hangs up its whole process group; by default node would die at once, without draining). launch.mjs
 * spells the same list in plain JS.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = Object.freeze([
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
])

/** Where launch.mjs keeps its handler (the same `Symbol.for` key is spelled there, in plain JS). */
const STARTUP_STOP_HANDLER = Symbol.for('wxgate.startup-stop-handler')

/** Removes launch.mjs's start-up stop handler, if this process was started by it; idempotent. */
export function releaseStartupStopHandler(signals: readonly NodeJS.Signals[] = STOP_SIGNALS): void {
  const holder = process as unknown as Record<symbol, unknown>
  const handler = holder[STARTUP_STOP_HANDLER]
  if (typeof handler !== 'function') return
  for (const signal of signals) process.removeListener(signal, handler as () => void)
  delete holder[STARTUP_STOP_HANDLER]
}
