// `npm run bench`: starts gateway, app, the simulator and the baselines, measures each pair side by side with wrk,
// and writes the results block of docs/benchmarks.md (BENCH_QUICK=1: a short run printed, the doc left alone).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'
import { createConnection } from 'mysql2/promise'
import type { Connection, RowDataPacket } from 'mysql2/promise'
import { createSimulator } from '@wxgate/simulator'
import type { Simulator } from '@wxgate/simulator'
import { createMessageCrypto, parseReply, randomNonce } from '@wxgate/wechat'
import { benchSettings } from './bench-settings.js'
import type { BenchSettings } from './bench-settings.js'
import { createOrders, loginThroughOAuth } from './fixtures/app-users.js'
import { signedOrderUpdates } from './fixtures/internal-requests.js'
import type { LoggedInUser } from './fixtures/app-users.js'
import { payNotifications, safeModeTextPushes, verifyRequests } from './fixtures/wechat-requests.js'
import type { AccountKeys } from './fixtures/wechat-requests.js'
import { combineRuns } from './load/combine-runs.js'
import { runWrk, writeRequestFile } from './load/wrk.js'
import type { LoadResult, PreparedRequest } from './load/wrk.js'
import { machineInfo } from './machine-info.js'
import {
  freePort,
  findProcessByName,
  readCpuSeconds,
  runToCompletion,
  setAffinity,
  startManagedProcess,
} from './processes/managed-process.js'
import type { ManagedProcess } from './processes/managed-process.js'
import { runBarePayLoop } from './baselines/bare-pay-loop-runner.js'
import { monotonicUs, summarizeCpuProfiles } from './report/cpu-profile-summary.js'
import type { ProfileWindow } from './report/cpu-profile-summary.js'
import { renderResults, replaceResultsBlock } from './report/benchmarks-report.js'
import { npmScriptNodeArgs } from '../scripts/npm-script-command.js'
import type { BenchReport, PairResult, ScalingRow } from './report/benchmarks-report.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DOC = join(ROOT, 'docs', 'benchmarks.md')
const ALL_CPUS = `0-${cpus().length - 1}`
/** Baselines run the way our services run (one bundled module, no loader thread), so neither side carries tsx. */
const launched = (entry: string): string[] => [
  join(ROOT, 'scripts', 'launch.mjs'),
  join(ROOT, entry),
]
const REPLY_TEXT = 'Thanks for your message. We will get back to you soon.'

const settings: BenchSettings = benchSettings(process.env)
const work = await mkdtemp(join(tmpdir(), 'wxgate-bench-'))
const suffix = randomNonce(8).toLowerCase()
const dbName = `wxgate_bench_${suffix}`
const bareDbName = `wxgate_bench_${suffix}_bare`
const mysql = { host: '127.0.0.1', port: 3306, user: 'root', password: '' }

const keys: AccountKeys = {
  appId: 'wxbench0000000001',
  token: 'benchtoken' + randomNonce(10),
  encodingAesKey: randomNonce(43),
  originalId: 'gh_bench00000001',
}
const merchant = { appId: keys.appId, mchId: '1900000109', apiKey: randomNonce(32) }
const internalSecret = randomNonce(48)
const jwtSecret = randomNonce(48)

const started = new Date()
const loadAtStart = loadavg()[0] ?? 0
const processes: ManagedProcess[] = []
let simulator: Simulator | undefined
let fileCounter = 0
const profileWindows: ProfileWindow[] = []

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of ['PATH', 'HOME', 'LANG', 'TMPDIR']) {
    const value = process.env[name]
    if (value !== undefined) env[name] = value
  }
  return env
}

async function requestFile(requests: readonly PreparedRequest[]): Promise<string> {
  const path = join(work, `requests-${++fileCounter}.txt`)
  await writeRequestFile(path, requests)
  return path
}

