// The production topology from processes: nginx (the shipped template) in front of 2 gateways and 2 apps on
// MariaDB + Redis, with the WeChat simulator in the test process. Starts and stops everything as a user would.
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, openSync, closeSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile, chmod } from 'node:fs/promises'
import { createServer, connect } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { createConnection } from 'mysql2/promise'
import { createSimulator } from '@wxgate/simulator'
import type { Simulator } from '@wxgate/simulator'
import { npmScriptNodeArgs } from '../../scripts/npm-script-command.js'
import type { ServiceScript } from '../../scripts/npm-script-command.js'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const NGINX_TEMPLATE = join(REPO_ROOT, 'deploy', 'nginx', 'wxgate.conf.template')
export const NGINX_INTERNAL_TEMPLATE = join(
  REPO_ROOT,
  'deploy',
  'nginx',
  'wxgate-internal.conf.template',
)

const MYSQL = { host: '127.0.0.1', port: 3306, user: 'root', password: '' } as const

// ---------------------------------------------------------------------------------------------------------
// Prerequisites

/** The nginx binary (Debian's /usr/sbin/nginx, or one on PATH), or undefined when there is none. */
export function findNginx(): string | undefined {
  if (existsSync('/usr/sbin/nginx')) return '/usr/sbin/nginx'
  const which = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' })
  const path = which.stdout.trim()
  return which.status === 0 && path !== '' ? path : undefined
}

/** Why MariaDB at 127.0.0.1:3306 (root) cannot be used, or undefined when it can. */
export async function mariaDbProblem(): Promise<string | undefined> {
  try {
    const connection = await createConnection({ ...MYSQL, connectTimeout: 2000 })
    await connection.end()
    return undefined
  } catch (error) {
    return `MariaDB at ${MYSQL.host}:${MYSQL.port} is unreachable (${(error as Error).message})`
  }
}

/** Why the topology suite cannot run here (nginx or MariaDB missing), or undefined. */
export async function topologySkipReason(): Promise<string | undefined> {
  if (findNginx() === undefined) return 'nginx is not installed (apt-get install nginx)'
  return mariaDbProblem()
}

// ---------------------------------------------------------------------------------------------------------
// Ports, templates

/** A port that was free a moment ago on 127.0.0.1 (the kernel picks it). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((done, fail) => {
    server.once('error', fail)
    server.listen(0, '127.0.0.1', done)
  })
  const address = server.address()
  await new Promise<void>((done) => server.close(() => done()))
  if (address === null || typeof address === 'string') throw new Error('no TCP port was assigned')
  return address.port
}

async function portAccepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      done(true)
    })
    socket.once('error', () => done(false))
  })
}

/** Fills `${UPPER_CASE}` placeholders (as envsubst does in the nginx image); an unknown one is an error. */
export function renderTemplate(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (_match, name: string) => {
    const value = values[name]
    if (value === undefined) throw new Error(`template placeholder \${${name}} has no value`)
    return value
  })
}

/** `server 127.0.0.1:<port> …;` lines of an upstream block. */
export function upstreamServers(
  ports: readonly number[],
  params = 'max_fails=1 fail_timeout=2s',
): string {
  return ports.map((port) => `server 127.0.0.1:${port} ${params};`).join(' ')
}

// ---------------------------------------------------------------------------------------------------------
// nginx

export interface AccessLogEntry {
  status: number
  method: string
  uri: string
  /** Every upstream tried, in order (nginx lists them when it moved on to the next one). */
  upstreams: string[]
  upstreamStatuses: string[]
  /** Seconds from the first byte read from the client to the last byte sent. */
  requestTime: number
  requestId: string
}

export interface NginxInstance {
  port: number
  internalPort: number
  baseUrl: string
  internalUrl: string
  dir: string
  accessLog(): Promise<AccessLogEntry[]>
  stop(): Promise<void>
}

export interface StartNginxOptions {
  bin: string
  dir: string
  port: number
  internalPort: number
  gatewayPorts: readonly number[]
  appPorts: readonly number[]
}

/**
 * nginx as a non-root user can run it: its own prefix, pid, temp paths and logs under `dir`, `daemon off`,
 * loopback only. The shipped templates are rendered to local ports and included as they are.
 */
