// `npm start` from the outside: one front door routed like nginx, kept secrets and data, clean and dirty stops.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runStartAll } from './start-all-process.js'
import type { RunningStartAll } from './start-all-process.js'

interface Answer {
  status: number
  type: string
  body: string
}

async function get(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { redirect: 'manual', ...init })
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: await response.text(),
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function readSecrets(dataDir: string): Record<string, string> {
  return JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as Record<
    string,
    string
  >
}

describe('npm start (scripts/start-all.ts)', { timeout: 240_000 }, () => {
  let dataDir: string
  let system: RunningStartAll

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'wxgate-start-all-'))
    system = await runStartAll({ dataDir })
  })

  after(async () => {
    if (system.child.exitCode === null && system.child.signalCode === null) {
      await system.stop('SIGKILL')
    }
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('prints the demo page, the API docs and the simulator control URLs', () => {
    const output = system.output()
    assert.match(system.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    for (const path of ['/', '/docs', '/_sim/state']) {
      assert.ok(output.includes(`${system.url}${path} `), `${path} is printed:\n${output}`)
    }
  })

  it('routes one port like the shipped nginx config, with the simulator behind the rest', async () => {
    const products = await get(`${system.url}/api/v1/payment/products`)
    assert.equal(products.status, 200)
    assert.deepEqual(
      (JSON.parse(products.body) as { products: { id: string }[] }).products.map((p) => p.id),
      ['credits_100', 'credits_500', 'member_month'],
    )
    assert.equal((await get(`${system.url}/openapi.json`)).status, 200)
    assert.equal((await get(`${system.url}/docs`)).status < 400, true)
    const page = await get(`${system.url}/`)
    assert.equal(page.status, 200)
    assert.match(page.type, /^text\/html/)
    assert.match(page.body, /wxgate/)
    const state = await get(`${system.url}/_sim/state`)
    assert.equal(state.status, 200)
    assert.equal(
      (JSON.parse(state.body) as { settings: { pushMode: string } }).settings.pushMode,
      'safe',
    )
  })

  it('refuses the internal API from outside, however the path is spelled', async () => {
    for (const path of [
      '/api/v1/internal/user/create-or-update',
      '/api/v1/internal',
      '/api/v1/%69nternal/user/create-or-update',
      '/api/v1//internal/user/create-or-update',
      '/api/v1/payment/../internal/credits/consume',
    ]) {
      const answer = await get(`${system.url}${path}`, { method: 'POST', body: '{}' })
      assert.equal(answer.status, 403, path)
      assert.equal((JSON.parse(answer.body) as { code: string }).code, 'FORBIDDEN', path)
    }
    assert.equal((await get(`${system.url}/api/v1/payment/notify`)).status, 403)
  })

  it('sends the WeChat URLs to the gateway, which shares the generated token', async () => {
    const { WECHAT_TOKEN: token } = readSecrets(dataDir)
    assert.ok(token)
    const timestamp = String(Math.floor(Date.now() / 1000))
    const nonce = 'n0nce1234'
    const signature = createHash('sha1')
      .update([token, timestamp, nonce].sort().join(''))
      .digest('hex')
    const query = new URLSearchParams({ signature, timestamp, nonce, echostr: 'hello-wxgate' })
    const verified = await get(`${system.url}/api/v1/auth/wechat/verify?${query}`)
    assert.equal(verified.status, 200)
    assert.equal(verified.body, 'hello-wxgate')
    query.set('signature', '0'.repeat(40))
    assert.equal((await get(`${system.url}/api/v1/auth/wechat/verify?${query}`)).status, 401)
  })

  it('keeps its generated secrets in a 0600 file and its data across a restart', async () => {
    const file = join(dataDir, 'local-secrets.json')
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const secrets = readSecrets(dataDir)
    assert.match(secrets.WECHAT_ENCODING_AES_KEY ?? '', /^[A-Za-z0-9]{43}$/)
    assert.ok((secrets.JWT_SECRET ?? '').length >= 32)
    assert.ok((secrets.INTERNAL_API_SECRET ?? '').length >= 32)
    const qr = await get(`${system.url}/api/v1/auth/wechat/qrcode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    assert.equal(qr.status, 200)
    const scene = (JSON.parse(qr.body) as { scene_str: string }).scene_str

    assert.deepEqual(await system.stop('SIGTERM'), { code: 0, signal: null })
    system = await runStartAll({ dataDir })
    assert.deepEqual(readSecrets(dataDir), secrets)
    const check = await get(
      `${system.url}/api/v1/auth/wechat/check-follow?scene_str=${encodeURIComponent(scene)}`,
    )
    assert.equal(check.status, 200, check.body)
    assert.equal((JSON.parse(check.body) as { status: string }).status, 'pending')
  })

  it('refuses a second start on its data folder or on a taken APP_PORT, in one line, touching nothing', async () => {
    const free = await new Promise<number>((resolvePort) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo
        probe.close(() => resolvePort(port))
      })
    })
    const refusals = [
      {
        env: {
          WXGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'wxgate-start-all-3-')),
          APP_PORT: String(free),
          GATEWAY_PORT: String(free),
        },
        says: new RegExp(`GATEWAY_PORT and APP_PORT are both ${free}`),
      },
      { env: {}, says: /another npm start \(pid \d+\) uses .*WXGATE_DATA_DIR/ },
      {
        env: {
          WXGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'wxgate-start-all-2-')),
          APP_PORT: String(system.ports.app),
        },
        says: new RegExp(`APP_PORT=${system.ports.app} is in use`),
      },
    ]
    for (const { env, says } of refusals) {
      const second = await runStartAll({ dataDir, env }).then(
        async (started) => {
          await started.stop('SIGKILL')
          return 'it started'
        },
        (error: Error) => error.message,
      )
      assert.match(second, says)
      assert.doesNotMatch(second, /WXGATE_READY/)
      if (env.WXGATE_DATA_DIR !== undefined) rmSync(env.WXGATE_DATA_DIR, { recursive: true })
    }
    // The first one is untouched and still serves.
    assert.equal((await get(`${system.url}/api/v1/payment/products`)).status, 200)
    assert.equal(
      readFileSync(join(dataDir, 'npm-start.pid'), 'utf8').trim(),
      String(system.child.pid),
    )
  })

  it('stops with SIGHUP (a closed terminal) like SIGTERM, freeing its data folder', async () => {
    assert.deepEqual(await system.stop('SIGHUP'), { code: 0, signal: null })
    for (const pid of Object.values(system.pids)) {
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' })
    }
    assert.equal(existsSync(join(dataDir, 'npm-start.pid')), false)
    system = await runStartAll({ dataDir })
  })

  it('stops with SIGINT (Ctrl-C) too, exit code 0', async () => {
    assert.deepEqual(await system.stop('SIGINT'), { code: 0, signal: null })
    for (const pid of Object.values(system.pids)) {
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' })
    }
  })

  it('stops the others and exits non-zero, naming the service, when one dies', async () => {
    system = await runStartAll({ dataDir })
    process.kill(system.pids.app, 'SIGKILL')
    const exit = await system.exited
    assert.equal(exit.code, 1)
    assert.match(system.output(), /app exited by SIGKILL; stopping the others/)
    for (const pid of [system.pids.gateway, system.pids.simulator]) {
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' })
    }
  })

  it('takes its services down with it when killed beyond any handler (SIGKILL), freeing the folder', async () => {
    system = await runStartAll({ dataDir })
    const pids = Object.values(system.pids)
    system.child.kill('SIGKILL')
    await system.exited
    const deadline = Date.now() + 20_000
    while (pids.some(isRunning) && Date.now() < deadline) {
      await new Promise((resolveWait) => setTimeout(resolveWait, 200))
    }
    assert.deepEqual(pids.filter(isRunning), [], 'no service outlives npm start')
    // Its lock names a dead process now: the next start takes the folder.
    system = await runStartAll({ dataDir })
    assert.deepEqual(await system.stop('SIGTERM'), { code: 0, signal: null })
  })
})
