// Phone actions: scan (subscribe/SCAN), follow, unfollow and the menu, as the gateway receives them.
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { createWeChatApiClient, parseInbound } from '@wxgate/wechat'
import type { InboundMessage } from '@wxgate/wechat'
import { startTestSimulator, TEST_APP_ID, TEST_SECRET } from '../start-test-simulator.js'
import type { TestSimulator } from '../start-test-simulator.js'
import { startGatewayStub } from './start-gateway-stub.js'
import type { GatewayStub } from './start-gateway-stub.js'

describe('the phone: scanning, following, chatting and the menu', () => {
  let gateway: GatewayStub
  let sim: TestSimulator
  before(async () => {
    gateway = await startGatewayStub()
    sim = await startTestSimulator({ pushUrl: gateway.url })
  })
  after(async () => {
    await sim.close()
    await gateway.close()
  })
  beforeEach(() => {
    gateway.received.length = 0
  })
  const api = () =>
    createWeChatApiClient({ appId: TEST_APP_ID, secret: TEST_SECRET, baseUrl: sim.baseUrl })
  const lastMessage = (): InboundMessage => {
    const push = gateway.received.at(-1)
    assert.ok(push)
    return parseInbound(push.body)
  }

  it('sends subscribe with qrscene_<scene> and the ticket when a non-follower scans, then SCAN when following', async () => {
    const code = await api().createQrCode({
      actionName: 'QR_STR_SCENE',
      sceneStr: 'login_abc',
      expireSeconds: 300,
    })
    const first = await sim.phone.scan({ openId: 'oScanner', ticket: code.ticket })
    assert.equal(first.ok, true)
    const subscribe = lastMessage()
    assert.ok(subscribe.msgType === 'event' && subscribe.event === 'subscribe')
    assert.equal(subscribe.eventKey, 'qrscene_login_abc')
    assert.equal(subscribe.sceneStr, 'login_abc')
    assert.equal(subscribe.ticket, code.ticket)
    const info = await api().getUserInfo('oScanner')
    assert.equal(info.subscribed, true)
    assert.equal(info.subscribeScene, 'ADD_SCENE_QR_CODE')
    assert.equal(info.qrSceneStr, 'login_abc')

    await sim.phone.scan({ openId: 'oScanner', sceneStr: 'login_abc' })
    const scan = lastMessage()
    assert.ok(scan.msgType === 'event' && scan.event === 'SCAN')
    assert.equal(scan.eventKey, 'login_abc')
    assert.equal(scan.ticket, code.ticket)
  })

  it('puts the numeric scene id in EventKey for QR_SCENE codes', async () => {
    const code = await api().createQrCode({
      actionName: 'QR_SCENE',
      sceneId: 4242,
      expireSeconds: 60,
    })
    // By the QR content, as a camera reads it.
    await sim.phone.scan({ openId: 'oNumeric', url: code.url })
    const message = lastMessage()
    assert.ok(message.msgType === 'event' && message.event === 'subscribe')
    assert.equal(message.eventKey, 'qrscene_4242')
  })

  it('refuses to scan an expired or unknown code and sends nothing', async () => {
    const code = await api().createQrCode({
      actionName: 'QR_STR_SCENE',
      sceneStr: 'short',
      expireSeconds: 60,
    })
    sim.advanceClock(60_000)
    await assert.rejects(sim.phone.scan({ openId: 'oLate', ticket: code.ticket }), {
      code: 'QR_CODE_EXPIRED',
    })
    await assert.rejects(sim.phone.scan({ openId: 'oLate', ticket: 'gQnope' }), {
      code: 'QR_CODE_NOT_FOUND',
    })
    assert.equal(gateway.received.length, 0)
    assert.equal(sim.platform.getUser('oLate'), undefined)
  })

  it('follows and unfollows with plain subscribe/unsubscribe events and tracks the state', async () => {
    await sim.phone.follow('oPlain')
    const subscribe = lastMessage()
    assert.ok(subscribe.msgType === 'event' && subscribe.event === 'subscribe')
    assert.equal(subscribe.eventKey ?? '', '')
    await assert.rejects(sim.phone.follow('oPlain'), { code: 'ALREADY_FOLLOWING' })
    await sim.phone.unfollow('oPlain')
    const unsubscribe = lastMessage()
    assert.ok(unsubscribe.msgType === 'event' && unsubscribe.event === 'unsubscribe')
    assert.equal((await api().getUserInfo('oPlain')).subscribed, false)
    await assert.rejects(sim.phone.unfollow('oPlain'), { code: 'NOT_FOLLOWING' })
    await assert.rejects(sim.phone.sendText('oPlain', 'hi'), { code: 'NOT_FOLLOWING' })
  })

  it('clicks only keys that exist in the menu, and opens view buttons with their MenuId', async () => {
    await api().createMenu({
      button: [
        { type: 'click', name: 'Orders', key: 'MENU_ORDERS' },
        { type: 'view', name: 'Site', url: 'https://shop.example.com/' },
      ],
    })
    await sim.phone.follow('oClicker')
    await sim.phone.clickMenu('oClicker', 'MENU_ORDERS')
    const click = lastMessage()
    assert.ok(click.msgType === 'event' && click.event === 'CLICK')
    assert.equal(click.eventKey, 'MENU_ORDERS')
    await assert.rejects(sim.phone.clickMenu('oClicker', 'MENU_NOPE'), {
      code: 'MENU_KEY_NOT_FOUND',
    })
    await sim.phone.viewMenu('oClicker', 'https://shop.example.com/')
    const view = lastMessage()
    assert.ok(view.msgType === 'event' && view.event === 'VIEW')
    assert.equal(view.menuId, String(sim.platform.menu()?.menuid))
  })

  it('records every push with its query, bodies and attempts', () => {
    const pushes = sim.records.pushes
    assert.ok(pushes.length >= 6)
    const last = pushes.at(-1)
    assert.equal(last?.kind, 'VIEW')
    assert.equal(last?.ok, true)
    assert.equal(last?.attempts[0]?.status, 200)
    assert.equal(last?.attempts[0]?.body, 'success')
    assert.ok(last?.query.signature)
  })
})
