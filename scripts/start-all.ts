// `npm start`: app + gateway + WeChat simulator on embedded defaults, behind one front port; Ctrl-C stops all.
import { mkdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DataDirInUseError, lockDataDir } from './start-all/data-lock.js'
import { createFrontProxy } from './start-all/front-proxy.js'
import type { Upstream } from './start-all/front-proxy.js'
import { loadLocalSecrets, LocalSecretsError } from './start-all/local-secrets.js'
import { pickPort, probePort } from './start-all/ports.js'
import { startService, waitUntilReady } from './start-all/service-process.js'
import type { ServiceProcess, ServiceSpec } from './start-all/service-process.js'

/** The line a script waits for: `WXGATE_READY {"url": …, "pids": …, "dataDir": …}`. */
const READY_MARK = 'WXGATE_READY'
const STOP_TIMEOUT_MS = 12_000

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const env = process.env
const color = process.stdout.isTTY === true && env.NO_COLOR === undefined
const write = (text: string): void => {
  process.stdout.write(text)
}
const say = (text: string): void => write(`wxgate    │ ${text}\n`)

function fail(message: string): never {
  console.error(`wxgate: ${message}`)
  process.exit(1)
}

function portFrom(name: string, fallback: number | undefined): number | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const port = Number(raw)
  if (!/^\d+$/.test(raw) || port > 65_535) fail(`${name} must be a port number (0 = any free port)`)
  return port
}