export async function startNginx(options: StartNginxOptions): Promise<NginxInstance> {
  const { bin, dir, port, internalPort } = options
  await mkdir(join(dir, 'temp'), { recursive: true })
  // Workers of a root master run as another user; they must reach the temp paths and the config.
  await chmod(dir, 0o755)
  const upstreamParams = 'max_fails=1 fail_timeout=2s'
  const publicConf = renderTemplate(await readFile(NGINX_TEMPLATE, 'utf8'), {
    NGINX_LISTEN: `127.0.0.1:${port}`,
    GATEWAY_UPSTREAM_SERVERS: upstreamServers(options.gatewayPorts, upstreamParams),
    APP_UPSTREAM_SERVERS: upstreamServers(options.appPorts, upstreamParams),
    REAL_IP_DIRECTIVES: '',
    // The public server logs in the template's own format (no query strings) into the same file.
    NGINX_ACCESS_LOG: join(dir, 'access.log'),
    NGINX_ERROR_LOG: join(dir, 'error.log'),
  })
  const internalConf = renderTemplate(await readFile(NGINX_INTERNAL_TEMPLATE, 'utf8'), {
    INTERNAL_LISTEN: `127.0.0.1:${internalPort}`,
    APP_UPSTREAM_SERVERS: upstreamServers(options.appPorts, upstreamParams),
  })
  await writeFile(join(dir, 'wxgate.conf'), publicConf)
  await writeFile(join(dir, 'wxgate-internal.conf'), internalConf)
  const temp = (name: string) => join(dir, 'temp', name)
  const isRoot = process.getuid?.() === 0
  const main = [
    isRoot ? `user ${userInfo().username};` : '',
    'daemon off;',
    'worker_processes 2;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 4096; }',
    'http {',
    `  client_body_temp_path ${temp('body')};`,
    `  proxy_temp_path ${temp('proxy')};`,
    `  fastcgi_temp_path ${temp('fastcgi')};`,
    `  uwsgi_temp_path ${temp('uwsgi')};`,
    `  scgi_temp_path ${temp('scgi')};`,
    '  log_format topology escape=json',
    `    '{"status":$status,"method":"$request_method","uri":"$request_uri","upstream":"$upstream_addr",'`,
    `    '"upstream_status":"$upstream_status","request_time":"$request_time","request_id":"$wxgate_request_id"}';`,
    `  access_log ${join(dir, 'access.log')} topology;`,
    `  include ${join(dir, 'wxgate.conf')};`,
    `  include ${join(dir, 'wxgate-internal.conf')};`,
    '}',
    '',
  ].join('\n')
  const confPath = join(dir, 'nginx.conf')
  await writeFile(confPath, main)
  const args = ['-p', dir, '-c', confPath, '-e', join(dir, 'error.log')]
  const check = spawnSync(bin, [...args, '-t', '-q'], { encoding: 'utf8' })
  if (check.status !== 0) {
    throw new Error(`nginx -t refused the rendered config:\n${check.stderr}${check.stdout}`)
  }
  const logFd = openSync(join(dir, 'nginx.out'), 'a')
  const child = spawn(bin, args, { stdio: ['ignore', logFd, logFd] })
  closeSync(logFd)
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  let running = true
  void exited.then(() => {
    running = false
  })
  const deadline = Date.now() + 10_000
  while (!(await portAccepts(port)) || !(await portAccepts(internalPort))) {
    if (!running) throw new Error(`nginx exited at start:\n${await tail(join(dir, 'error.log'))}`)
    if (Date.now() > deadline) throw new Error('nginx did not listen within 10 s')
    await sleep(50)
  }
  return {
    port,
    internalPort,
    baseUrl: `http://127.0.0.1:${port}`,
    internalUrl: `http://127.0.0.1:${internalPort}`,
    dir,
    async accessLog() {
      const text = await readFile(join(dir, 'access.log'), 'utf8').catch(() => '')
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          const raw = JSON.parse(line) as Record<string, string | number>
          // "$upstream_addr" lists tries as "a:1, b:2" (and " : " across internal redirects).
          const list = (value: unknown) =>
            String(value)
              .split(/\s*[,:]\s+/)
              .map((item) => item.trim())
              .filter((item) => item !== '' && item !== '-')
          return {
            status: Number(raw.status),
            method: String(raw.method),
            uri: String(raw.uri),
            upstreams: list(raw.upstream),
            upstreamStatuses: list(raw.upstream_status),
            requestTime: Number(raw.request_time),
            requestId: String(raw.request_id),
          }
        })
    },
    async stop() {
      if (!running) return
      child.kill('SIGTERM')
      await Promise.race([exited, sleep(5000, undefined, { ref: false })])
      if (running) child.kill('SIGKILL')
      await exited
    },
  }
}