/** A warm-up run (discarded), then the measured run, with the same connections. */
async function measure(
  origin: string,
  connections: number,
  files: { warmup: string; measured: string },
  /** The processes whose CPU time the run costs. */
  servers: readonly ManagedProcess[],
  /** Set for the runs whose CPU profile is worth summarizing. */
  label?: string,
): Promise<LoadResult> {
  await runWrk({
    origin,
    requestFile: files.warmup,
    connections,
    durationS: settings.warmupS,
    cpus: settings.loadCpus,
  })
  const startUs = monotonicUs()
  const result = await withServerCpu(servers, () =>
    runWrk({
      origin,
      requestFile: files.measured,
      connections,
      durationS: settings.durationS,
      cpus: settings.loadCpus,
    }),
  )
  if (label !== undefined) profileWindows.push({ label, startUs, endUs: monotonicUs() })
  return result
}

interface Member {
  origin: string
  servers: readonly ManagedProcess[]
}

/**
 * Both members of a pair, and any reference measured beside them (pair 2's floor): each warmed up,
 * then measured in alternating rounds (ours, theirs, …, ours, theirs, …) that add up to the same
 * duration, so a burst of other work on the machine lands on all of them.
 */
async function measurePair(
  ours: Member,
  theirs: Member,
  connections: number,
  files: { warmup: string; measured: string },
  label: string,
  references: readonly Member[] = [],
): Promise<[LoadResult, LoadResult, ...LoadResult[]]> {
  const members = [ours, theirs, ...references]
  for (const member of members) {
    await runWrk({
      origin: member.origin,
      requestFile: files.warmup,
      connections,
      durationS: settings.warmupS,
      cpus: settings.loadCpus,
    })
  }
  const roundS = settings.durationS / settings.rounds
  const runs = members.map((): LoadResult[] => [])
  for (let round = 0; round < settings.rounds; round++) {
    for (const [i, member] of members.entries()) {
      const startUs = monotonicUs()
      runs[i]?.push(
        await withServerCpu(member.servers, () =>
          runWrk({
            origin: member.origin,
            requestFile: files.measured,
            connections,
            durationS: roundS,
            cpus: settings.loadCpus,
          }),
        ),
      )
      if (i === 0)
        profileWindows.push({
          label: `${label}, round ${round + 1}`,
          startUs,
          endUs: monotonicUs(),
        })
    }
  }
  const [oursRuns = [], theirRuns = [], ...referenceRuns] = runs
  return [combineRuns(oursRuns), combineRuns(theirRuns), ...referenceRuns.map(combineRuns)]
}

/**
 * Runs `load` and adds the CPU time the servers spent on it, and the database server's apart when its
 * pid is given (pair 3: what the same transaction costs MariaDB behind each member).
 */
async function withServerCpu(
  servers: readonly ManagedProcess[],
  load: () => Promise<LoadResult>,
  databasePid?: number,
): Promise<LoadResult> {
  const cpu = async () => Promise.all(servers.map((s) => readCpuSeconds(s.pid)))
  const databaseCpu = async () =>
    databasePid === undefined ? undefined : readCpuSeconds(databasePid)
  const [before, databaseBefore] = [await cpu(), await databaseCpu()]
  const result = await load()
  const [after, databaseAfter] = [await cpu(), await databaseCpu()]
  const used = after.map((a, i) => a - (before[i] ?? 0))
  const total = used.reduce((a, b) => a + b, 0)
  const perRequest = (seconds: number) => (seconds * 1e6) / Math.max(1, result.requests)
  return {
    ...result,
    serverCpuUsPerRequest: perRequest(total),
    serverCpuCores: total / result.durationS,
    ...(databaseBefore === undefined || databaseAfter === undefined
      ? {}
      : { databaseCpuUsPerRequest: perRequest(databaseAfter - databaseBefore) }),
    ...(servers.length > 1
      ? {
          serverCpuByProcess: Object.fromEntries(
            servers.map((s, i) => [s.name, perRequest(used[i] ?? 0)]),
          ),
        }
      : {}),
  }
}

async function startServer(
  name: string,
  nodeArgs: string[],
  env: Record<string, string>,
  readyUrl: string,
): Promise<ManagedProcess> {
  const profileArgs = settings.profile
    ? ['--cpu-prof', `--cpu-prof-dir=${join(work, `profile-${name}`)}`]
    : []
  const started = await startManagedProcess({
    name,
    args: [...profileArgs, ...nodeArgs],
    env: {
      ...baseEnv(),
      ...env,
      ...(settings.serviceNodeOptions === undefined
        ? {}
        : { NODE_OPTIONS: settings.serviceNodeOptions }),
    },
    cwd: ROOT,
    cpus: settings.serverCpus,
    logFile: join(work, `${name}.log`),
    readyUrl,
    readyTimeoutMs: 60_000,
    onSpawn: (spawned) => processes.push(spawned),
  })
  return started
}

