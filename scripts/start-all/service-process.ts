// One service of the all-in-one as a child process, started as its npm script starts it, its lines prefixed.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { npmScriptNodeArgs } from '../npm-script-command.js'
import type { ServiceScript } from '../npm-script-command.js'
import { createLogFormatter } from './log-lines.js'

const STOP_WITH_PARENT = new URL('./stop-with-parent.mjs', import.meta.url).href

export interface ServiceSpec {
  name: string
  /** The package.json script that starts it; its `node …` arguments are used, without npm in between. */
  script: ServiceScript
  env: NodeJS.ProcessEnv
  port: number
  /** Answers 200 once the service can take traffic. */
  readyPath: string
}

export interface ServiceExit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface ServiceProcess {
  spec: ServiceSpec
  child: ChildProcess
  /** Settles when the process is gone (also when it could not be started). */
  exited: Promise<ServiceExit>
  readonly running: boolean
}

export interface StartOptions {
  cwd: string
  prefixWidth: number
  color: boolean
  verbose: boolean
  write: (text: string) => void
}

const COLORS = [35, 34, 36, 33]

export function startService(
  spec: ServiceSpec,
  index: number,
  options: StartOptions,
): ServiceProcess {
  // Each service stops by itself once npm start is gone, even killed beyond any handler (stop-with-parent.mjs).
  const args = ['--import', STOP_WITH_PARENT, ...npmScriptNodeArgs(spec.script)]
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: { ...spec.env, WXGATE_PARENT_PID: String(process.pid) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const label = spec.name.padEnd(options.prefixWidth)
  const prefix = options.color
    ? `\u001b[${COLORS[index % COLORS.length] ?? 35}m${label}\u001b[0m │`
    : `${label} │`
  const format = createLogFormatter({ verbose: options.verbose, color: options.color })
  const pipeLines = (stream: Readable | null): void => {
    if (stream === null) return
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      const text = format(line)
      if (text !== undefined) options.write(`${prefix} ${text}\n`)
    })
  }
  pipeLines(child.stdout)
  pipeLines(child.stderr)
  let running = true
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false
      resolve({ code, signal })
    })
    child.once('error', (error) => {
      // spawn itself failed (no 'exit' follows); report it as the service's exit.
      if (child.pid !== undefined) return
      running = false
      options.write(`${prefix} could not start: ${error.message}\n`)
      resolve({ code: 127, signal: null })
    })
  })
  return {
    spec,
    child,
    exited,
    get running() {
      return running
    },
  }
}

/** Polls `http://127.0.0.1:<port><readyPath>` until it answers 200; rejects after `timeoutMs`. */
export async function waitUntilReady(
  service: ServiceProcess,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const url = `http://127.0.0.1:${service.spec.port}${service.spec.readyPath}`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (signal.aborted || !service.running) {
      throw new Error(`${service.spec.name} stopped before it was ready`)
    }
    try {
      const answer = await fetch(url, { signal: AbortSignal.timeout(2000) })
      await answer.arrayBuffer()
      if (answer.status === 200) return
    } catch (error) {
      // Not listening yet (or still compiling): try again until the deadline.
      if (Date.now() > deadline) {
        throw new Error(`${service.spec.name} was not ready within ${timeoutMs / 1000} s`, {
          cause: error,
        })
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`${service.spec.name} was not ready within ${timeoutMs / 1000} s`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
