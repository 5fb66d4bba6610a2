// End to end through the gateway: real app and gateway processes, WeChat played by an in-test simulator.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { createSimulator } from '@wxgate/simulator'
import type { Simulator } from '@wxgate/simulator'
import { npmScriptNodeArgs } from '../scripts/npm-script-command.js'
import type { ServiceScript } from '../scripts/npm-script-command.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const APP_ID = 'wx5e2e0000000000aa'
const TOKEN = 'e2e-gateway-token'
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const MCH_ID = '1900000109'
const PAY_KEY = '192006250b4c09247ec02edce69f6a2d'
const INTERNAL_SECRET = 'e2e-internal-secret-of-at-least-32-chars'
const WELCOME = 'E2E welcome'
const LOGIN = 'E2E login ok'

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Service {
  child: ChildProcess
  output: string[]
  stop(): Promise<number | null>
}

/** Starts a service as its npm script does, from the repository root with only the given environment. */
async function startService(
  script: ServiceScript,
  env: Record<string, string>,
  healthUrl: string,
): Promise<Service> {
  const child = spawn(process.execPath, npmScriptNodeArgs(script), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')))
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')))
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  const service: Service = {
    child,
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return exited
    },
  }
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) break
    try {
      if ((await fetch(healthUrl)).ok) return service
    } catch {
      // not listening yet
    }
    await sleep(50)
  }
  await service.stop()
  throw new Error(`${script} did not start:\n${output.join('')}`)
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const started = Date.now()
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

