import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createTestDatabase, testDialects, type TestDatabase } from '../db/test-databases.js'
import { createUsersRepository } from '../users/users.repository.js'
import { createUsersService } from '../users/users.service.js'
import { createCreditsService } from './credits.service.js'

for (const dialect of testDialects()) {
  describe(`credits service (${dialect})`, () => {
    let database: TestDatabase
    const now = () => Date.parse('2026-11-25T08:00:00.000Z')
    let credits: ReturnType<typeof createCreditsService>
    let users: ReturnType<typeof createUsersService>

    /** A user with `balance` credits granted through a ledger row, so ledger sum = balance. */
    async function userWith(openId: string, balance: number): Promise<number> {
      const { user } = await users.createOrUpdate({ openId, subscribed: true })
      await createUsersRepository(database.db).addCredits(user.id, balance, now())
      await database.db
        .insertInto('credit_ledger')
        .values({
          user_id: user.id,
          delta: balance,
          balance_after: balance,
          reason: 'purchase',
          ref: `grant-${openId}`,
          idempotency_key: `purchase:grant-${openId}`,
          created_at: now(),
        })
        .execute()
      return user.id
    }

    async function balance(userId: number): Promise<number> {
      const row = await database.db
        .selectFrom('wechat_users')
        .select('credits')
        .where('id', '=', userId)
        .executeTakeFirstOrThrow()
      return row.credits
    }

    before(async () => {
      database = await createTestDatabase(dialect)
      credits = createCreditsService({ db: database.db, now })
      users = createUsersService({ db: database.db, now })
    })
    after(async () => {
      await database.destroy()
    })

    it('consumes credits and writes one ledger row with the balance after', async () => {
      const userId = await userWith('o_consume', 100)
      const result = await credits.consume({
        openId: 'o_consume',
        amount: 30,
        reason: 'ai_chat',
        idempotencyKey: 'k1',
      })
      assert.equal(result.credits, 70)
      assert.equal(result.record.delta, -30)
      assert.equal(result.record.balance_after, 70)
      assert.equal(result.record.reason, 'ai_chat')
      assert.equal(result.record.ref, 'k1')
      assert.equal(await balance(userId), 70)
      assert.equal(await credits.ledgerSum(userId), 70)
    })

    it('keeps balances past 2^31 (a 32-bit column would refuse them, and with them a paid order)', async () => {
      const userId = await userWith('o_wide', 3_000_000_000)
      const result = await credits.consume({
        openId: 'o_wide',
        amount: 1,
        reason: 'x',
        idempotencyKey: 'wide-1',
      })
      assert.equal(result.credits, 2_999_999_999)
      assert.equal(result.record.balance_after, 2_999_999_999)
      assert.equal(await balance(userId), 2_999_999_999)
      assert.equal(await credits.ledgerSum(userId), 2_999_999_999)
    })

    it('refuses a consume the balance does not cover and changes nothing', async () => {
      const userId = await userWith('o_poor', 5)
      await assert.rejects(
        credits.consume({ openId: 'o_poor', amount: 6, reason: 'x', idempotencyKey: 'k' }),
        (error: { code?: string; statusCode?: number }) =>
          error.code === 'INSUFFICIENT_CREDITS' && error.statusCode === 409,
      )
      assert.equal(await balance(userId), 5)
      assert.equal((await credits.history(userId, { page: 1, pageSize: 10 })).total, 1)
    })

    it('refuses an unknown openid with USER_NOT_FOUND', async () => {
      await assert.rejects(
        credits.consume({ openId: 'o_nobody', amount: 1, reason: 'x', idempotencyKey: 'k' }),
        (error: { code?: string }) => error.code === 'USER_NOT_FOUND',
      )
    })

    it('tells idempotency keys and openids apart byte for byte (case, trailing spaces)', async () => {
      const userId = await userWith('o_Exact', 100)
      for (const idempotencyKey of ['Key-A', 'key-a', 'key-a ']) {
        await credits.consume({ openId: 'o_Exact', amount: 10, reason: 'x', idempotencyKey })
      }
      assert.equal(await balance(userId), 70, 'three keys, three consumes')
      await assert.rejects(
        credits.consume({ openId: 'o_exact', amount: 1, reason: 'x', idempotencyKey: 'k' }),
        (error: { code?: string }) => error.code === 'USER_NOT_FOUND',
      )
      const { user, created } = await users.createOrUpdate({ openId: 'o_EXACT' })
      assert.equal(created, true)
      assert.notEqual(user.id, userId)
    })

    it('consumes once for 20 concurrent calls with one idempotency key', async () => {
      const userId = await userWith('o_same_key', 100)
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          credits.consume({
            openId: 'o_same_key',
            amount: 10,
            reason: 'x',
            idempotencyKey: 'once',
          }),
        ),
      )
      assert.equal(await balance(userId), 90)
      assert.ok(results.every((r) => r.record.id === results[0]?.record.id))
      assert.ok(results.every((r) => r.credits === 90))
      const rows = await database.db
        .selectFrom('credit_ledger')
        .select('id')
        .where('user_id', '=', userId)
        .where('idempotency_key', '=', 'consume:once')
        .execute()
      assert.equal(rows.length, 1)
    })

    it('answers every concurrent call with one key the first result, when two would not fit', async () => {
      // 60 of 100: a second consume would be refused, so the repeats must be seen as repeats, not as short.
      const userId = await userWith('o_same_key_big', 100)
      const settled = await Promise.allSettled(
        Array.from({ length: 20 }, () =>
          credits.consume({
            openId: 'o_same_key_big',
            amount: 60,
            reason: 'x',
            idempotencyKey: 'big-once',
          }),
        ),
      )
      const results = settled.map((s) => {
        assert.equal(s.status, 'fulfilled', s.status === 'rejected' ? String(s.reason) : '')
        return s.value
      })
      assert.ok(results.every((r) => r.record.id === results[0]?.record.id && r.credits === 40))
      assert.equal(results.filter((r) => !r.replayed).length, 1)
      assert.equal(await balance(userId), 40)
    })

    it('never goes negative when concurrent consumes exceed the balance', async () => {
      const userId = await userWith('o_rush', 50)
      const settled = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          credits.consume({ openId: 'o_rush', amount: 7, reason: 'x', idempotencyKey: `r${i}` }),
        ),
      )
      const ok = settled.filter((s) => s.status === 'fulfilled').length
      assert.equal(ok, 7, '7 × 7 = 49 fit in 50')
      for (const s of settled) {
        if (s.status === 'rejected') {
          assert.equal((s.reason as { code?: string }).code, 'INSUFFICIENT_CREDITS')
        }
      }
      assert.equal(await balance(userId), 1)
      assert.equal(await credits.ledgerSum(userId), 1)
    })

    it('lists history newest first, paged', async () => {
      const userId = await userWith('o_hist', 10)
      for (const key of ['a', 'b', 'c']) {
        await credits.consume({ openId: 'o_hist', amount: 1, reason: 'x', idempotencyKey: key })
      }
      const page1 = await credits.history(userId, { page: 1, pageSize: 2 })
      assert.equal(page1.total, 4)
      assert.deepEqual(
        page1.records.map((r) => r.ref),
        ['c', 'b'],
      )
      const page2 = await credits.history(userId, { page: 2, pageSize: 2 })
      assert.deepEqual(
        page2.records.map((r) => r.ref),
        ['a', 'grant-o_hist'],
      )
    })
  })
}
