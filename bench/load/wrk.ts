// runWrk: one wrk run pinned to the load-generator core, replaying a prepared request file; returns its numbers.
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(new URL('./request-list.lua', import.meta.url))
const RESULT_PREFIX = 'WRK_RESULT '

export interface PreparedRequest {
  method: 'GET' | 'POST' | 'PUT'
  /** Path and query, as sent. */
  path: string
  headers?: Record<string, string>
  body?: string
}

export interface LoadResult {
  requests: number
  durationS: number
  requestsPerS: number
  /** Socket errors plus non-2xx/3xx answers. */
  errors: number
  non2xx: number
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number }
  /** CPU time the server processes under test spent per request (user + system), in µs. */
  serverCpuUsPerRequest?: number
  /** Their CPU time over the run's wall time (1.0 = one core fully busy). */
  serverCpuCores?: number
  /** CPU µs per request of each server process, by name, when there are several. */
  serverCpuByProcess?: Record<string, number>
  /** CPU µs per request the database server spent in the same window (pair 3; not in the above). */
  databaseCpuUsPerRequest?: number
}

interface WrkJson {
  requests: number
  durationUs: number
  errors: { connect: number; read: number; write: number; status: number; timeout: number }
  latencyUs: { mean: number; max: number; p50: number; p90: number; p99: number }
}

/** Writes requests in the line format request-list.lua reads; tabs and newlines would break a line. */
export async function writeRequestFile(path: string, requests: readonly PreparedRequest[]) {
  const lines = requests.map((r) => {
    const headers = Object.entries(r.headers ?? {})
      .map(([name, value]) => `${name}:${value}`)
      .join(';')
    for (const [name, value] of Object.entries(r.headers ?? {})) {
      if (/[:;\t\n\r]/.test(name) || /[;\t\n\r]/.test(value)) {
        throw new Error(`header ${name} cannot be written to a wrk request file`)
      }
    }
    if (/[\t\n\r]/.test(r.path) || /[\t\n\r]/.test(r.body ?? '')) {
      throw new Error(
        'a request path or body with a tab or newline cannot be written to a wrk request file',
      )
    }
    return `${r.method}\t${r.path}\t${headers}\t${r.body ?? ''}`
  })
  await writeFile(path, lines.join('\n') + '\n')
}

export interface WrkOptions {
  /** Origin, e.g. http://127.0.0.1:8001 */
  origin: string
  requestFile: string
  connections: number
  durationS: number
  /** CPU list for taskset; undefined = not pinned. */
  cpus?: string
  timeoutS?: number
}

export async function runWrk(options: WrkOptions): Promise<LoadResult> {
  const wrkArgs = [
    '-t1',
    `-c${options.connections}`,
    `-d${options.durationS}s`,
    `--timeout`,
    `${options.timeoutS ?? 10}s`,
    '-s',
    SCRIPT,
    options.origin,
    '--',
    options.requestFile,
  ]
  const [command, args] =
    options.cpus === undefined
      ? ['wrk', wrkArgs]
      : ['taskset', ['-c', options.cpus, 'wrk', ...wrkArgs]]
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve(stdout)
      else reject(new Error(`wrk exited with ${code}: ${stderr.trim() || stdout.trim()}`))
    })
  })
  const line = output.split('\n').find((l) => l.startsWith(RESULT_PREFIX))
  if (line === undefined) throw new Error(`wrk printed no result: ${output.trim()}`)
  const raw = JSON.parse(line.slice(RESULT_PREFIX.length)) as WrkJson
  const durationS = raw.durationUs / 1e6
  const e = raw.errors
  return {
    requests: raw.requests,
    durationS,
    requestsPerS: raw.requests / durationS,
    errors: e.connect + e.read + e.write + e.status + e.timeout,
    non2xx: e.status,
    latencyMs: {
      mean: raw.latencyUs.mean / 1000,
      p50: raw.latencyUs.p50 / 1000,
      p90: raw.latencyUs.p90 / 1000,
      p99: raw.latencyUs.p99 / 1000,
      max: raw.latencyUs.max / 1000,
    },
  }
}
