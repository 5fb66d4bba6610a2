import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Kysely } from 'kysely'
import type { Database } from './database.js'
import { affectedRows } from './create-db.js'
import { prepareQuery } from './prepared.js'
import {
  createTestDatabase,
  insertTestUser,
  testDialects,
  type TestDatabase,
} from './test-databases.js'
import { inTransaction } from './transaction.js'

// Constants ('paid'-like literals), markers in set, where and select positions, and a null value.
const addCredits = prepareQuery(
  (db: Kysely<Database>, p: { openid: string; delta: number; now: number; minimum: number }) =>
    db
      .updateTable('wechat_users')
      .set((eb) => ({ credits: eb('credits', '+', p.delta), updated_at: p.now }))
      .where('openid', '=', p.openid)
      .where('credits', '>=', p.minimum)
      .where('subscribed', 'in', [0, 1]),
)
const selectUser = prepareQuery(
  (db: Kysely<Database>, p: { openid: string; label: string | null }) =>
    db
      .selectFrom('wechat_users')
      .select((s) => ['openid', 'credits', 'updated_at', s.val(p.label).as('label')])
      .where('openid', '=', p.openid),
)

for (const dialect of testDialects()) {
  describe(`prepareQuery (${dialect})`, () => {
    let database: TestDatabase
    before(async () => {
      database = await createTestDatabase(dialect)
      await insertTestUser(database.db, 'o-a', 10)
      await insertTestUser(database.db, 'o-b', 0)
    })
    after(async () => {
      await database.destroy()
    })

    it("puts each call's values where the markers were, keeping the constants", async () => {
      const db = database.db
      assert.equal(
        affectedRows(
          await addCredits.execute(db, { openid: 'o-a', delta: 5, now: 7, minimum: 10 }),
        ),
        1,
      )
      // Same compiled statement, other values: o-b has 0 < minimum, so nothing matches.
      assert.equal(
        affectedRows(await addCredits.execute(db, { openid: 'o-b', delta: 5, now: 8, minimum: 1 })),
        0,
      )
      const { rows } = await selectUser.execute(db, { openid: 'o-a', label: null })
      assert.equal(rows.length, 1)
      assert.equal(Number(rows[0]?.credits), 15)
      assert.equal(Number(rows[0]?.updated_at), 7)
      assert.equal(rows[0]?.label, null)
      const labelled = await selectUser.execute(db, { openid: 'o-b', label: 'x' })
      assert.deepEqual(
        labelled.rows.map((r) => [r.openid, Number(r.credits), r.label]),
        [['o-b', 0, 'x']],
      )
    })

    it("runs inside a transaction on the transaction's connection", async () => {
      await assert.rejects(
        inTransaction(database.db, async (trx) => {
          await addCredits.execute(trx, { openid: 'o-b', delta: 100, now: 9, minimum: 0 })
          const { rows } = await selectUser.execute(trx, { openid: 'o-b', label: null })
          assert.equal(Number(rows[0]?.credits), 100, 'the transaction sees its own update')
          throw new Error('roll back')
        }),
        /roll back/,
      )
      const { rows } = await selectUser.execute(database.db, { openid: 'o-b', label: null })
      assert.equal(Number(rows[0]?.credits), 0, 'rolled back with the transaction')
    })

    it('refuses a call that lacks a parameter', async () => {
      await assert.rejects(
        selectUser.execute(database.db, { openid: 'o-a' } as never),
        /no value for label/,
      )
    })
  })
}
