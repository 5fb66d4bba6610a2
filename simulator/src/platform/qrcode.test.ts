// Parametric QR codes: WeChat's limits per action name and the showqrcode PNG.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createWeChatApiClient, showQrCodeUrl } from '@wxgate/wechat'
import QRCode from 'qrcode'
import { startTestSimulator, TEST_APP_ID, TEST_SECRET } from '../start-test-simulator.js'
import type { TestSimulator } from '../start-test-simulator.js'

describe('parametric QR codes', () => {
  let sim: TestSimulator
  let token: string
  before(async () => {
    sim = await startTestSimulator()
    token = await sim.accessToken()
  })
  after(async () => {
    await sim.close()
  })
  const create = (body: unknown) =>
    sim.json(`/cgi-bin/qrcode/create?access_token=${encodeURIComponent(token)}`, { body })

  it('creates codes for every action name, temporary ones with expire_seconds', async () => {
    const bodies = [
      {
        expire_seconds: 300,
        action_name: 'QR_SCENE',
        action_info: { scene: { scene_id: 4_294_967_295 } },
      },
      {
        expire_seconds: 300,
        action_name: 'QR_STR_SCENE',
        action_info: { scene: { scene_str: 'login_1' } },
      },
      { action_name: 'QR_LIMIT_SCENE', action_info: { scene: { scene_id: 100_000 } } },
      { action_name: 'QR_LIMIT_STR_SCENE', action_info: { scene: { scene_str: 'channel' } } },
    ]
    for (const body of bodies) {
      const answer = await create(body)
      assert.equal(typeof answer.ticket, 'string', JSON.stringify(answer))
      assert.match(String(answer.url), /^http:\/\/weixin\.qq\.com\/q\//)
      assert.equal(answer.expire_seconds, body.action_name.startsWith('QR_LIMIT') ? undefined : 300)
    }
  })

  it('applies the 60 s default and caps the lifetime at 30 days', async () => {
    const short = await create({
      action_name: 'QR_STR_SCENE',
      action_info: { scene: { scene_str: 'a' } },
    })
    assert.equal(short.expire_seconds, 60)
    const long = await create({
      expire_seconds: 9_999_999,
      action_name: 'QR_SCENE',
      action_info: { scene: { scene_id: 7 } },
    })
    assert.equal(long.expire_seconds, 2_592_000)
  })

  it('refuses scenes outside WeChat limits and unknown action names', async () => {
    const refused = [
      { action_name: 'QR_SCENE', action_info: { scene: { scene_id: 0 } } },
      { action_name: 'QR_SCENE', action_info: { scene: { scene_id: 4_294_967_296 } } },
      { action_name: 'QR_LIMIT_SCENE', action_info: { scene: { scene_id: 100_001 } } },
      { action_name: 'QR_STR_SCENE', action_info: { scene: { scene_str: '' } } },
      { action_name: 'QR_STR_SCENE', action_info: { scene: { scene_str: 'x'.repeat(65) } } },
      { action_name: 'QR_LIMIT_STR_SCENE', action_info: { scene: { scene_id: 1 } } },
      { action_name: 'QR_STR_SCENE' },
    ]
    for (const body of refused)
      assert.equal((await create(body)).errcode, 40053, JSON.stringify(body))
    assert.equal((await create({ action_name: 'QR_CARD', action_info: {} })).errcode, 40097)
    assert.equal((await create('not json')).errcode, 47001)
  })

  it('returns the same ticket for the same permanent scene', async () => {
    const body = {
      action_name: 'QR_LIMIT_STR_SCENE',
      action_info: { scene: { scene_str: 'same' } },
    }
    assert.equal((await create(body)).ticket, (await create(body)).ticket)
  })

  it('serves showqrcode as a PNG QR image of the code url, and nothing for unknown or expired tickets', async () => {
    const client = createWeChatApiClient({
      appId: TEST_APP_ID,
      secret: TEST_SECRET,
      baseUrl: sim.baseUrl,
    })
    const code = await client.createQrCode({
      actionName: 'QR_STR_SCENE',
      sceneStr: 'img',
      expireSeconds: 120,
    })
    const image = await fetch(showQrCodeUrl(sim.baseUrl, code.ticket))
    assert.equal(image.status, 200)
    assert.equal(image.headers.get('content-type'), 'image/png')
    const png = Buffer.from(await image.arrayBuffer())
    assert.deepEqual(
      png.subarray(0, 8),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    )
    const expected = await QRCode.toBuffer(code.url, { type: 'png', margin: 2, width: 258 })
    assert.deepEqual(png, expected)
    assert.equal((await fetch(showQrCodeUrl(sim.baseUrl, 'gQunknown'))).status, 404)
    sim.advanceClock(120_000)
    assert.equal((await fetch(showQrCodeUrl(sim.baseUrl, code.ticket))).status, 404)
  })
})
