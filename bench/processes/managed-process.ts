// startManagedProcess: a server under test in its own process (optionally pinned to CPUs), its peak RSS, its stop.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:net'

export interface ManagedProcess {
  name: string
  pid: number
  /** Peak resident set size so far (VmHWM of /proc/<pid>/status), in bytes. */
  peakRssBytes(): Promise<number>
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null if killed). */
  stop(graceMs?: number): Promise<number | null>
  /** The last lines of its output, for error messages. */
  logTail(): Promise<string>
}

export interface StartOptions {
  name: string
  /** argv; node is spawned as `process.execPath` so the pid is the service itself. */
  args: readonly string[]
  env: Record<string, string>
  cwd: string
  /** taskset CPU list; taskset execs, so the pid stays the server's. */
  cpus?: string | undefined
  logFile: string
  /** Polled until it answers 200. */
  readyUrl?: string
  readyTimeoutMs?: number
  /** Called as soon as the process exists, before it is ready: so an interrupt can still stop it. */
  onSpawn?: (process: ManagedProcess) => void
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export async function readPeakRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)
  if (match?.[1] === undefined) throw new Error(`no VmHWM for pid ${pid}`)
  return Number(match[1]) * 1024
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before ready`)
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await response.arrayBuffer()
      if (response.status === 200) return
      last = `status ${response.status}`
    } catch (error) {
      last = error
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`not ready at ${url} within ${timeoutMs} ms`, { cause: last })
}

export async function startManagedProcess(options: StartOptions): Promise<ManagedProcess> {
  const log = createWriteStream(options.logFile)
  const [command, args] =
    options.cpus === undefined
      ? [process.execPath, [...options.args]]
      : ['taskset', ['-c', options.cpus, process.execPath, ...options.args]]
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.pipe(log)
  child.stderr.pipe(log)
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  const pid = child.pid
  if (pid === undefined) throw new Error(`${options.name} did not start`)

  const logTail = async (): Promise<string> => {
    try {
      const text = await readFile(options.logFile, 'utf8')
      return text.split('\n').slice(-20).join('\n')
    } catch (error) {
      return `(no log: ${String(error)})`
    }
  }
  const stop = async (graceMs = 5000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    const code = await exited
    clearTimeout(timer)
    return code
  }

  const managed: ManagedProcess = {
    name: options.name,
    pid,
    peakRssBytes: () => readPeakRssBytes(pid),
    stop,
    logTail,
  }
  options.onSpawn?.(managed)
  if (options.readyUrl !== undefined) {
    try {
      await waitReady(options.readyUrl, child, options.readyTimeoutMs ?? 30_000)
    } catch (error) {
      await stop(1000)
      throw new Error(`${options.name} did not become ready:\n${await logTail()}`, { cause: error })
    }
  }
  return managed
}

/** Runs a node command to its end (e.g. `migrate`); its exit code and output. */
export async function runToCompletion(options: {
  args: readonly string[]
  env: Record<string, string>
  cwd: string
  cpus?: string | undefined
}): Promise<{ code: number | null; output: string }> {
  const [command, args] =
    options.cpus === undefined
      ? [process.execPath, [...options.args]]
      : ['taskset', ['-c', options.cpus, process.execPath, ...options.args]]
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
  })
}

/** CPU time (user + system) a process has used so far, in seconds (/proc/<pid>/stat, clock ticks of 1/100 s). */
export async function readCpuSeconds(pid: number, thread?: number): Promise<number> {
  const stat = await readFile(
    thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`,
    'utf8',
  )
  // Fields after the command name, which may itself hold spaces; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Moves every thread of a running process onto `cpus` (a taskset list such as `1` or `0,1`). */
export async function setAffinity(pid: number, cpus: string): Promise<void> {
  const { code, output } = await new Promise<{ code: number | null; output: string }>(
    (resolve, reject) => {
      const child = spawn('taskset', ['-a', '-p', '-c', cpus, String(pid)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let text = ''
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()))
      child.on('error', reject)
      child.on('close', (exit) => resolve({ code: exit, output: text }))
    },
  )
  if (code !== 0) throw new Error(`taskset -p ${cpus} ${pid} failed: ${output}`)
}

/** The pid of a running process whose command name (/proc/<pid>/comm) is one of `names`, if any. */
export async function findProcessByName(names: readonly string[]): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (names.includes((await readFile(`/proc/${entry}/comm`, 'utf8')).trim()))
        return Number(entry)
    } catch {
      // It ended while we looked.
    }
  }
  return undefined
}
