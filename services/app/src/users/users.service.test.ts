import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createTestDatabase, testDialects, type TestDatabase } from '../db/test-databases.js'
import { createUsersRepository, LATEST_EXPIRY_MS } from './users.repository.js'
import { createUsersService, presentUser } from './users.service.js'

for (const dialect of testDialects()) {
  describe(`users service (${dialect})`, () => {
    let database: TestDatabase
    let clock = Date.parse('2026-11-25T08:00:00.000Z')
    const now = () => clock
    let users: ReturnType<typeof createUsersService>

    before(async () => {
      database = await createTestDatabase(dialect)
      users = createUsersService({ db: database.db, now })
    })
    after(async () => {
      await database.destroy()
    })

    it('creates a user on first sight and reports created', async () => {
      const first = await users.createOrUpdate({
        openId: 'o_create',
        subscribed: true,
        eventTime: 100,
      })
      assert.equal(first.created, true)
      assert.equal(first.user.subscribed, 1)
      assert.equal(first.user.subscription_event_time, 100_000)
      const second = await users.createOrUpdate({ openId: 'o_create' })
      assert.equal(second.created, false)
      assert.equal(second.user.id, first.user.id)
    })

    it('never lets an older event overwrite a newer subscription state', async () => {
      await users.createOrUpdate({ openId: 'o_order', subscribed: true, eventTime: 200 })
      await users.createOrUpdate({ openId: 'o_order', subscribed: false, eventTime: 300 })
      const late = await users.createOrUpdate({
        openId: 'o_order',
        subscribed: true,
        eventTime: 250,
      })
      assert.equal(late.user.subscribed, 0)
      assert.equal(late.user.subscription_event_time, 300_000)
      const newer = await users.createOrUpdate({
        openId: 'o_order',
        subscribed: true,
        eventTime: 301,
      })
      assert.equal(newer.user.subscribed, 1)
    })

    it('leaves fields that are left out unchanged', async () => {
      await users.createOrUpdate({
        openId: 'o_fields',
        unionId: 'u_1',
        subscribed: true,
        eventTime: 10,
        nickname: 'Ann',
      })
      const { user } = await users.createOrUpdate({ openId: 'o_fields', eventTime: 20 })
      assert.equal(user.unionid, 'u_1')
      assert.equal(user.subscribed, 1)
      assert.equal(user.nickname, 'Ann')
      assert.equal(user.subscription_event_time, 10_000, 'no subscription change, no event time')
    })

    it('creates one row when the same openid arrives concurrently', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          users.createOrUpdate({ openId: 'o_race', subscribed: true, eventTime: 1000 + i }),
        ),
      )
      assert.equal(results.filter((r) => r.created).length, 1)
      assert.equal(new Set(results.map((r) => r.user.id)).size, 1)
      const rows = await database.db
        .selectFrom('wechat_users')
        .select('id')
        .where('openid', '=', 'o_race')
        .execute()
      assert.equal(rows.length, 1)
    })

    it('presents membership from the expiry and the clock', async () => {
      const { user } = await users.createOrUpdate({ openId: 'o_present', subscribed: false })
      assert.deepEqual(presentUser(user, clock), {
        openid: 'o_present',
        unionid: null,
        subscribed: false,
        credits: 0,
        is_member: false,
        member_expires_at: null,
        nickname: null,
      })
      const member = { ...user, member_expires_at: clock + 1000 }
      assert.equal(presentUser(member, clock).is_member, true)
      assert.equal(presentUser(member, clock).member_expires_at, '2026-11-25T08:00:01.000Z')
      clock += 1000
      assert.equal(presentUser(member, clock).is_member, false)
    })

    it('extends a membership no further than the last instant of year 9999, which an answer can show', async () => {
      const { user } = await users.createOrUpdate({ openId: 'o_lifetime' })
      const repository = createUsersRepository(database.db)
      const century = 36_500
      const expiries: (string | null)[] = []
      for (let i = 0; i < 82; i += 1) {
        await repository.extendMembership(user.id, century, clock)
        const row = await users.findById(user.id)
        assert.ok(row)
        expiries.push(presentUser(row, clock).member_expires_at)
      }
      assert.equal(expiries[78]?.slice(0, 4), '9921')
      assert.deepEqual(expiries.slice(79), Array(3).fill('9999-12-31T23:59:59.999Z'))
      assert.equal(LATEST_EXPIRY_MS, Date.parse('9999-12-31T23:59:59.999Z'))
      // From no membership at all, too.
      const { user: fresh } = await users.createOrUpdate({ openId: 'o_lifetime_at_once' })
      await repository.extendMembership(fresh.id, 8_000 * 366, clock)
      assert.equal((await users.findById(fresh.id))?.member_expires_at, LATEST_EXPIRY_MS)
    })
  })
}
