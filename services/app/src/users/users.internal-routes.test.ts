import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { testDialects } from '../db/test-databases.js'
import { createFakePay } from '../testing/fake-pay.js'
import { createTestApp, type TestApp } from '../testing/test-app.js'

const PATH = '/api/v1/internal/user/create-or-update'

interface Answer {
  user: { openid: string; subscribed: boolean; unionid: string | null; credits: number }
  created: boolean
}

for (const dialect of testDialects()) {
  describe(`internal user/create-or-update (${dialect})`, () => {
    let t: TestApp
    before(async () => {
      t = await createTestApp({ dialect, pay: createFakePay().pay })
    })
    after(async () => {
      await t.close()
    })

    it('creates, then updates by event_time, leaving omitted fields unchanged', async () => {
      const created = await t.internal('POST', PATH, {
        openid: 'o_evt',
        unionid: 'u_evt',
        subscribed: true,
        event_time: 1_800_000_100,
      })
      assert.equal(created.statusCode, 200)
      assert.equal(created.json<Answer>().created, true)
      assert.equal(created.json<Answer>().user.subscribed, true)

      const unsub = await t.internal('POST', PATH, {
        openid: 'o_evt',
        subscribed: false,
        event_time: 1_800_000_200,
      })
      assert.equal(unsub.json<Answer>().created, false)
      assert.equal(unsub.json<Answer>().user.subscribed, false)
      assert.equal(unsub.json<Answer>().user.unionid, 'u_evt')

      const stale = await t.internal('POST', PATH, {
        openid: 'o_evt',
        subscribed: true,
        event_time: 1_800_000_150,
      })
      assert.equal(stale.statusCode, 200)
      assert.equal(stale.json<Answer>().user.subscribed, false, 'the older subscribe lost')
    })

    it('refuses an event_time past the year 9999 with 400, storing nothing', async () => {
      for (const eventTime of [253_402_300_800, 2 ** 53, 1e20]) {
        const res = await t.internal('POST', PATH, {
          openid: 'o_evt_far',
          subscribed: true,
          event_time: eventTime,
        })
        assert.equal(res.statusCode, 400, `${eventTime}: ${res.body}`)
      }
      assert.equal(await t.app.ctx.users.findByOpenId('o_evt_far'), undefined)
      const last = await t.internal('POST', PATH, {
        openid: 'o_evt_far',
        subscribed: true,
        event_time: 253_402_300_799,
      })
      assert.equal(last.statusCode, 200, last.body)
    })
  })
}
