// cgi-bin/user/info: what WeChat answers for followers and non-followers.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createWeChatApiClient } from '@wxgate/wechat'
import { startTestSimulator, TEST_APP_ID, TEST_SECRET } from '../start-test-simulator.js'
import type { TestSimulator } from '../start-test-simulator.js'

describe('cgi-bin/user/info', () => {
  let sim: TestSimulator
  let token: string
  before(async () => {
    sim = await startTestSimulator()
    token = await sim.accessToken()
  })
  after(async () => {
    await sim.close()
  })
  const info = (openId: string, lang = 'zh_CN') =>
    sim.json(
      `/cgi-bin/user/info?access_token=${encodeURIComponent(token)}&openid=${openId}&lang=${lang}`,
    )

  it('answers subscribe 0 and almost nothing else for a user who does not follow', async () => {
    sim.platform.addUser({ openId: 'oNotFollowing', unionId: 'u1' })
    assert.deepEqual(await info('oNotFollowing'), {
      subscribe: 0,
      openid: 'oNotFollowing',
      unionid: 'u1',
    })
  })

  it('answers the follow time and scene for a follower, without nickname or avatar', async () => {
    sim.platform.addUser({ openId: 'oFollower', subscribed: true, nickname: 'F' })
    const answer = await info('oFollower')
    assert.equal(answer.subscribe, 1)
    assert.equal(answer.subscribe_time, sim.platform.getUser('oFollower')?.subscribeTime)
    assert.equal(answer.subscribe_scene, 'ADD_SCENE_SEARCH')
    assert.equal(answer.nickname, undefined)
    const client = createWeChatApiClient({
      appId: TEST_APP_ID,
      secret: TEST_SECRET,
      baseUrl: sim.baseUrl,
    })
    const typed = await client.getUserInfo('oFollower')
    assert.equal(typed.subscribed, true)
  })

  it('refuses an unknown openid (40003) and an unknown lang', async () => {
    assert.equal((await info('oNobody')).errcode, 40003)
    assert.equal((await info('oFollower', 'fr')).errcode, 40097)
  })
})
