// Access tokens: cgi-bin/token's 5-minute overlap, stable_token, expiry, invalidation and faults.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createAccessTokenProvider } from '@wxgate/wechat'
import { startTestSimulator, TEST_APP_ID, TEST_SECRET } from '../start-test-simulator.js'
import type { TestSimulator } from '../start-test-simulator.js'

const tokenPath = `/cgi-bin/token?grant_type=client_credential&appid=${TEST_APP_ID}&secret=${TEST_SECRET}`
const stable = (forceRefresh = false) => ({
  grant_type: 'client_credential',
  appid: TEST_APP_ID,
  secret: TEST_SECRET,
  force_refresh: forceRefresh,
})

describe('access tokens', () => {
  let sim: TestSimulator
  before(async () => {
    sim = await startTestSimulator()
  })
  after(async () => {
    await sim.close()
  })
  const userInfo = (token: string) =>
    sim.json(`/cgi-bin/get_current_selfmenu_info?access_token=${encodeURIComponent(token)}`)

  it('mints a new token on every cgi-bin/token call and keeps the previous one for five minutes', async () => {
    const first = await sim.accessToken()
    const second = await sim.accessToken()
    assert.notEqual(first, second)
    assert.equal((await userInfo(first)).is_menu_open, 0)
    sim.advanceClock(299_000)
    assert.equal((await userInfo(first)).is_menu_open, 0)
    sim.advanceClock(2_000)
    assert.equal((await userInfo(first)).errcode, 40001)
    assert.equal((await userInfo(second)).is_menu_open, 0)
  })

  it('answers 7200 s tokens and refuses them with 42001 once expired', async () => {
    const answer = await sim.json(tokenPath)
    assert.equal(answer.expires_in, 7200)
    assert.ok(String(answer.access_token).length >= 100)
    sim.advanceClock(7200_000)
    assert.equal((await userInfo(String(answer.access_token))).errcode, 42001)
  })

  it('answers a fresh token 7200 s however long minting and answering take between them', async () => {
    // A clock that moves 3 ms at every reading: what a slow machine does between minting and answering.
    let at = 1_700_000_000_000
    const slow = await startTestSimulator({ now: () => (at += 3) })
    try {
      assert.equal((await slow.json(tokenPath)).expires_in, 7200)
      assert.equal((await slow.json('/cgi-bin/stable_token', { body: stable() })).expires_in, 7200)
    } finally {
      await slow.close()
    }
  })

  it('refuses a wrong secret (40125), a wrong appid (40013), a wrong grant_type (40002) and POST (43001)', async () => {
    const base = '/cgi-bin/token?grant_type=client_credential'
    assert.equal((await sim.json(`${base}&appid=${TEST_APP_ID}&secret=nope`)).errcode, 40125)
    assert.equal(
      (await sim.json(`${base}&appid=wx0000000000000000&secret=${TEST_SECRET}`)).errcode,
      40013,
    )
    assert.equal(
      (await sim.json(`/cgi-bin/token?grant_type=x&appid=${TEST_APP_ID}&secret=${TEST_SECRET}`))
        .errcode,
      40002,
    )
    assert.equal((await sim.json(tokenPath, { method: 'POST', body: '{}' })).errcode, 43001)
  })

  it('checks the token on every API call: missing 41001, unknown 40001', async () => {
    assert.equal((await sim.json('/cgi-bin/menu/get')).errcode, 41001)
    assert.equal((await sim.json('/cgi-bin/menu/get?access_token=forged')).errcode, 40001)
    assert.equal((await sim.json('/cgi-bin/user/info?access_token=forged&openid=x')).errcode, 40001)
  })

  it('answers the same stable_token while it is valid and a new one under force_refresh', async () => {
    const a = await sim.json('/cgi-bin/stable_token', { body: stable() })
    const b = await sim.json('/cgi-bin/stable_token', { body: stable() })
    assert.equal(a.access_token, b.access_token)
    assert.ok(Number(b.expires_in) <= 7200 && Number(b.expires_in) > 300)
    sim.advanceClock(31_000)
    const forced = await sim.json('/cgi-bin/stable_token', { body: stable(true) })
    assert.notEqual(forced.access_token, a.access_token)
    assert.equal((await userInfo(String(a.access_token))).errcode, 40001)
    assert.equal((await userInfo(String(forced.access_token))).is_menu_open, 0)
    const tooSoon = await sim.json('/cgi-bin/stable_token', { body: stable(true) })
    assert.equal(tooSoon.errcode, 45011)
  })

  it('rotates the stable token in its last five minutes while the old one stays valid', async () => {
    sim.advanceClock(31_000)
    const current = await sim.json('/cgi-bin/stable_token', { body: stable(true) })
    sim.advanceClock(7200_000 - 200_000)
    const rotated = await sim.json('/cgi-bin/stable_token', { body: stable() })
    assert.notEqual(rotated.access_token, current.access_token)
    assert.equal((await userInfo(String(current.access_token))).is_menu_open, 0)
    sim.advanceClock(200_000)
    assert.equal((await userInfo(String(current.access_token))).errcode, 42001)
    assert.equal((await userInfo(String(rotated.access_token))).is_menu_open, 0)
  })

  it('refuses a stable_token body that is not JSON (47001) or not POSTed (43002)', async () => {
    assert.equal((await sim.json('/cgi-bin/stable_token', { body: '{nope' })).errcode, 47001)
    assert.equal((await sim.json('/cgi-bin/stable_token')).errcode, 43002)
    assert.equal(
      (await sim.json('/cgi-bin/stable_token', { body: { ...stable(), secret: 'x' } })).errcode,
      40125,
    )
  })

  it('invalidates every token on demand (40001) and expires them on demand (42001)', async () => {
    const a = await sim.accessToken()
    sim.platform.invalidateAccessTokens()
    assert.equal((await userInfo(a)).errcode, 40001)
    const b = await sim.accessToken()
    sim.platform.expireAccessTokens()
    assert.equal((await userInfo(b)).errcode, 42001)
  })

  it('answers queued faults: 45009 quota and -1 busy, then recovers', async () => {
    const token = await sim.accessToken()
    sim.platform.failNext('/cgi-bin/get_current_selfmenu_info', 45009)
    sim.platform.setBusy('cgi-bin/get_current_selfmenu_info', 2)
    assert.equal((await userInfo(token)).errcode, 45009)
    assert.equal((await userInfo(token)).errcode, -1)
    const busy = await userInfo(token)
    assert.equal(busy.errcode, -1)
    assert.match(String(busy.errmsg), /^system error rid: /)
    assert.equal((await userInfo(token)).is_menu_open, 0)
    sim.platform.failNext('/cgi-bin/token', 45009)
    assert.equal((await sim.json(tokenPath)).errcode, 45009)
  })

  it('serves the library token provider and records each token request', async () => {
    sim.records.clear()
    const provider = createAccessTokenProvider({
      appId: TEST_APP_ID,
      secret: TEST_SECRET,
      baseUrl: sim.baseUrl,
      now: () => sim.now(),
    })
    const token = await provider.getToken()
    assert.equal(await provider.getToken(), token)
    assert.equal(sim.records.tokenRequests.length, 1)
    assert.equal(sim.records.tokenRequests[0]?.api, '/cgi-bin/stable_token')
    assert.equal(sim.records.tokenRequests[0]?.token, token)
  })
})