/** A server of bench/baselines on a free port, started as startServer starts any, ready on /healthz. */
async function startBaseline(
  name: string,
  entry: string,
  env: Record<string, string>,
): Promise<{ server: ManagedProcess; origin: string }> {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const server = await startServer(
    name,
    launched(entry),
    { PORT: String(port), ...env },
    `${origin}/healthz`,
  )
  return { server, origin }
}

async function stopServer(server: ManagedProcess): Promise<void> {
  await server.stop()
  processes.splice(processes.indexOf(server), 1)
}

/** Sum of a counter's samples whose labels satisfy `match`, from a service's /metrics. */
async function metricSum(origin: string, name: string, match: (labels: string) => boolean) {
  const text = await (await fetch(`${origin}/metrics`)).text()
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const labels = line.slice(name.length, line.indexOf('}') + 1)
    if (match(labels)) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}

const isSuccess = (labels: string) => labels.includes('outcome="success"')

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`check failed: ${message}`)
}

async function main(): Promise<void> {
  const admin = await createConnection(mysql)
  const [versionRows] = await admin.query<RowDataPacket[]>('select version() as v')
  const mariadbVersion = String(versionRows[0]?.v ?? 'unknown')
  await admin.query(`create database \`${dbName}\` character set utf8mb4`)
  await admin.query(`create database \`${bareDbName}\` character set utf8mb4`)
  log(`databases ${dbName} and ${bareDbName} created; work dir ${work}`)
  process.once('SIGINT', () => {
    log('interrupted: cleaning up')
    void cleanUp(admin).finally(() => process.exit(130))
  })
  if (existsSync(join(ROOT, '.env')))
    log('warning: a .env in the repository root also configures the services')

  try {
    const report = await runAll(mariadbVersion)
    const block = renderResults(report)
    if (!settings.publish) {
      const out = process.env.BENCH_OUT ?? join(tmpdir(), 'wxgate-bench-quick.md')
      await writeFile(out, block)
      process.stdout.write(block)
      log(`results written to ${out} (docs/benchmarks.md is only rewritten by a complete full run)`)
    } else {
      const previous = existsSync(DOC) ? await readFile(DOC, 'utf8') : undefined
      await writeFile(DOC, replaceResultsBlock(previous, block))
      process.stdout.write(block)
      log(`results written to ${DOC}`)
    }
  } finally {
    await cleanUp(admin)
  }
}

let cleaning: Promise<void> | undefined
/** Stops everything started, drops both databases, removes the work dir; once, also on Ctrl-C. */
function cleanUp(admin: Connection): Promise<void> {
  cleaning ??= (async () => {
    for (const p of [...processes].reverse()) await p.stop()
    await simulator?.close()
    await admin.query(`drop database if exists \`${dbName}\``)
    await admin.query(`drop database if exists \`${bareDbName}\``)
    await admin.end()
    if (process.env.BENCH_KEEP_WORK !== '1') await rm(work, { recursive: true, force: true })
    else log(`work dir kept: ${work}`)
  })()
  return cleaning
}

