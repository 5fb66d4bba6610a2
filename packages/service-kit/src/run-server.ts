// runServer: listen, then on SIGTERM/SIGINT/SIGHUP drain (app.close) and exit 0; a later signal forces exit.
import type { FastifyInstance } from 'fastify'
import { releaseStartupStopHandler, STOP_SIGNALS } from './startup-signals.js'

export interface RunServerOptions {
  host: string
  port: number
  /** Longest drain before giving up with exit 1; default 10 s. */
  closeTimeoutMs?: number
  signals?: readonly NodeJS.Signals[]
}

/** A signal this soon after the first is the same stop delivered twice, not an operator insisting. */
const REPEAT_WINDOW_MS = 1000

/** Resolves with the listening address. Only a `server.ts` calls this. */
export async function runServer(app: FastifyInstance, options: RunServerOptions): Promise<string> {
  const { host, port, closeTimeoutMs = 10_000, signals = STOP_SIGNALS } = options
  const address = await app.listen({ host, port })
  let closingSince: number | undefined

  const onSignal = (signal: NodeJS.Signals): void => {
    if (closingSince !== undefined) {
      // One stop often arrives twice: Ctrl-C or `kill -- -pgid` reaches node from the kernel and again
      // from npm, which forwards it; systemd signals the whole group. Only a later signal means "now".
      if (performance.now() - closingSince < REPEAT_WINDOW_MS) return
      app.log.warn({ signal }, 'second signal, exiting without draining')
      process.exit(1)
    }
    closingSince = performance.now()
    app.log.info({ signal }, 'draining in-flight requests before exit')
    const timer = setTimeout(() => {
      app.log.error({ closeTimeoutMs }, 'drain timed out, exiting')
      process.exit(1)
    }, closeTimeoutMs)
    timer.unref()
    app.close().then(
      () => {
        clearTimeout(timer)
        process.exit(0)
      },
      (error: unknown) => {
        app.log.error({ err: error }, 'error while closing')
        process.exit(1)
      },
    )
  }
  // Hooks cannot be added once listening, so the handlers stay for the life of the process:
  // runServer is only called by a server.ts, which owns the process. They replace the launcher's
  // start-up handler (exit 0 before listening) in the same turn as listening resolved.
  releaseStartupStopHandler()
  for (const signal of signals) process.on(signal, onSignal)
  return address
}
