import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { closedPort } from '@wxgate/service-kit/testing'
import { startFakeApp } from './testing/fake-app.js'
import type { FakeApp } from './testing/fake-app.js'
import { startGateway, TEST } from './testing/gateway-fixture.js'
import { createPushSigner, inboundXml } from './testing/wechat-push.js'

const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const USER = '/api/v1/internal/user/create-or-update'
const signer = createPushSigner({
  token: TEST.token,
  appId: TEST.appId,
  encodingAesKey: TEST.aesKey,
})

describe('gateway ops routes', () => {
  let fake: FakeApp
  before(async () => {
    fake = await startFakeApp({ secret: TEST.secret })
  })
  after(async () => {
    await fake.close()
  })

  it('is healthy while up, and ready only while app answers its /readyz', async () => {
    const gateway = await startGateway({ appUrl: fake.url })
    try {
      assert.equal((await gateway.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
      fake.on('/readyz', { status: 200, body: { status: 'ready' } })
      assert.equal((await gateway.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
      fake.on('/readyz', { status: 503 })
      const notReady = await gateway.app.inject({ method: 'GET', url: '/readyz' })
      assert.equal(notReady.statusCode, 503)
      assert.equal(notReady.json<{ code: string }>().code, 'NOT_READY')
      fake.on('/readyz', 'reset')
      assert.equal((await gateway.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503)
    } finally {
      await gateway.close()
    }
  })

  it('is not ready when nothing listens at APP_SERVER_URL, and still verifies the URL', async () => {
    const gateway = await startGateway({ appUrl: 'http://127.0.0.1:9' })
    try {
      assert.equal((await gateway.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503)
      const verify = await gateway.app.inject({ method: 'GET', url: signer.verifyUrl('echo-1') })
      assert.equal(verify.body, 'echo-1')
    } finally {
      await gateway.close()
    }
  })

  it('exposes its own metrics and echoes the request id', async () => {
    const gateway = await startGateway({ appUrl: fake.url })
    try {
      const response = await gateway.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { 'x-request-id': 'ops-req-1' },
      })
      assert.equal(response.statusCode, 200)
      assert.equal(response.headers['x-request-id'], 'ops-req-1')
      for (const name of [
        'wechat_events_total',
        'pay_notifications_total',
        'gateway_spool_depth',
        'app_call_duration_seconds',
      ]) {
        assert.match(response.body, new RegExp(`# TYPE ${name} `), name)
      }
    } finally {
      await gateway.close()
    }
  })

  it('answers unknown routes with 404 NOT_FOUND', async () => {
    const gateway = await startGateway({ appUrl: fake.url })
    try {
      const response = await gateway.app.inject({ method: 'GET', url: '/api/v1/payment/products' })
      assert.equal(response.statusCode, 404)
      assert.equal(response.json<{ code: string }>().code, 'NOT_FOUND')
    } finally {
      await gateway.close()
    }
  })
})

describe('dedupe across gateway instances with REDIS_URL', async () => {
  const probe = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 })
  let available = true
  try {
    await probe.connect()
    await probe.quit()
  } catch {
    available = false
    probe.disconnect()
  }

  it(
    'gives a retry that lands on another instance no second effect',
    { skip: !available },
    async () => {
      const fake = await startFakeApp({ secret: TEST.secret })
      const env = { WECHAT_ENCODING_AES_KEY: TEST.aesKey, REDIS_URL: TEST_REDIS_URL }
      const one = await startGateway({ appUrl: fake.url, env })
      const two = await startGateway({ appUrl: fake.url, env })
      try {
        const xml = inboundXml({
          MsgType: 'event',
          Event: 'subscribe',
          FromUserName: `o-${randomUUID()}`,
        })
        for (const gateway of [one, two, one]) {
          const signed = signer.push(xml, { mode: 'safe' })
          const response = await gateway.app.inject({
            method: 'POST',
            url: signed.url,
            payload: signed.body,
          })
          assert.equal(response.statusCode, 200)
        }
        assert.equal(fake.callsTo(USER).length, 1)
      } finally {
        await one.close()
        await two.close()
        await fake.close()
      }
    },
  )
})

describe('gateway with REDIS_URL while Redis is away', () => {
  it('still answers pushes, and closes (SIGTERM exits 0) without waiting for Redis', async () => {
    const fake = await startFakeApp({ secret: TEST.secret })
    fake.on(USER, { status: 200, body: {} })
    // The gateway starts with its Redis unreachable.
    const deadUrl = `redis://127.0.0.1:${await closedPort()}`
    const gateway = await startGateway({ appUrl: fake.url, env: { REDIS_URL: deadUrl } })
    try {
      const signed = signer.push(inboundXml({ MsgType: 'event', Event: 'subscribe' }))
      const response = await gateway.app.inject({
        method: 'POST',
        url: signed.url,
        payload: signed.body,
      })
      assert.equal(response.statusCode, 200)
      assert.equal(fake.callsTo(USER).length, 1, 'processed without the shared dedupe store')
    } finally {
      // Rejected before ("Stream isn't writeable"): QUIT cannot reach a Redis that is away.
      await gateway.close()
      await fake.close()
    }
  })
})

const execFileAsync = promisify(execFile)

describe('gateway and the ioredis module', () => {
  // A child process, because this file itself imports ioredis: has building a gateway loaded it?
  async function loadsIoredis(env: Record<string, string>): Promise<boolean> {
    const fixture = new URL('./testing/gateway-fixture.ts', import.meta.url).href
    const script = `
      import { createRequire } from 'node:module'
      const { startGateway } = await import(${JSON.stringify(fixture)})
      const gateway = await startGateway({ appUrl: 'http://127.0.0.1:9', env: ${JSON.stringify(env)} })
      await gateway.close()
      const loaded = Object.keys(createRequire(import.meta.url).cache)
      console.log(JSON.stringify(loaded.some((p) => /[\\/]node_modules[\\/]ioredis[\\/]/.test(p))))
    `
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: fileURLToPath(new URL('../../..', import.meta.url)) },
    )
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as boolean
  }

  it('loads ioredis only when REDIS_URL is set', async () => {
    assert.equal(await loadsIoredis({}), false)
    assert.equal(await loadsIoredis({ REDIS_URL: TEST_REDIS_URL }), true)
  })
})
