// `npm run bench:gateway-alone`: the gateway's cost per payment notification against a stub app that
// answers at once or after a delay, the same signed notifications at the same connections each time.
// It separates what the gateway's code costs from what waiting costs on this machine: in pair 3 app
// takes ~10–15 ms to answer, so the gateway's event loop sleeps between events (docs/benchmarks.md).
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomNonce } from '@wxgate/wechat'
import { npmScriptNodeArgs, repositoryRoot } from '../scripts/npm-script-command.js'
import { payNotifications } from './fixtures/wechat-requests.js'
import { runWrk, writeRequestFile } from './load/wrk.js'
import {
  freePort,
  readCpuSeconds,
  setAffinity,
  startManagedProcess,
} from './processes/managed-process.js'

const delaysMs = (process.env.BENCH_APP_DELAYS_MS ?? '0,12').split(',').map(Number)
const connections = Number(process.env.BENCH_CONNECTIONS ?? '10')
const [warmupS, durationS] = [2, 8]
if (delaysMs.some((d) => !Number.isInteger(d) || d < 0) || !(connections > 0)) {
  throw new Error('BENCH_APP_DELAYS_MS must list whole ms ≥ 0, BENCH_CONNECTIONS a count')
}

/** Voluntary context switches of a process's main thread: how often its event loop went to sleep. */
async function mainThreadSleeps(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/task/${pid}/status`, 'utf8')
  return Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1] ?? NaN)
}

async function threadCount(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/task`)).length
}

const work = await mkdtemp(join(tmpdir(), 'wxgate-gateway-alone-'))
// The load generator and the stub (this process) on CPU 0, the gateway alone on CPU 1.
await setAffinity(process.pid, '0')

let delayMs = 0
let answered = 0
const stub = createServer((req, res) => {
  req.resume()
  req.once('end', () => {
    const answer = (): void => {
      answered++
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
      res.end('{"changed":true}')
    }
    if (delayMs === 0) answer()
    else setTimeout(answer, delayMs)
  })
})
stub.keepAliveTimeout = 72_000
const stubPort = await freePort()
await new Promise<void>((resolve) => stub.listen(stubPort, '127.0.0.1', resolve))

const merchant = { appId: 'wxbench0000000001', mchId: '1900000109', apiKey: randomNonce(32) }
const gatewayPort = await freePort()
const origin = `http://127.0.0.1:${gatewayPort}`
const gateway = await startManagedProcess({
  name: 'gateway',
  args: npmScriptNodeArgs('start:gateway'),
  env: {
    PATH: process.env.PATH ?? '',
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(gatewayPort),
    LOG_LEVEL: 'warn',
    APP_SERVER_URL: `http://127.0.0.1:${stubPort}`,
    INTERNAL_API_SECRET: randomNonce(40),
    WECHAT_APPID: merchant.appId,
    WECHAT_TOKEN: randomNonce(16),
    WECHAT_PAY_MCHID: merchant.mchId,
    WECHAT_PAY_API_KEY: merchant.apiKey,
    GATEWAY_SPOOL_DIR: join(work, 'spool'),
    // Experiments only (a flag to try on the gateway), as in `npm run bench`.
    ...(process.env.BENCH_SERVICE_NODE_OPTIONS === undefined
      ? {}
      : { NODE_OPTIONS: process.env.BENCH_SERVICE_NODE_OPTIONS }),
  },
  cwd: repositoryRoot,
  cpus: '1',
  logFile: join(work, 'gateway.log'),
  readyUrl: `${origin}/readyz`,
})

const rows: string[] = []
try {
  // Distinct notifications (the stub does not care, but the gateway's work per request stays real).
  const orders = Array.from({ length: 100_000 }, (_, i) => ({
    outTradeNo: `ALONE${String(i).padStart(10, '0')}`,
    amountFen: 990,
    openId: `o-alone-${randomNonce(20)}`,
  }))
  const requestFile = join(work, 'notifications.txt')
  await writeRequestFile(requestFile, payNotifications(merchant, orders, new Date()))
  for (const delay of delaysMs) {
    delayMs = delay
    const load = { origin, requestFile, connections, cpus: '0' }
    await runWrk({ ...load, durationS: warmupS })
    const [cpuBefore, mainCpuBefore, sleepsBefore, answeredBefore] = [
      await readCpuSeconds(gateway.pid),
      await readCpuSeconds(gateway.pid, gateway.pid),
      await mainThreadSleeps(gateway.pid),
      answered,
    ]
    const result = await runWrk({ ...load, durationS })
    const cpuUs = ((await readCpuSeconds(gateway.pid)) - cpuBefore) * 1e6
    const mainCpuUs = ((await readCpuSeconds(gateway.pid, gateway.pid)) - mainCpuBefore) * 1e6
    const sleeps = (await mainThreadSleeps(gateway.pid)) - sleepsBefore
    if (result.errors > 0 || answered - answeredBefore < result.requests) {
      throw new Error(`run with app delay ${delay} ms: ${result.errors} errors`)
    }
    const perRequest = (n: number): string => (n / Math.max(1, result.requests)).toFixed(2)
    rows.push(
      `| ${delay} ms | ${Math.round(result.requestsPerS).toLocaleString('en-US')} | ` +
        `${result.latencyMs.p99.toFixed(1)} | ${Math.round(cpuUs / result.requests)} ` +
        `(${(cpuUs / 1e6 / result.durationS).toFixed(2)}) | ` +
        `${Math.round((100 * mainCpuUs) / Math.max(1, cpuUs))} % | ${perRequest(sleeps)} |`,
    )
  }
  const table = [
    `Gateway alone, payment notifications at ${connections} connections, ${durationS} s each ` +
      `(gateway on CPU 1 with ${await threadCount(gateway.pid)} threads; wrk and the stub app on CPU 0):`,
    '',
    '| app answers after | req/s | p99 ms | gateway CPU µs/req (cores busy) | of it on the main thread | event-loop sleeps/req |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n')
  process.stdout.write(`${table}\n`)
} finally {
  await gateway.stop()
  stub.close()
  await rm(work, { recursive: true, force: true })
}