/** The service's own variable, else its contract default while that is free (8000, 8001), else any free port. */
async function internalPort(name: string, preferred: number | undefined): Promise<number> {
  const port = portFrom(name, undefined)
  if (port !== undefined && port !== 0) {
    // Checked here: a taken port would only show as the service's own start failure, after the front door
    // had asked the other listener there whether it was ready.
    let free: number | undefined
    try {
      free = await probePort(port)
    } catch (error) {
      fail(
        `${name}=${port}: cannot listen there (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      )
    }
    if (free === undefined) fail(`${name}=${port} is in use; pick another port`)
    return port
  }
  // 0 asks for any free port; unset, for the contract's default while it is free.
  return pickPort(port === undefined ? preferred : undefined)
}

// Settings: nothing is required; WXGATE_* move the front door and the data.
const frontPort = portFrom('WXGATE_PORT', 8080) ?? 8080
const frontHost = env.WXGATE_HOST ?? '127.0.0.1'
const dataDir = resolve(env.WXGATE_DATA_DIR ?? join(root, 'data'))
mkdirSync(dataDir, { recursive: true })
try {
  // Released however this process exits, a failed start included.
  process.on('exit', lockDataDir(dataDir))
} catch (error) {
  if (error instanceof DataDirInUseError) {
    fail(
      `${error.message}; stop it, or start another with its own WXGATE_DATA_DIR=<folder> and WXGATE_PORT=<port>`,
    )
  }
  throw error
}
const secretsFile = join(dataDir, 'local-secrets.json')
let secrets: ReturnType<typeof loadLocalSecrets>['secrets']
let secretsCreated: boolean
try {
  const loaded = loadLocalSecrets(secretsFile)
  secrets = loaded.secrets
  secretsCreated = loaded.created
} catch (error) {
  if (error instanceof LocalSecretsError) fail(error.message)
  throw error
}

// The front door listens first: its address goes into the services' settings (notify and push URLs).
const proxy = createFrontProxy()
await new Promise<void>((resolveListen) => {
  proxy.server.once('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') {
      fail(
        `port ${frontPort} is in use; start with WXGATE_PORT=<another port> (and, for a second wxgate, WXGATE_DATA_DIR=<another folder>) npm start`,
      )
    }
    fail(`cannot listen on ${frontHost}:${frontPort}: ${error.message}`)
  })
  proxy.server.listen(frontPort, frontHost, resolveListen)
})
const bound = proxy.server.address()
if (bound === null || typeof bound === 'string') fail('the front door bound no TCP port')
const localHost = ['0.0.0.0', '::'].includes(frontHost)
  ? '127.0.0.1'
  : frontHost.includes(':')
    ? `[${frontHost}]`
    : frontHost
/** The front door from this machine: where the simulator pushes and WeChat Pay notifies. */
const localUrl = `http://${localHost}:${bound.port}`
/** The front door as a browser reaches it (set WXGATE_PUBLIC_URL when that is another machine). */
const publicUrl = (env.WXGATE_PUBLIC_URL ?? localUrl).replace(/\/+$/, '')
if (!/^https?:\/\/[^/]+$/.test(publicUrl)) fail('WXGATE_PUBLIC_URL must be http(s)://host[:port]')

const ports: Record<Upstream, number> = {
  simulator: await internalPort('SIMULATOR_PORT', undefined),
  app: await internalPort('APP_PORT', 8000),
  gateway: await internalPort('GATEWAY_PORT', 8001),
}
// Two services pinned to one port would each pass the check above (it lets each port go again).
const taken = new Map<number, string>([[bound.port, 'WXGATE_PORT']])
for (const [name, port] of [
  ['SIMULATOR_PORT', ports.simulator],
  ['APP_PORT', ports.app],
  ['GATEWAY_PORT', ports.gateway],
] as const) {
  const other = taken.get(port)
  if (other !== undefined) fail(`${name} and ${other} are both ${port}; give each its own port`)
  taken.set(port, name)
}
proxy.setUpstreams(ports)
const simulatorUrl = `http://127.0.0.1:${ports.simulator}`

// The variables that say where things are, set explicitly so a production .env in the working directory cannot
// point the all-in-one at its database, Redis or WeChat (an empty value counts as unset, and the environment wins
// over .env). Other settings in a .env (PRODUCTS_FILE, ORDER_EXPIRE_S, …) do apply, as they would to the services.
const base = {
  ...env,
  LOG_LEVEL: env.LOG_LEVEL ?? 'info',
  REDIS_URL: '',
  // Only the front door (on this machine) forwards, and only the gateway (on this machine) calls internal APIs.
  TRUST_PROXY: 'loopback',
}
const specs: ServiceSpec[] = [
  {
    name: 'simulator',
    script: 'simulator',
    port: ports.simulator,
    readyPath: '/_sim/state',
    env: {
      ...base,
      SIMULATOR_HOST: '127.0.0.1',
      SIMULATOR_PORT: String(ports.simulator),
      // WeChat's servers push to the front door, through the same routing as in production.
      SIMULATOR_PUSH_URL: `${localUrl}/api/v1/auth/wechat/verify`,
      SIMULATOR_PUSH_MODE: 'safe',
      WECHAT_APPID: secrets.WECHAT_APPID,
      WECHAT_SECRET: secrets.WECHAT_SECRET,
      WECHAT_TOKEN: secrets.WECHAT_TOKEN,
      WECHAT_ENCODING_AES_KEY: secrets.WECHAT_ENCODING_AES_KEY,
      WECHAT_PAY_MCHID: secrets.WECHAT_PAY_MCHID,
      WECHAT_PAY_API_KEY: secrets.WECHAT_PAY_API_KEY,
    },
  },
  {
    name: 'app',
    script: 'start:app',
    port: ports.app,
    readyPath: '/readyz',
    env: {
      ...base,
      APP_HOST: '127.0.0.1',
      APP_PORT: String(ports.app),
      MYSQL_HOST: '',
      DB_MIGRATE: 'true',
      INTERNAL_ALLOWED_IPS: '127.0.0.0/8,::1/128',
      SQLITE_PATH: join(dataDir, 'app.sqlite'),
      WECHAT_HTTP_PROXY: '',
      WECHAT_APPID: secrets.WECHAT_APPID,
      WECHAT_SECRET: secrets.WECHAT_SECRET,
      WECHAT_PAY_MCHID: secrets.WECHAT_PAY_MCHID,
      WECHAT_PAY_API_KEY: secrets.WECHAT_PAY_API_KEY,
      WECHAT_PAY_NOTIFY_URL: `${localUrl}/api/v1/payment/notify`,
      // Server-to-server calls go straight to the simulator; the pages a browser opens (the OAuth authorize
      // page, showqrcode) go through the front door, so the browser only ever sees one origin.
      WECHAT_API_BASE_URL: simulatorUrl,
      WECHAT_PAY_API_BASE_URL: simulatorUrl,
      WECHAT_OPEN_BASE_URL: publicUrl,
      WECHAT_MP_BASE_URL: publicUrl,
      JWT_SECRET: secrets.JWT_SECRET,
      INTERNAL_API_SECRET: secrets.INTERNAL_API_SECRET,
    },
  },
  {
    name: 'gateway',
    script: 'start:gateway',
    port: ports.gateway,
    readyPath: '/readyz',
    env: {
      ...base,
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(ports.gateway),
      APP_SERVER_URL: `http://127.0.0.1:${ports.app}`,
      GATEWAY_SPOOL_DIR: join(dataDir, 'spool'),
      WECHAT_APPID: secrets.WECHAT_APPID,
      WECHAT_TOKEN: secrets.WECHAT_TOKEN,
      WECHAT_ENCODING_AES_KEY: secrets.WECHAT_ENCODING_AES_KEY,
      WECHAT_PAY_MCHID: secrets.WECHAT_PAY_MCHID,
      WECHAT_PAY_API_KEY: secrets.WECHAT_PAY_API_KEY,
      INTERNAL_API_SECRET: secrets.INTERNAL_API_SECRET,
    },
  },
]

const shownSecretsFile = relative(process.cwd(), secretsFile).startsWith('..')
  ? secretsFile
  : relative(process.cwd(), secretsFile)
say(
  secretsCreated
    ? `generated secrets into ${shownSecretsFile} (kept for the next start)`
    : `using the secrets in ${shownSecretsFile}`,
)
const services: ServiceProcess[] = []
let stopping = false
const startup = new AbortController()
const startTimeoutS = Number(env.WXGATE_START_TIMEOUT_S ?? '120')
// A cold start bundles each service with esbuild before it listens, and the simulator runs under tsx:
// slow machines need the generous default.
const timeoutMs = (Number.isFinite(startTimeoutS) && startTimeoutS > 0 ? startTimeoutS : 120) * 1000

/** Starts a service and watches it: a service that dies on its own takes the others down with it. */
function launch(spec: ServiceSpec): ServiceProcess {
  const service = startService(spec, services.length, {
    cwd: root,
    prefixWidth: 9,
    color,
    verbose: env.WXGATE_VERBOSE === '1',
    write,
  })
  services.push(service)
  void service.exited.then(({ code, signal }) => {
    // A terminal's Ctrl-C reaches the children too, and one may exit before our own SIGINT handler ran.
    setTimeout(() => {
      if (stopping) return
      const how = signal === null ? `with code ${code ?? '?'}` : `by ${signal}`
      console.error(`wxgate: ${spec.name} exited ${how}; stopping the others`)
      void stop(1)
    }, 300)
  })
  return service
}

/** Stops every child (SIGTERM, then SIGKILL after a while), closes the front door and exits. */
async function stop(exitCode: number, graceMs = 0): Promise<never> {
  stopping = true
  startup.abort()
  // After a terminal Ctrl-C the children got SIGINT too: give them a moment to drain before a SIGTERM,
  // which they would take as a second signal and exit without draining.
  if (graceMs > 0) {
    await Promise.race([
      Promise.all(services.map((service) => service.exited)),
      new Promise((resolveWait) => setTimeout(resolveWait, graceMs)),
    ])
  }
  for (const service of services) if (service.running) service.child.kill('SIGTERM')
  const killer = setTimeout(() => {
    for (const service of services) if (service.running) service.child.kill('SIGKILL')
  }, STOP_TIMEOUT_MS)
  await Promise.all(services.map((service) => service.exited))
  clearTimeout(killer)
  await proxy.close()
  if (exitCode === 0) say('stopped')
  process.exit(exitCode)
}

let signalled = false
const onSignal = (signal: NodeJS.Signals): void => {
  // npm passes the terminal's Ctrl-C on as well: one stop is enough.
  if (signalled) return
  signalled = true
  say(`${signal}: stopping…`)
  // A terminal's Ctrl-C (SIGINT) or hang-up (SIGHUP) reached the children too: they are draining already.
  void stop(0, signal === 'SIGINT' || signal === 'SIGHUP' ? 2000 : 0)
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)
// A closed terminal or a supervisor's hang-up: without a handler node dies at once and leaves the three
// services running. (A SIGKILL of this process reaches no handler: each service's own watch of its parent,
// start-all/stop-with-parent.mjs, stops it then.)
process.on('SIGHUP', onSignal)
// Whatever happens to this process, its children do not outlive it.
process.on('exit', () => {
  for (const service of services) if (service.running) service.child.kill('SIGKILL')
})

async function ready(started: ServiceProcess[]): Promise<void> {
  await Promise.all(started.map((service) => waitUntilReady(service, timeoutMs, startup.signal)))
}

try {
  // The gateway last: its readiness is app's, and it would only log warnings while app migrates.
  const [simulatorSpec, appSpec, gatewaySpec] = specs as [ServiceSpec, ServiceSpec, ServiceSpec]
  say('starting the simulator and app…')
  await ready([launch(simulatorSpec), launch(appSpec)])
  say('starting the gateway…')
  await ready([launch(gatewaySpec)])
} catch (error) {
  if (!stopping) {
    console.error(`wxgate: ${error instanceof Error ? error.message : String(error)}`)
    await stop(1)
  }
}

if (!stopping) {
  const links: [string, string][] = [
    ['/', 'Demo page · 演示页面'],
    ['/docs', 'App API docs · 接口文档'],
    ['/_sim/state', 'Simulator control · 模拟器控制'],
  ]
  const width = Math.max(...links.map(([path]) => publicUrl.length + path.length))
  write(
    [
      '',
      '  wxgate is running · wxgate 已启动',
      '',
      ...links.map(([path, label]) => `  ${`${publicUrl}${path}`.padEnd(width)}   ${label}`),
      '',
      `  app http://127.0.0.1:${ports.app}, gateway http://127.0.0.1:${ports.gateway} (behind the front door, as behind nginx)`,
      `  data: ${dataDir} (SQLite database, gateway spool, generated secrets)`,
      '  Ctrl-C stops everything. WXGATE_VERBOSE=1 also logs the polling GET requests.',
      '',
      '',
    ].join('\n'),
  )
  const pids = Object.fromEntries(services.map((service) => [service.spec.name, service.child.pid]))
  write(`${READY_MARK} ${JSON.stringify({ url: publicUrl, pids, ports, dataDir })}\n`)
}