// ---------------------------------------------------------------------------------------------------------
// Service processes

export interface ServiceProcess {
  readonly name: string
  readonly port: number
  readonly url: string
  readonly logFile: string
  /** Live environment; changes apply at the next `start`. */
  env: Record<string, string>
  readonly running: boolean
  /** Exit code (or signal name) of the last run. */
  readonly lastExit: number | string | undefined
  /** How many times the process was started. */
  readonly starts: number
  /** Spawns a service as its npm script does, in the repository root, and waits for `readyPath` to answer 200. */
  start(options?: { readyPath?: string; timeoutMs?: number }): Promise<void>
  /** SIGTERM, as an operator stops it; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | string | undefined>
  /** SIGKILL: the process dies mid-request. */
  kill(): Promise<void>
  logTail(lines?: number): Promise<string>
}

/** What a user's shell would pass on; everything else comes from the service's own env. */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR']
  const env: Record<string, string> = {}
  for (const name of keep) {
    const value = process.env[name]
    if (value !== undefined) env[name] = value
  }
  return env
}

async function tail(file: string, lines = 40): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '')
  return text.split('\n').slice(-lines).join('\n')
}

export function defineService(options: {
  name: string
  script: ServiceScript
  port: number
  env: Record<string, string>
  logDir: string
}): ServiceProcess {
  const { name, script, port, logDir } = options
  const logFile = join(logDir, `${name}.log`)
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let lastExit: number | string | undefined
  let starts = 0
  const service: ServiceProcess = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    logFile,
    env: options.env,
    get running() {
      return child !== undefined
    },
    get lastExit() {
      return lastExit
    },
    get starts() {
      return starts
    },
    async start({ readyPath = '/readyz', timeoutMs = 30_000 } = {}) {
      if (child !== undefined) throw new Error(`${name} is already running`)
      const fd = openSync(logFile, 'a')
      const proc = spawn(process.execPath, npmScriptNodeArgs(script), {
        cwd: REPO_ROOT,
        env: { ...baseEnv(), ...service.env },
        stdio: ['ignore', fd, fd],
      })
      closeSync(fd)
      child = proc
      starts++
      exited = new Promise((done) => {
        proc.once('exit', (code, signal) => {
          lastExit = code ?? signal ?? undefined
          if (child === proc) child = undefined
          done()
        })
      })
      const deadline = Date.now() + timeoutMs
      for (;;) {
        if (child !== proc) {
          throw new Error(`${name} exited (${String(lastExit)}) at start:\n${await tail(logFile)}`)
        }
        try {
          const response = await fetch(service.url + readyPath, {
            signal: AbortSignal.timeout(1000),
          })
          await response.arrayBuffer()
          if (response.status === 200) return
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) {
          throw new Error(
            `${name} was not ready at ${readyPath} within ${timeoutMs} ms:\n${await tail(logFile)}`,
          )
        }
        await sleep(100)
      }
    },
    async stop(timeoutMs = 15_000) {
      const proc = child
      if (proc === undefined) return lastExit
      proc.kill('SIGTERM')
      const done = exited
      const timer = sleep(timeoutMs, undefined, { ref: false }).then(() => 'timeout' as const)
      if ((await Promise.race([done, timer])) === 'timeout') {
        proc.kill('SIGKILL')
        await done
        throw new Error(`${name} did not exit within ${timeoutMs} ms of SIGTERM`)
      }
      return lastExit
    },
    async kill() {
      const proc = child
      if (proc === undefined) return
      proc.kill('SIGKILL')
      await exited
    },
    logTail: (lines = 40) => tail(logFile, lines),
  }
  return service
}

// ---------------------------------------------------------------------------------------------------------
// Database

export interface TestDatabase {
  name: string
  drop(): Promise<void>
}