describe('gateway end to end', () => {
  let dir: string
  let sim: Simulator
  let app: Service
  let gateway: Service
  let appUrl: string
  let appEnv: Record<string, string>
  let gatewayUrl: string

  async function api<T>(
    method: string,
    path: string,
    options: { token?: string; body?: unknown } = {},
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${appUrl}${path}`, {
      method,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    })
    return { status: response.status, body: (await response.json()) as T }
  }

  interface LoginQr {
    scene_str: string
    ticket: string
  }
  interface CheckFollow {
    status: string
    subscribed: boolean
    token?: string
    user?: { openid: string; subscribed: boolean }
  }
  const newLoginQr = async () => {
    const { status, body } = await api<LoginQr>('POST', '/api/v1/auth/wechat/qrcode', { body: {} })
    assert.equal(status, 200)
    return body
  }
  /** A QR_LIMIT_STR_SCENE code made at the simulator's API, as an operator makes a poster. */
  const permanentQrTicket = async (sceneStr: string): Promise<string> => {
    const tokenUrl = `${sim.baseUrl}/cgi-bin/token?grant_type=client_credential&appid=${APP_ID}&secret=e2e-app-secret`
    const { access_token } = (await (await fetch(tokenUrl)).json()) as { access_token: string }
    const created = await fetch(
      `${sim.baseUrl}/cgi-bin/qrcode/create?access_token=${access_token}`,
      {
        method: 'POST',
        body: JSON.stringify({
          action_name: 'QR_LIMIT_STR_SCENE',
          action_info: { scene: { scene_str: sceneStr } },
        }),
      },
    )
    const { ticket } = (await created.json()) as { ticket: string }
    assert.ok(ticket, 'the simulator issued a ticket')
    return ticket
  }
  /** What app's database holds for a scene (read beside the running app: SQLite in WAL mode). */
  const channelBinding = (sceneStr: string) => {
    const db = new Database(join(dir, 'app.sqlite'), { readonly: true })
    try {
      return db
        .prepare('select openid, purpose from wechat_qrcode_bindings where scene_str = ?')
        .get(sceneStr) as { openid: string; purpose: string } | undefined
    } finally {
      db.close()
    }
  }
  const userRow = (openId: string) => {
    const db = new Database(join(dir, 'app.sqlite'), { readonly: true })
    try {
      return db.prepare('select subscribed from wechat_users where openid = ?').get(openId) as
        { subscribed: number } | undefined
    } finally {
      db.close()
    }
  }
  const checkFollow = async (sceneStr: string) =>
    (await api<CheckFollow>('GET', `/api/v1/auth/wechat/check-follow?scene_str=${sceneStr}`)).body

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gateway-e2e-'))
    const [appPort, gatewayPort] = [await freePort(), await freePort()]
    appUrl = `http://127.0.0.1:${appPort}`
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`
    sim = await createSimulator({
      appId: APP_ID,
      appSecret: 'e2e-app-secret',
      token: TOKEN,
      encodingAesKey: AES_KEY,
      mchId: MCH_ID,
      payApiKey: PAY_KEY,
      pushUrl: `${gatewayUrl}/api/v1/auth/wechat/verify`,
      pushMode: 'safe',
      timeScale: 1000,
    })
    await sim.listen({ host: '127.0.0.1', port: 0 })
    appEnv = {
      APP_HOST: '127.0.0.1',
      APP_PORT: String(appPort),
      SQLITE_PATH: join(dir, 'app.sqlite'),
      JWT_SECRET: 'e2e-jwt-secret-of-at-least-32-characters!',
      INTERNAL_API_SECRET: INTERNAL_SECRET,
      WECHAT_APPID: APP_ID,
      WECHAT_SECRET: 'e2e-app-secret',
      WECHAT_TOKEN: TOKEN,
      WECHAT_PAY_MCHID: MCH_ID,
      WECHAT_PAY_API_KEY: PAY_KEY,
      WECHAT_PAY_NOTIFY_URL: `${gatewayUrl}/api/v1/payment/notify`,
      WECHAT_API_BASE_URL: sim.baseUrl,
      WECHAT_PAY_API_BASE_URL: sim.baseUrl,
      WECHAT_OPEN_BASE_URL: sim.baseUrl,
      WECHAT_MP_BASE_URL: sim.baseUrl,
    }
    app = await startService('start:app', appEnv, `${appUrl}/healthz`)
    gateway = await startService(
      'start:gateway',
      {
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: String(gatewayPort),
        APP_SERVER_URL: appUrl,
        GATEWAY_SPOOL_DIR: join(dir, 'spool'),
        INTERNAL_API_SECRET: INTERNAL_SECRET,
        WECHAT_APPID: APP_ID,
        WECHAT_TOKEN: TOKEN,
        WECHAT_ENCODING_AES_KEY: AES_KEY,
        WECHAT_PAY_MCHID: MCH_ID,
        WECHAT_PAY_API_KEY: PAY_KEY,
        GATEWAY_WELCOME_TEXT: WELCOME,
        GATEWAY_LOGIN_SUCCESS_TEXT: LOGIN,
      },
      `${gatewayUrl}/healthz`,
    )
  })

  after(async () => {
    sim?.phone.stop()
    await gateway?.stop()
    await app?.stop()
    await sim?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('is ready once app is', async () => {
    const ready = await fetch(`${gatewayUrl}/readyz`)
    assert.equal(ready.status, 200)
  })

  it('logs a new follower in by a QR scan, then again by a scan while following, then records the unfollow', async () => {
    const openId = 'o-e2e-login-user'
    const first = await newLoginQr()
    assert.equal((await checkFollow(first.scene_str)).status, 'pending')

    const followed = await sim.phone.scan({ openId, ticket: first.ticket })
    assert.equal(followed.ok, true, followed.problem)
    assert.equal(followed.reply?.encrypted, true)
    assert.equal(followed.reply?.content, LOGIN)
    const login = await checkFollow(first.scene_str)
    assert.equal(login.status, 'scanned')
    assert.equal(login.user?.openid, openId)
    assert.equal(login.user?.subscribed, true)
    assert.ok(login.token)

    const second = await newLoginQr()
    const scanned = await sim.phone.scan({ openId, ticket: second.ticket })
    assert.equal(scanned.ok, true, scanned.problem)
    assert.equal(scanned.record.kind, 'SCAN')
    assert.equal(scanned.reply?.content, LOGIN)
    const again = await checkFollow(second.scene_str)
    assert.equal(again.status, 'scanned')
    assert.equal(again.user?.openid, openId)

    // WeChat's retry of the scan: one effect, the same answer.
    const retried = await sim.phone.redeliver(scanned.record)
    assert.equal(retried.ok, true)
    assert.equal(retried.reply?.content, LOGIN)

    const left = await sim.phone.unfollow(openId)
    assert.equal(left.ok, true, left.problem)
    assert.equal(left.body, 'success')
    const token = login.token ?? ''
    const status = await until('the unfollow to reach app', async () => {
      const { body } = await api<{ subscribed: boolean }>(
        'GET',
        '/api/v1/auth/wechat/check-follow',
        { token },
      )
      return body.subscribed ? undefined : body
    })
    assert.equal(status.subscribed, false)
  })

  it('welcomes a plain follow and answers a text with `success`', async () => {
    const followed = await sim.phone.follow('o-e2e-plain-follower')
    assert.equal(followed.ok, true, followed.problem)
    assert.equal(followed.reply?.content, WELCOME)
    const talked = await sim.phone.sendText('o-e2e-plain-follower', 'hello')
    assert.equal(talked.ok, true, talked.problem)
    assert.equal(talked.body, 'success')
  })

  for (const mode of ['plaintext', 'compatible'] as const) {
    it(`takes every event type in ${mode} mode too: login follow, scan, channel follow, text, unfollow`, async () => {
      sim.settings.pushMode = mode
      try {
        const openId = `o-e2e-${mode}-user`
        const first = await newLoginQr()
        const followed = await sim.phone.scan({ openId, ticket: first.ticket })
        assert.equal(followed.ok, true, followed.problem)
        assert.equal(followed.reply?.encrypted, mode === 'compatible', 'encrypted as the push was')
        assert.equal(followed.reply?.content, LOGIN)
        const login = await checkFollow(first.scene_str)
        assert.equal(login.status, 'scanned')
        assert.equal(login.user?.openid, openId)

        const second = await newLoginQr()
        const scanned = await sim.phone.scan({ openId, ticket: second.ticket })
        assert.equal(scanned.record.kind, 'SCAN')
        assert.equal(scanned.reply?.content, LOGIN)
        assert.equal((await checkFollow(second.scene_str)).user?.openid, openId)

        // A permanent channel code app never created: binding/update answers 404, binding/create records it.
        const channel = `channel-${mode}`
        const ticket = await permanentQrTicket(channel)
        const viaPoster = `o-e2e-${mode}-poster-fan`
        const fan = await sim.phone.scan({ openId: viaPoster, ticket })
        assert.equal(fan.ok, true, fan.problem)
        assert.equal(fan.reply?.content, WELCOME)
        const row = await until('the channel scan to reach app', () =>
          Promise.resolve(channelBinding(channel)),
        )
        assert.deepEqual(row, { openid: viaPoster, purpose: 'channel' })
        // The code is known to app now; the next fan is still welcomed, not told "logged in".
        const nextFan = await sim.phone.scan({ openId: `${viaPoster}-2`, ticket })
        assert.equal(nextFan.ok, true, nextFan.problem)
        assert.equal(nextFan.reply?.content, WELCOME)
        const nextFanRow = await until('the second fan to reach app', () =>
          Promise.resolve(userRow(`${viaPoster}-2`)),
        )
        assert.equal(nextFanRow.subscribed, 1)

        const talked = await sim.phone.sendText(openId, 'hello')
        assert.equal(talked.body, 'success')
        const left = await sim.phone.unfollow(openId)
        assert.equal(left.body, 'success')
        const status = await until('the unfollow to reach app', async () => {
          const { body } = await api<{ subscribed: boolean }>(
            'GET',
            '/api/v1/auth/wechat/check-follow',
            { token: login.token ?? '' },
          )
          return body.subscribed ? undefined : body
        })
        assert.equal(status.subscribed, false)
      } finally {
        sim.settings.pushMode = 'safe'
      }
    })
  }

  it('credits a payment whose notification passed through the gateway, once', async () => {
    const openId = 'o-e2e-payer'
    const qr = await newLoginQr()
    assert.equal((await sim.phone.scan({ openId, ticket: qr.ticket })).ok, true)
    const token = (await checkFollow(qr.scene_str)).token ?? ''
    assert.notEqual(token, '')

    const order = await api<{ out_trade_no: string; amount_fen: number }>(
      'POST',
      '/api/v1/payment/create-order',
      { token, body: { product_id: 'credits_100' } },
    )
    assert.equal(order.status, 200)
    const outTradeNo = order.body.out_trade_no
    const prepay = await api<{ code_url: string }>('POST', '/api/v1/payment/unifiedorder', {
      token,
      body: { out_trade_no: outTradeNo, trade_type: 'NATIVE' },
    })
    assert.equal(prepay.status, 200, JSON.stringify(prepay.body))

    const paid = await sim.phone.pay(outTradeNo, { openId })
    assert.equal(paid.notification?.ok, true, JSON.stringify(paid.notification?.last))
    const detail = await api<{ status: string }>('GET', `/api/v1/payment/orders/${outTradeNo}`, {
      token,
    })
    assert.equal(detail.body.status, 'paid')
    const credits = await api<{ credits: number }>('GET', '/api/v1/user/credits', { token })
    assert.equal(credits.body.credits, 100)

    // A duplicate notification (WeChat sends them) is answered SUCCESS and moves nothing.
    const last = paid.notification?.last
    assert.ok(last)
    const duplicate = await fetch(`${gatewayUrl}/api/v1/payment/notify`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: last.xml,
    })
    assert.match(await duplicate.text(), /SUCCESS/)
    const after = await api<{ credits: number }>('GET', '/api/v1/user/credits', { token })
    assert.equal(after.body.credits, 100)
  })

  it('keeps a scan made while app is down and delivers it once app is back; payments wait for WeChat retries', async () => {
    const openId = 'o-e2e-outage-user'
    const qr = await newLoginQr()
    // A paying user and an order, made while app is up.
    const payerQr = await newLoginQr()
    assert.equal(
      (await sim.phone.scan({ openId: 'o-e2e-outage-payer', ticket: payerQr.ticket })).ok,
      true,
    )
    const payerToken = (await checkFollow(payerQr.scene_str)).token ?? ''
    const order = await api<{ out_trade_no: string }>('POST', '/api/v1/payment/create-order', {
      token: payerToken,
      body: { product_id: 'credits_100' },
    })
    const outTradeNo = order.body.out_trade_no
    await api('POST', '/api/v1/payment/unifiedorder', {
      token: payerToken,
      body: { out_trade_no: outTradeNo, trade_type: 'NATIVE' },
    })

    assert.equal(await app.stop(), 0, 'app drains and exits 0 on SIGTERM')
    assert.equal((await fetch(`${gatewayUrl}/readyz`)).status, 503)

    const started = Date.now()
    const scanned = await sim.phone.scan({ openId, ticket: qr.ticket })
    assert.ok(Date.now() - started < 5000, 'answered within WeChat’s limit')
    assert.equal(scanned.ok, true, scanned.problem)
    assert.equal(scanned.reply?.content, LOGIN)
    const spooled = (await readdir(join(dir, 'spool'))).filter((f) => f.endsWith('.json'))
    assert.equal(spooled.length, 1, 'the event waits on disk')

    const paid = await sim.phone.pay(outTradeNo, { openId: 'o-e2e-outage-payer' })
    assert.equal(paid.notification?.ok, false, 'FAIL while app is down, so WeChat retries')

    app = await startService('start:app', appEnv, `${appUrl}/healthz`)
    const login = await until(
      'the spooled scan to reach app',
      async () => {
        const state = await checkFollow(qr.scene_str)
        return state.status === 'scanned' ? state : undefined
      },
      30_000,
    )
    assert.equal(login.user?.openid, openId)

    const settled = await sim.phone.notificationSettled(outTradeNo)
    assert.equal(settled.ok, true, 'a WeChat retry was accepted once app was back')
    const credits = await api<{ credits: number }>('GET', '/api/v1/user/credits', {
      token: payerToken,
    })
    assert.equal(credits.body.credits, 100)
    await until('the spool to drain', async () => {
      const left = (await readdir(join(dir, 'spool'))).filter((f) => f.endsWith('.json'))
      return left.length === 0 ? true : undefined
    })
  })
})
