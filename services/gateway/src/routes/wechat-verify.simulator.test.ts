import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { createSimulator } from '@wxgate/simulator'
import type { PushMode, Simulator } from '@wxgate/simulator'
import { startFakeApp } from '../testing/fake-app.js'
import type { FakeApp } from '../testing/fake-app.js'
import { startGateway, TEST } from '../testing/gateway-fixture.js'
import type { TestGateway } from '../testing/gateway-fixture.js'

const USER = '/api/v1/internal/user/create-or-update'
const UPDATE = '/api/v1/internal/binding/update'
const WELCOME = 'Welcome (simulated)'
const LOGIN = 'Logged in (simulated)'

/** A temporary string-scene QR code created through the simulator's own API, as app would. */
async function createLoginQr(sim: Simulator, sceneStr: string): Promise<string> {
  const tokenAnswer = await fetch(
    `${sim.baseUrl}/cgi-bin/token?grant_type=client_credential&appid=${TEST.appId}&secret=sim-secret`,
  )
  const { access_token: token } = (await tokenAnswer.json()) as { access_token: string }
  const created = await fetch(
    `${sim.baseUrl}/cgi-bin/qrcode/create?access_token=${encodeURIComponent(token)}`,
    {
      method: 'POST',
      body: JSON.stringify({
        expire_seconds: 300,
        action_name: 'QR_STR_SCENE',
        action_info: { scene: { scene_str: sceneStr } },
      }),
    },
  )
  const { ticket } = (await created.json()) as { ticket: string }
  return ticket
}

describe('pushes from the simulated phone, checked as WeChat checks replies', () => {
  let fake: FakeApp
  let gateway: TestGateway
  let pushUrl: string
  before(async () => {
    fake = await startFakeApp({ secret: TEST.secret })
    gateway = await startGateway({
      appUrl: fake.url,
      env: {
        WECHAT_ENCODING_AES_KEY: TEST.aesKey,
        GATEWAY_WELCOME_TEXT: WELCOME,
        GATEWAY_LOGIN_SUCCESS_TEXT: LOGIN,
      },
    })
    await gateway.app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = gateway.app.server.address() as AddressInfo
    pushUrl = `http://127.0.0.1:${port}/api/v1/auth/wechat/verify`
  })
  after(async () => {
    await gateway.close()
    await fake.close()
  })

  for (const mode of ['plaintext', 'compatible', 'safe'] as PushMode[]) {
    it(`follows, scans, talks, unfollows and retries in ${mode} mode`, async () => {
      const sim = await createSimulator({
        appId: TEST.appId,
        appSecret: 'sim-secret',
        token: TEST.token,
        encodingAesKey: TEST.aesKey,
        mchId: TEST.mchId,
        payApiKey: TEST.payKey,
        pushUrl,
        pushMode: mode,
      })
      await sim.listen({ host: '127.0.0.1', port: 0 })
      try {
        fake.reset()
        const openId = `o-sim-${mode}`
        const followed = await sim.phone.follow(openId)
        assert.equal(followed.ok, true, followed.problem)
        assert.equal(followed.reply?.content, WELCOME)
        assert.equal(followed.reply?.encrypted, mode !== 'plaintext')
        const createTime = Number(/<CreateTime>(\d+)</.exec(followed.record.plainXml)?.[1])
        assert.ok(createTime > 0)
        assert.deepEqual(
          fake.callsTo(USER).map((c) => c.body),
          [{ openid: openId, subscribed: true, event_time: createTime }],
        )

        const again = await sim.phone.redeliver(followed.record)
        assert.equal(again.ok, true)
        assert.equal(again.reply?.content, WELCOME)
        assert.equal(fake.callsTo(USER).length, 1, 'the redelivery had no second effect')

        const sceneStr = `login-${mode}`
        const ticket = await createLoginQr(sim, sceneStr)
        const scanned = await sim.phone.scan({ openId, ticket })
        assert.equal(scanned.ok, true, scanned.problem)
        assert.equal(scanned.reply?.content, LOGIN)
        const binding = fake.callsTo(UPDATE)[0]?.body as { scene_str: string; event: string }
        assert.equal(binding.scene_str, sceneStr)
        assert.equal(binding.event, 'SCAN')

        const talked = await sim.phone.sendText(openId, 'hello ]]> <b>')
        assert.equal(talked.ok, true, talked.problem)
        assert.equal(talked.body, 'success')

        const left = await sim.phone.unfollow(openId)
        assert.equal(left.ok, true, left.problem)
        assert.equal(left.body, 'success')
        assert.equal((fake.callsTo(USER).at(-1)?.body as { subscribed: boolean }).subscribed, false)
        assert.ok(fake.calls.every((c) => c.signed))
      } finally {
        await sim.close()
      }
    })
  }
})