/** A fresh MariaDB database for one run (dropped by `drop`). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `wxgate_topology_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
  const connection = await createConnection(MYSQL)
  try {
    await connection.query(
      `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    )
  } finally {
    await connection.end()
  }
  return {
    name,
    async drop() {
      const admin = await createConnection(MYSQL)
      try {
        await admin.query(`DROP DATABASE IF EXISTS \`${name}\``)
      } finally {
        await admin.end()
      }
    },
  }
}

// ---------------------------------------------------------------------------------------------------------
// The topology

export interface TopologySecrets {
  appId: string
  appSecret: string
  token: string
  encodingAesKey: string
  mchId: string
  payApiKey: string
  internalApiSecret: string
  jwtSecret: string
}

export interface Topology {
  sim: Simulator
  nginx: NginxInstance
  apps: ServiceProcess[]
  gateways: ServiceProcess[]
  db: TestDatabase
  redisUrl: string
  secrets: TopologySecrets
  dir: string
  /** nginx's public base URL: every request of the suites goes here. */
  baseUrl: string
  /** An extra app on the same database (never behind nginx), e.g. with another INTERNAL_ALLOWED_IPS. */
  extraApp(name: string, env: Record<string, string>): Promise<ServiceProcess>
  /** Every app process defined so far (the two behind nginx and any extra). */
  allApps(): ServiceProcess[]
  /** Starts any app or gateway a failed step left stopped (so one failure does not cascade). */
  ensureRunning(): Promise<void>
  /** Files waiting in a gateway's spool. */
  spoolDepth(gateway: ServiceProcess): Promise<number>
  stop(): Promise<void>
}

export interface StartTopologyOptions {
  apps?: number
  gateways?: number
  /** The simulator's timeScale (WeChat's notification retry schedule runs this much faster). */
  timeScale?: number
  logLevel?: string
}

function alnum(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  const bytes = randomBytes(length)
  let out = ''
  for (const byte of bytes) out += alphabet[byte % alphabet.length]
  return out
}

