// runBarePayLoop: runs bare-pay-loop.ts in its own process (pinned like a server under test) and reads its result.
import { fileURLToPath } from 'node:url'
import type { LoadResult } from '../load/wrk.js'
import { runToCompletion } from '../processes/managed-process.js'

const LOOP = fileURLToPath(new URL('./bare-pay-loop.ts', import.meta.url))
/** Started the way our services start: one bundled module, no loader thread. */
const LAUNCH = fileURLToPath(new URL('../../scripts/launch.mjs', import.meta.url))
const PREFIX = 'BARE_RESULT '

export interface BarePayLoopOptions {
  root: string
  env: Record<string, string>
  cpus: string | undefined
  concurrency: number
  warmupS: number
  durationS: number
  users: number
  orders: number
  /** The database server's pid: the loop reports its CPU per transaction over the measured window. */
  databasePid?: number | undefined
}

export async function runBarePayLoop(
  options: BarePayLoopOptions,
): Promise<LoadResult & { exhausted: boolean }> {
  const { code, output } = await runToCompletion({
    args: [LAUNCH, LOOP],
    env: {
      ...options.env,
      CONCURRENCY: String(options.concurrency),
      WARMUP_S: String(options.warmupS),
      DURATION_S: String(options.durationS),
      USERS: String(options.users),
      ORDERS: String(options.orders),
      ...(options.databasePid === undefined ? {} : { DATABASE_PID: String(options.databasePid) }),
    },
    cwd: options.root,
    cpus: options.cpus,
  })
  const line = output.split('\n').find((l) => l.startsWith(PREFIX))
  if (code !== 0 || line === undefined) throw new Error(`bare pay loop failed (${code}): ${output}`)
  const parsed = JSON.parse(line.slice(PREFIX.length)) as Omit<LoadResult, 'non2xx'> & {
    exhausted: boolean
  }
  return { ...parsed, non2xx: 0 }
}