async function runAll(mariadbVersion: string): Promise<BenchReport> {
  const sim = await createSimulator({
    appId: keys.appId,
    appSecret: randomNonce(32),
    token: keys.token,
    encodingAesKey: keys.encodingAesKey,
    mchId: merchant.mchId,
    payApiKey: merchant.apiKey,
    originalId: keys.originalId,
    pushMode: 'safe',
  })
  simulator = sim
  await sim.listen({ host: '127.0.0.1', port: 0 })

  const [appPort, gatewayPort] = [await freePort(), await freePort()]
  const appOrigin = `http://127.0.0.1:${appPort}`
  const gatewayOrigin = `http://127.0.0.1:${gatewayPort}`
  const mysqlEnv = {
    MYSQL_HOST: mysql.host,
    MYSQL_PORT: String(mysql.port),
    MYSQL_USER: mysql.user,
    MYSQL_PASSWORD: mysql.password,
  }
  const appEnv: Record<string, string> = {
    APP_HOST: '127.0.0.1',
    APP_PORT: String(appPort),
    LOG_LEVEL: 'warn',
    WECHAT_APPID: keys.appId,
    WECHAT_SECRET: sim.settings.appSecret,
    WECHAT_TOKEN: keys.token,
    WECHAT_PAY_MCHID: merchant.mchId,
    WECHAT_PAY_API_KEY: merchant.apiKey,
    WECHAT_PAY_NOTIFY_URL: `${gatewayOrigin}/api/v1/payment/notify`,
    WECHAT_API_BASE_URL: sim.baseUrl,
    WECHAT_PAY_API_BASE_URL: sim.baseUrl,
    WECHAT_OPEN_BASE_URL: sim.baseUrl,
    WECHAT_MP_BASE_URL: sim.baseUrl,
    ...mysqlEnv,
    MYSQL_DATABASE: dbName,
    INTERNAL_API_SECRET: internalSecret,
    JWT_SECRET: jwtSecret,
  }
  const gatewayEnv: Record<string, string> = {
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(gatewayPort),
    LOG_LEVEL: 'warn',
    APP_SERVER_URL: appOrigin,
    INTERNAL_API_SECRET: internalSecret,
    WECHAT_APPID: keys.appId,
    WECHAT_TOKEN: keys.token,
    WECHAT_ENCODING_AES_KEY: keys.encodingAesKey,
    WECHAT_PAY_MCHID: merchant.mchId,
    WECHAT_PAY_API_KEY: merchant.apiKey,
    GATEWAY_SPOOL_DIR: join(work, 'spool'),
    GATEWAY_DEFAULT_REPLY_TEXT: REPLY_TEXT,
  }

  log('starting app and gateway')
  const app = await startServer(
    'app',
    npmScriptNodeArgs('start:app'),
    appEnv,
    `${appOrigin}/readyz`,
  )
  const gateway = await startServer(
    'gateway',
    npmScriptNodeArgs('start:gateway'),
    gatewayEnv,
    `${gatewayOrigin}/readyz`,
  )

  log(`logging in ${settings.users} users through OAuth`)
  const users: LoggedInUser[] = []
  for (let i = 0; i < settings.users; i++) {
    users.push(await loginThroughOAuth(appOrigin, sim.phone, `o-bench-user-${suffix}-${i}`))
  }

  const pairs: PairResult[] = []
  const scaling: ScalingRow[] = []
  const notes: string[] = []
  const c = settings.pairConnections
  const peakRss: { name: string; bytes: number; targetBytes?: number }[] = []

  // Pair 1: GET …/verify.
  if (settings.pairs.has(1)) {
    log('pair 1: GET verify')
    const nowS = Math.floor(Date.now() / 1000)
    const files = {
      warmup: await requestFile(verifyRequests(keys.token, settings.verifyPool, nowS)),
      measured: await requestFile(verifyRequests(keys.token, settings.verifyPool, nowS)),
    }
    const probe = verifyRequests(keys.token, 1, nowS)[0]
    const { server: bare, origin: bareOrigin } = await startBaseline(
      'bare-verify',
      'bench/baselines/bare-verify-server.ts',
      { WECHAT_TOKEN: keys.token },
    )
    for (const origin of [gatewayOrigin, bareOrigin]) {
      const ok = await fetch(`${origin}${probe?.path ?? ''}`)
      const echostr = new URL(`${origin}${probe?.path ?? ''}`).searchParams.get('echostr')
      check(ok.status === 200 && (await ok.text()) === echostr, `${origin} echoes a signed echostr`)
      const bad = await fetch(
        `${origin}${(probe?.path ?? '').replace('signature=', 'signature=0')}`,
      )
      await bad.arrayBuffer()
      check(bad.status === 401, `${origin} refuses a wrong signature`)
    }
    const [ours, theirs] = await measurePair(
      { origin: gatewayOrigin, servers: [gateway] },
      { origin: bareOrigin, servers: [bare] },
      c,
      files,
      'pair 1 (GET verify)',
    )
    peakRss.push({ name: 'bare node:http verify server', bytes: await bare.peakRssBytes() })
    await stopServer(bare)
    pairs.push({
      id: 1,
      title: 'GET …/verify (URL signature check)',
      subject: { name: 'gateway', result: ours },
      baseline: { name: 'bare node:http + same check', result: theirs },
      connections: c,
      target: { minRatio: 0.85 },
    })
    scaling.push({ endpoint: 'gateway GET …/verify', results: new Map([[c, ours]]) })
  }

  // Pair 2: safe-mode text message.
  if (settings.pairs.has(2)) {
    log('pair 2: safe-mode text message')
    const crypto = createMessageCrypto({
      token: keys.token,
      encodingAesKey: keys.encodingAesKey,
      appId: keys.appId,
    })
    const nowS = Math.floor(Date.now() / 1000)
    const pushes = safeModeTextPushes(keys, settings.pushPool * 2, nowS, BigInt(nowS) * 1_000_000n)
    const files = {
      warmup: await requestFile(pushes.slice(0, settings.pushPool)),
      measured: await requestFile(pushes.slice(settings.pushPool)),
    }
    const accountEnv = {
      WECHAT_TOKEN: keys.token,
      WECHAT_APPID: keys.appId,
      WECHAT_ENCODING_AES_KEY: keys.encodingAesKey,
      REPLY_TEXT,
    }
    const { server: peer, origin: peerOrigin } = await startBaseline(
      'wechat-peer',
      'bench/baselines/wechat-peer-server.ts',
      accountEnv,
    )
    // What node:http alone costs for this exchange: the floor under both members (docs/benchmarks.md).
    const { server: floor, origin: floorOrigin } = await startBaseline(
      'push-floor',
      'bench/baselines/push-floor-server.ts',
      accountEnv,
    )
    const probe = safeModeTextPushes(keys, 1, nowS, 1n)[0]
    for (const origin of [gatewayOrigin, peerOrigin, floorOrigin]) {
      const response = await fetch(`${origin}${probe?.path ?? ''}`, {
        method: 'POST',
        headers: probe?.headers,
        body: probe?.body,
      })
      const xml = await response.text()
      check(
        response.status === 200,
        `${origin} answers a safe-mode push (${response.status} ${xml})`,
      )
      const reply = parseReply(crypto.openReply(xml))
      check(
        reply.msgType === 'text' && reply.content === REPLY_TEXT,
        `${origin} replies with the encrypted text`,
      )
    }
    const [ours, theirs, floorResult] = await measurePair(
      { origin: gatewayOrigin, servers: [gateway] },
      { origin: peerOrigin, servers: [peer] },
      c,
      files,
      'pair 2 (safe-mode text)',
      [{ origin: floorOrigin, servers: [floor] }],
    )
    // measurePair returns one result per reference it was given.
    if (floorResult === undefined) throw new Error('pair 2: the floor was not measured')
    peakRss.push({ name: 'wechat (node-webot) peer', bytes: await peer.peakRssBytes() })
    await stopServer(peer)
    await stopServer(floor)
    pairs.push({
      id: 2,
      title: 'Safe-mode text message: verify, decrypt, parse, encrypted reply',
      subject: { name: 'gateway', result: ours },
      baseline: { name: '`wechat` 2.1.0 middleware on node:http', result: theirs },
      connections: c,
      target: { minRatio: 1.5 },
      floor: {
        name: 'node:http reading the push and sending a ready-made reply of the same size',
        result: floorResult,
      },
    })
    scaling.push({
      endpoint: 'gateway POST …/verify (safe-mode text)',
      results: new Map([[c, ours]]),
    })
  }

  // Pair 4 before 3, so the credits select runs on the same small tables for both members.
  if (settings.pairs.has(4)) {
    log('pair 4: GET /user/credits')
    const requests: PreparedRequest[] = users.map((u) => ({
      method: 'GET',
      path: '/api/v1/user/credits',
      headers: { Authorization: `Bearer ${u.token}` },
    }))
    const file = await requestFile(requests)
    const files = { warmup: file, measured: file }
    const { server: bare, origin: bareOrigin } = await startBaseline(
      'bare-credits',
      'bench/baselines/bare-credits-server.ts',
      { JWT_SECRET: jwtSecret, ...mysqlEnv, MYSQL_DATABASE: dbName },
    )
    for (const origin of [appOrigin, bareOrigin]) {
      const response = await fetch(`${origin}/api/v1/user/credits`, {
        headers: { authorization: `Bearer ${users[0]?.token ?? ''}` },
      })
      const body = (await response.json()) as { credits?: unknown }
      check(
        response.status === 200 && typeof body.credits === 'number',
        `${origin} answers credits`,
      )
      const bad = await fetch(`${origin}/api/v1/user/credits`, {
        headers: { authorization: 'Bearer x.y.z' },
      })
      await bad.arrayBuffer()
      check(bad.status === 401, `${origin} refuses a bad token`)
    }
    const [ours, theirs] = await measurePair(
      { origin: appOrigin, servers: [app] },
      { origin: bareOrigin, servers: [bare] },
      c,
      files,
      'pair 4 (credits)',
    )
    peakRss.push({ name: 'bare Fastify + mysql2 credits server', bytes: await bare.peakRssBytes() })
    await stopServer(bare)
    pairs.push({
      id: 4,
      title: 'GET /api/v1/user/credits with a JWT',
      subject: { name: 'app', result: ours },
      baseline: { name: 'bare Fastify + jose + mysql2 route', result: theirs },
      connections: c,
      target: { minRatio: 0.8 },
    })
    scaling.push({ endpoint: 'app GET /user/credits', results: new Map([[c, ours]]) })
  }

  // Pair 3: payment notifications end to end on distinct orders.
  const payRuns = { sent: 0, success: 0, refused: 0, distinct: true }
  // The local MariaDB (the bench's database is always on 127.0.0.1), to time it behind each member.
  const databasePid = await findProcessByName(['mariadbd', 'mysqld'])
  /** Pair 3's rule: nothing pinned, the two services, the database and wrk share both cores. */
  async function unpinned<T>(run: () => Promise<T>): Promise<T> {
    if (settings.serverCpus === undefined) return run()
    for (const p of [gateway, app]) await setAffinity(p.pid, ALL_CPUS)
    try {
      return await run()
    } finally {
      for (const p of [gateway, app]) await setAffinity(p.pid, settings.serverCpus)
    }
  }
  /** Orders for a warm-up: from the last rate seen on this path, so warm-ups stay distinct too. */
  let lastPayRate = 0
  const warmupOrderCount = (rate: number) =>
    Math.max(settings.warmupOrders, Math.ceil(rate * settings.warmupS * 1.6) + 200)
  async function measurePay(connections: number): Promise<LoadResult> {
    const warmupOrders = await createOrders(
      appOrigin,
      users,
      'credits_100',
      warmupOrderCount(lastPayRate),
    )
    const warmupFile = await requestFile(payNotifications(merchant, warmupOrders, new Date()))
    const successBefore = await metricSum(gatewayOrigin, 'pay_notifications_total', isSuccess)
    const refusedBefore = await metricSum(
      gatewayOrigin,
      'pay_notifications_total',
      (l) => !isSuccess(l),
    )
    const warm = await unpinned(() =>
      runWrk({
        origin: gatewayOrigin,
        requestFile: warmupFile,
        connections,
        durationS: settings.warmupS,
      }),
    )
    // Enough fresh orders for the measured run: the best rate seen so far on this path (a warm-up at a
    // new connection count can run slower than what follows), with room to spare. The very first
    // warm-up also runs before the JIT has settled: on a slow machine at under half the measured rate.
    const rate = Math.max(warm.requestsPerS, lastPayRate)
    const margin = lastPayRate === 0 ? 3 : 1.6
    const needed = Math.ceil(rate * settings.durationS * margin) + 1000
    log(`  ${connections} connections: preparing ${needed} orders`)
    const orders = await createOrders(appOrigin, users, 'credits_100', needed)
    const file = await requestFile(payNotifications(merchant, orders, new Date()))
    const startUs = monotonicUs()
    const result = await unpinned(() =>
      withServerCpu(
        [gateway, app],
        () =>
          runWrk({
            origin: gatewayOrigin,
            requestFile: file,
            connections,
            durationS: settings.durationS,
          }),
        databasePid,
      ),
    )
    profileWindows.push({
      label: `payment notifications at ${connections} connections`,
      startUs,
      endUs: monotonicUs(),
    })
    // Requests still in flight when wrk stops are finished by the services: let them land.
    await new Promise((r) => setTimeout(r, 500))
    lastPayRate = Math.max(lastPayRate, warm.requestsPerS, result.requestsPerS)
    payRuns.sent += warm.requests + result.requests
    payRuns.success +=
      (await metricSum(gatewayOrigin, 'pay_notifications_total', isSuccess)) - successBefore
    payRuns.refused +=
      (await metricSum(gatewayOrigin, 'pay_notifications_total', (l) => !isSuccess(l))) -
      refusedBefore
    if (result.requests > orders.length || warm.requests > warmupOrders.length) {
      payRuns.distinct = false
    }
    return result
  }
  if (settings.pairs.has(3)) {
    log('pair 3: payment notification end to end')
    const pc = settings.payConnections
    const ours = await measurePay(pc)
    log('  bare mysql2 loop')
    // The bare loop's own database gets app's schema the way users create it (`npm run migrate`).
    const migrated = await runToCompletion({
      args: npmScriptNodeArgs('migrate'),
      env: { ...baseEnv(), ...appEnv, MYSQL_DATABASE: bareDbName },
      cwd: ROOT,
    })
    check(migrated.code === 0, `bare schema migrated: ${migrated.output}`)
    const theirs = await runBarePayLoop({
      root: ROOT,
      env: { ...baseEnv(), ...mysqlEnv, MYSQL_DATABASE: bareDbName },
      cpus: undefined,
      concurrency: pc,
      warmupS: settings.warmupS,
      durationS: settings.durationS,
      users: settings.users,
      orders: settings.bareOrders,
      databasePid,
    })
    if (theirs.exhausted)
      notes.push('The bare loop ran out of prepared orders: its rate is a lower bound.')
    // The same work without the gateway: app's internal order/update, signed as the gateway signs it.
    log('  app alone (internal order/update)')
    const appAlone = await unpinned(async () => {
      // app alone runs faster than through the gateway, and about as fast as the bare loop at most:
      // size its orders generously from both.
      const aloneRate = Math.max(ours.requestsPerS * 3, theirs.requestsPerS * 1.25)
      const warmOrders = await createOrders(
        appOrigin,
        users,
        'credits_100',
        warmupOrderCount(aloneRate),
      )
      await runWrk({
        origin: appOrigin,
        requestFile: await requestFile(signedOrderUpdates(internalSecret, warmOrders, new Date())),
        connections: pc,
        durationS: settings.warmupS,
      })
      const needed = Math.ceil(aloneRate * settings.durationS) + 1000
      const orders = await createOrders(appOrigin, users, 'credits_100', needed)
      const file = await requestFile(signedOrderUpdates(internalSecret, orders, new Date()))
      const result = await withServerCpu(
        [app],
        () =>
          runWrk({
            origin: appOrigin,
            requestFile: file,
            connections: pc,
            durationS: settings.durationS,
          }),
        databasePid,
      )
      if (result.requests > orders.length) payRuns.distinct = false
      return result
    })
    if (appAlone.non2xx > 0) notes.push(`app alone: ${appAlone.non2xx} non-2xx answers.`)
    pairs.push({
      id: 3,
      title: 'Payment notification end to end (gateway → app → MariaDB), distinct orders',
      subject: { name: 'gateway + app', result: ours },
      baseline: { name: 'bare mysql2 loop, same transaction', result: theirs },
      connections: pc,
      target: { minRatio: 0.5, maxP99Ms: 50 },
      parts: [{ name: 'app (internal order/update, signed, distinct orders)', result: appAlone }],
    })
    scaling.push({
      endpoint: 'gateway POST /payment/notify (→ app → MariaDB)',
      results: new Map([[pc, ours]]),
    })
  }

  // Cost as load grows: the steps not measured by the pairs already.
  log('scaling')
  const scaleFiles = {
    verify: await requestFile(
      verifyRequests(keys.token, settings.verifyPool, Math.floor(Date.now() / 1000)),
    ),
    credits: await requestFile(
      users.map((u) => ({
        method: 'GET' as const,
        path: '/api/v1/user/credits',
        headers: { Authorization: `Bearer ${u.token}` },
      })),
    ),
  }
  for (const row of settings.scaling ? scaling : []) {
    for (const connections of settings.scalingConnections) {
      if (row.results.has(connections)) continue
      // Quick mode measures only the heaviest step beyond what the pairs measured.
      if (settings.quick && connections !== Math.max(...settings.scalingConnections)) continue
      log(`  ${row.endpoint} at ${connections} connections`)
      let result: LoadResult
      if (row.endpoint.includes('notify')) {
        result = await measurePay(connections)
      } else if (row.endpoint.includes('credits')) {
        result = await measure(
          appOrigin,
          connections,
          { warmup: scaleFiles.credits, measured: scaleFiles.credits },
          [app],
        )
      } else if (row.endpoint.includes('safe-mode')) {
        // Fresh pushes: their timestamps must stay inside the gateway's 300 s window.
        const nowS = Math.floor(Date.now() / 1000)
        const pushes = safeModeTextPushes(
          keys,
          settings.pushPool * 2,
          nowS,
          BigInt(nowS) * 1_000_000n + 500_000n,
        )
        result = await measure(
          gatewayOrigin,
          connections,
          {
            warmup: await requestFile(pushes.slice(0, settings.pushPool)),
            measured: await requestFile(pushes.slice(settings.pushPool)),
          },
          [gateway],
        )
      } else {
        result = await measure(
          gatewayOrigin,
          connections,
          { warmup: scaleFiles.verify, measured: scaleFiles.verify },
          [gateway],
        )
      }
      row.results.set(connections, result)
    }
  }
  if (payRuns.sent > 0) {
    notes.push(
      `Payment notifications: ${payRuns.success} answered SUCCESS and ${payRuns.refused} FAIL ` +
        `(${payRuns.sent} completed by wrk, warm-ups included; the rest were in flight when wrk stopped); ` +
        (payRuns.distinct
          ? 'every notification was for a distinct pending order.'
          : 'the order pool ran out, so some orders were notified twice.'),
    )
    check(payRuns.refused === 0, 'no payment notification was answered FAIL')
  }
  peakRss.unshift(
    { name: 'gateway', bytes: await gateway.peakRssBytes(), targetBytes: 100 * 2 ** 20 },
    { name: 'app', bytes: await app.peakRssBytes(), targetBytes: 200 * 2 ** 20 },
  )

  let profiles: string | undefined
  if (settings.profile) {
    await stopServer(gateway)
    await stopServer(app)
    profiles = await summarizeCpuProfiles(
      [
        { name: 'gateway', dir: join(work, 'profile-gateway') },
        { name: 'app', dir: join(work, 'profile-app') },
      ],
      profileWindows,
    )
  }

  const logProblems = await collectLogProblems(['app', 'gateway'])
  if (logProblems !== '') {
    notes.push(
      'Warnings in the service logs (the pair 1 check sends one wrongly signed request on purpose, ' +
        `logged as "wechat push refused"):\n${logProblems.replace(/^- /gm, '  - ')}`,
    )
  }

  return {
    machine: machineInfo(ROOT, mariadbVersion),
    settings,
    startedAt: started,
    finishedAt: new Date(),
    loadAverage: { start: loadAtStart, end: loadavg()[0] ?? 0 },
    pairs,
    scaling,
    peakRss,
    notes,
    profiles,
  }
}

/** The distinct warn/error messages the services logged during the run (a clean run has none). */
async function collectLogProblems(names: string[]): Promise<string> {
  const lines: string[] = []
  for (const name of names) {
    let text: string
    try {
      text = await readFile(join(work, `${name}.log`), 'utf8')
    } catch {
      // That service never started in this run (BENCH_ONLY): nothing to report.
      continue
    }
    const counts = new Map<string, number>()
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue
      let msg = line.slice(0, 200)
      try {
        const parsed = JSON.parse(line) as { msg?: string; level?: number }
        msg = `level ${parsed.level ?? '?'}: ${parsed.msg ?? line.slice(0, 200)}`
      } catch {
        // not JSON: keep the raw start of the line
      }
      counts.set(msg, (counts.get(msg) ?? 0) + 1)
    }
    for (const [msg, n] of counts) lines.push(`- ${name}: ${msg} (×${n})`)
  }
  return lines.join('\n')
}

await main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  if (error instanceof Error && error.cause !== undefined) {
    process.stderr.write(`cause: ${inspect(error.cause)}\n`)
  }
  process.exitCode = 1
})