export async function startTopology(options: StartTopologyOptions = {}): Promise<Topology> {
  const appCount = options.apps ?? 2
  const gatewayCount = options.gateways ?? 2
  const logLevel = options.logLevel ?? process.env.TOPOLOGY_LOG_LEVEL ?? 'warn'
  const bin = findNginx()
  if (bin === undefined) throw new Error('nginx is not installed')
  const dir = await mkdtemp(join(tmpdir(), 'wxgate-topology-'))
  const keepDir = process.env.TOPOLOGY_KEEP_DIR !== undefined
  const cleanups: (() => Promise<unknown>)[] = [
    () => (keepDir ? Promise.resolve() : rm(dir, { recursive: true, force: true })),
  ]
  const runCleanups = async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => console.error('topology cleanup:', error))
    }
  }
  try {
    const secrets: TopologySecrets = {
      appId: `wx${randomBytes(8).toString('hex')}`,
      appSecret: randomBytes(16).toString('hex'),
      token: alnum(32),
      encodingAesKey: alnum(43),
      mchId: `19${randomBytes(4).readUInt32BE() % 100_000_000}`.padEnd(10, '0'),
      payApiKey: alnum(32),
      internalApiSecret: alnum(48),
      jwtSecret: alnum(48),
    }
    const nginxPort = await freePort()
    const internalPort = await freePort()
    const baseUrl = `http://127.0.0.1:${nginxPort}`
    const sim = await createSimulator({
      appId: secrets.appId,
      appSecret: secrets.appSecret,
      token: secrets.token,
      encodingAesKey: secrets.encodingAesKey,
      mchId: secrets.mchId,
      payApiKey: secrets.payApiKey,
      pushUrl: `${baseUrl}/api/v1/auth/wechat/verify`,
      pushMode: 'safe',
      timeScale: options.timeScale ?? 1000,
    })
    cleanups.push(() => sim.close())
    await sim.listen({ host: '127.0.0.1', port: 0 })

    const db = await createTestDatabase()
    cleanups.push(() => db.drop())
    // A Redis database of its own per run, so counters and claims of other runs stay apart.
    const redisUrl = `redis://127.0.0.1:6379/${1 + ((randomBytes(1)[0] ?? 0) % 15)}`

    const appEnv = (port: number, migrate: boolean): Record<string, string> => ({
      APP_HOST: '127.0.0.1',
      APP_PORT: String(port),
      LOG_LEVEL: logLevel,
      WECHAT_APPID: secrets.appId,
      WECHAT_SECRET: secrets.appSecret,
      WECHAT_PAY_MCHID: secrets.mchId,
      WECHAT_PAY_API_KEY: secrets.payApiKey,
      WECHAT_PAY_NOTIFY_URL: `${baseUrl}/api/v1/payment/notify`,
      WECHAT_API_BASE_URL: sim.baseUrl,
      WECHAT_PAY_API_BASE_URL: sim.baseUrl,
      WECHAT_OPEN_BASE_URL: sim.baseUrl,
      WECHAT_MP_BASE_URL: sim.baseUrl,
      MYSQL_HOST: MYSQL.host,
      MYSQL_PORT: String(MYSQL.port),
      MYSQL_USER: MYSQL.user,
      MYSQL_PASSWORD: MYSQL.password,
      MYSQL_DATABASE: db.name,
      DB_MIGRATE: migrate ? 'true' : 'false',
      INTERNAL_API_SECRET: secrets.internalApiSecret,
      JWT_SECRET: secrets.jwtSecret,
      REDIS_URL: redisUrl,
      TRUST_PROXY: '127.0.0.1',
      // Reconciliation (orderquery) would mend lost notifications by itself; the suites measure the
      // notification path alone, so it stays out of the way.
      RECONCILE_INTERVAL_S: '3600',
      RECONCILE_MIN_AGE_S: '86400',
      // Login scenes outlive the 60 s outage and the spool's catching up.
      QR_LOGIN_EXPIRE_S: '900',
    })

    const apps: ServiceProcess[] = []
    for (let i = 1; i <= appCount; i++) {
      const port = await freePort()
      apps.push(
        defineService({
          name: `app-${i}`,
          script: 'start:app',
          port,
          env: appEnv(port, i === 1),
          logDir: dir,
        }),
      )
    }
    cleanups.push(() => Promise.all(apps.map((app) => app.stop().catch(() => app.kill()))))
    // The first app migrates the fresh database; the others start on the ready schema (DB_MIGRATE=false).
    const [firstApp, ...otherApps] = apps
    if (firstApp === undefined) throw new Error('at least one app is needed')
    await firstApp.start()
    await Promise.all(otherApps.map((app) => app.start()))

    const gateways: ServiceProcess[] = []
    for (let i = 1; i <= gatewayCount; i++) {
      const port = await freePort()
      const spoolDir = join(dir, `spool-${i}`)
      gateways.push(
        defineService({
          name: `gateway-${i}`,
          script: 'start:gateway',
          port,
          env: {
            GATEWAY_HOST: '127.0.0.1',
            GATEWAY_PORT: String(port),
            LOG_LEVEL: logLevel,
            WECHAT_APPID: secrets.appId,
            WECHAT_TOKEN: secrets.token,
            WECHAT_ENCODING_AES_KEY: secrets.encodingAesKey,
            WECHAT_PAY_MCHID: secrets.mchId,
            WECHAT_PAY_API_KEY: secrets.payApiKey,
            INTERNAL_API_SECRET: secrets.internalApiSecret,
            // Every gateway reaches every app through the internal round robin (wxgate-internal.conf).
            APP_SERVER_URL: `http://127.0.0.1:${internalPort}`,
            GATEWAY_SPOOL_DIR: spoolDir,
            REDIS_URL: redisUrl,
            TRUST_PROXY: '127.0.0.1',
          },
          logDir: dir,
        }),
      )
    }
    cleanups.push(() =>
      Promise.all(gateways.map((gateway) => gateway.stop().catch(() => gateway.kill()))),
    )

    const nginx = await startNginx({
      bin,
      dir: join(dir, 'nginx'),
      port: nginxPort,
      internalPort,
      gatewayPorts: gateways.map((gateway) => gateway.port),
      appPorts: apps.map((app) => app.port),
    })
    cleanups.push(() => nginx.stop())
    // Gateways are ready once app answers through the internal round robin, so nginx comes first.
    await Promise.all(gateways.map((gateway) => gateway.start()))

    const extras: ServiceProcess[] = []
    cleanups.push(() => Promise.all(extras.map((app) => app.stop().catch(() => app.kill()))))
    return {
      sim,
      nginx,
      apps,
      gateways,
      db,
      redisUrl,
      secrets,
      dir,
      baseUrl,
      async extraApp(name, env) {
        const port = await freePort()
        const app = defineService({
          name,
          script: 'start:app',
          port,
          env: { ...appEnv(port, false), ...env },
          logDir: dir,
        })
        extras.push(app)
        await app.start()
        return app
      },
      allApps: () => [...apps, ...extras],
      async ensureRunning() {
        for (const app of apps) if (!app.running) await app.start()
        for (const gateway of gateways) if (!gateway.running) await gateway.start()
      },
      async spoolDepth(gateway) {
        const spoolDir = gateway.env.GATEWAY_SPOOL_DIR
        if (spoolDir === undefined) return 0
        const names = await readdir(spoolDir).catch(() => [] as string[])
        return names.filter((name) => /^\d+\.json$/.test(name)).length
      },
      stop: runCleanups,
    }
  } catch (error) {
    if (keepDir) console.error(`topology start failed; logs kept in ${dir}`)
    await runCleanups()
    throw error
  }
}
