// The /_sim control API through inject.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { parseInbound, parseXml } from '@wxgate/wechat'
import { startTestSimulator } from '../start-test-simulator.js'
import type { TestSimulator } from '../start-test-simulator.js'
import { startGatewayStub } from '../phone/start-gateway-stub.js'
import type { GatewayStub } from '../phone/start-gateway-stub.js'

describe('the /_sim control API', () => {
  let gateway: GatewayStub
  let sim: TestSimulator
  before(async () => {
    gateway = await startGatewayStub()
    sim = await startTestSimulator()
  })
  after(async () => {
    await sim.close()
    await gateway.close()
  })
  const control = async (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    payload?: unknown,
  ) => {
    const response = await sim.app.inject({
      method,
      url: `/_sim${url}`,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    })
    return { status: response.statusCode, body: response.json<Record<string, unknown>>() }
  }

  it('changes the push settings and refuses modes it cannot serve', async () => {
    const set = await control('PUT', '/settings', { pushUrl: gateway.url, pushMode: 'plaintext' })
    assert.equal(set.status, 200)
    assert.equal(sim.settings.pushUrl, gateway.url)
    const safe = await control('PUT', '/settings', { pushMode: 'safe' })
    assert.equal(safe.status, 409)
    assert.equal(safe.body.code, 'ENCODING_AES_KEY_MISSING')
    assert.equal(
      (await control('PUT', '/settings', { pushMode: 'loud' })).body.code,
      'INVALID_REQUEST',
    )
  })

  it('adds users and reads them back, 404 for unknown ones, 409 for duplicates', async () => {
    const created = await control('POST', '/platform/users', { openId: 'oCtl', nickname: 'Ctl' })
    assert.equal(created.status, 201)
    assert.equal((await control('GET', '/platform/users/oCtl')).body.nickname, 'Ctl')
    assert.equal((await control('GET', '/platform/users/oNone')).status, 404)
    assert.equal((await control('POST', '/platform/users', { openId: 'oCtl' })).status, 409)
    assert.equal((await control('POST', '/platform/users', { openId: 'bad id!' })).status, 400)
  })

  it('drives the phone: follow, text, scan by scene, with the push result as JSON', async () => {
    const follow = await control('POST', '/phone/follow', { openId: 'oCtl' })
    assert.equal(follow.status, 200)
    assert.equal(follow.body.ok, true)
    assert.equal(follow.body.record, undefined)
    const textPush = await control('POST', '/phone/text', {
      openId: 'oCtl',
      text: 'hi',
      msgId: '9007199254740993',
    })
    assert.equal(textPush.body.ok, true)
    const message = parseInbound(gateway.received.at(-1)?.body ?? '')
    assert.equal(message.msgType === 'text' ? message.msgId : '', '9007199254740993')
    const token = await sim.accessToken()
    await sim.json(`/cgi-bin/qrcode/create?access_token=${encodeURIComponent(token)}`, {
      body: {
        expire_seconds: 60,
        action_name: 'QR_STR_SCENE',
        action_info: { scene: { scene_str: 'ctl' } },
      },
    })
    const scan = await control('POST', '/phone/scan', { openId: 'oCtl', sceneStr: 'ctl' })
    assert.equal(scan.body.ok, true)
    assert.equal(parseXml(gateway.received.at(-1)?.body ?? '').Event, 'SCAN')
    assert.equal(
      (await control('POST', '/phone/scan', { openId: 'oCtl', sceneStr: 'nope' })).status,
      404,
    )
    assert.equal((await control('POST', '/phone/text', { openId: 'oCtl' })).status, 400)
  })

  it('queues faults, moves the clock and invalidates tokens', async () => {
    const token = await sim.accessToken()
    await control('POST', '/platform/faults', { api: '/cgi-bin/menu/get', errcode: 45009 })
    assert.equal(
      (await sim.json(`/cgi-bin/menu/get?access_token=${encodeURIComponent(token)}`)).errcode,
      45009,
    )
    await control('POST', '/platform/access-tokens/invalidate')
    assert.equal(
      (await sim.json(`/cgi-bin/menu/get?access_token=${encodeURIComponent(token)}`)).errcode,
      40001,
    )
    const before = sim.now()
    await control('POST', '/clock/advance', { seconds: 60 })
    assert.ok(sim.now() - before >= 60_000)
  })

  it('authorizes through a full URL and pays an order, recording everything', async () => {
    const url =
      `${sim.baseUrl}/connect/oauth2/authorize?appid=${sim.settings.appId}` +
      `&redirect_uri=${encodeURIComponent('https://shop.example.com/cb')}&response_type=code&scope=snsapi_base&state=s#wechat_redirect`
    const authorized = await control('POST', '/phone/authorize', { openId: 'oCtl', url })
    assert.match(
      String(authorized.body.url),
      /^https:\/\/shop\.example\.com\/cb\?code=[0-9a-f]{32}&state=s$/,
    )
    assert.equal((await control('POST', '/phone/pay', { outTradeNo: 'missing-order' })).status, 404)
    const records = await control('GET', '/records')
    assert.ok((records.body.pushes as unknown[]).length >= 3)
    assert.ok((records.body.apiCalls as unknown[]).length >= 2)
    await control('DELETE', '/records')
    assert.equal(sim.records.pushes.length, 0)
    const state = await control('GET', '/state')
    assert.equal((state.body.settings as Record<string, unknown>).pushUrl, gateway.url)
    assert.equal((state.body.settings as Record<string, unknown>).appSecret, undefined)
  })
})
