import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  createTestDatabase,
  insertTestUser,
  testDialects,
  type TestDatabase,
} from './test-databases.js'
import { inTransaction, isRetryableTransactionError } from './transaction.js'

function lockError(code: string) {
  return Object.assign(new Error(code), { code })
}

for (const dialect of testDialects()) {
  describe(`inTransaction (${dialect})`, () => {
    let database: TestDatabase
    before(async () => {
      database = await createTestDatabase(dialect)
    })
    after(async () => {
      await database.destroy()
    })

    const count = async (openid: string) =>
      (
        await database.db
          .selectFrom('wechat_users')
          .where('openid', '=', openid)
          .select('id')
          .execute()
      ).length

    it('retries the whole transaction after a deadlock and commits once', async () => {
      let tries = 0
      await inTransaction(database.db, async (trx) => {
        tries += 1
        await insertTestUser(trx, 'o_retry')
        if (tries === 1) throw lockError('ER_LOCK_DEADLOCK')
      })
      assert.equal(tries, 2)
      assert.equal(await count('o_retry'), 1, 'the aborted attempt was rolled back')
    })

    it('rolls back and rethrows other errors at once', async () => {
      let tries = 0
      await assert.rejects(
        inTransaction(database.db, async (trx) => {
          tries += 1
          await insertTestUser(trx, 'o_no_retry')
          throw new TypeError('bug')
        }),
        TypeError,
      )
      assert.equal(tries, 1)
      assert.equal(await count('o_no_retry'), 0)
    })
  })
}

describe('isRetryableTransactionError', () => {
  it('knows deadlocks and lock timeouts, not constraint violations', () => {
    assert.equal(isRetryableTransactionError(lockError('ER_LOCK_DEADLOCK')), true)
    assert.equal(isRetryableTransactionError(lockError('ER_LOCK_WAIT_TIMEOUT')), true)
    assert.equal(isRetryableTransactionError(lockError('ER_DUP_ENTRY')), false)
    assert.equal(isRetryableTransactionError('ER_LOCK_DEADLOCK'), false)
  })
})
