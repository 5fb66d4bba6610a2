// Test support: `scripts/start-all.ts` as a child process (a temp data dir, any free port) until its ready line.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

export interface ReadyInfo {
  url: string
  pids: Record<'simulator' | 'app' | 'gateway', number>
  ports: Record<'simulator' | 'app' | 'gateway', number>
  dataDir: string
}

export interface StartAllExit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface RunningStartAll extends ReadyInfo {
  child: ChildProcess
  /** Everything it printed so far (stdout and stderr). */
  output(): string
  exited: Promise<StartAllExit>
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<StartAllExit>
}

/** Starts `npm start`'s script exactly as npm does (`node --import tsx scripts/start-all.ts`). */
export function runStartAll(options: {
  dataDir: string
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
}): Promise<RunningStartAll> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start-all.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      NO_COLOR: '1',
      WXGATE_PORT: '0',
      // Any free ports: tests run side by side, and 8000/8001 may be someone else's.
      APP_PORT: '0',
      GATEWAY_PORT: '0',
      WXGATE_DATA_DIR: options.dataDir,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = new Promise<StartAllExit>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }))
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
  })
  return new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`start-all printed no ready line in time; output:\n${output}`))
    }, options.timeoutMs ?? 120_000)
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`start-all exited (${code ?? signal}) before it was ready:\n${output}`))
    })
    createInterface({ input: child.stdout }).on('line', (line) => {
      output += `${line}\n`
      if (!line.startsWith('WXGATE_READY ')) return
      clearTimeout(timer)
      const info = JSON.parse(line.slice('WXGATE_READY '.length)) as ReadyInfo
      resolveReady({
        ...info,
        child,
        output: () => output,
        exited,
        async stop(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal)
          return exited
        },
      })
    })
  })
}
