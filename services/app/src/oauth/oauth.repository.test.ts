// oauth_states on every test dialect: a state is consumed once, never after expiry, and expired ones are purged.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createTestDatabase, testDialects } from '../db/test-databases.js'
import type { TestDatabase } from '../db/test-databases.js'
import { createOAuthStatesRepository } from './oauth.repository.js'

const T0 = 1_800_000_000_000

for (const dialect of testDialects()) {
  describe(`oauth states repository (${dialect})`, () => {
    let database: TestDatabase
    let states: ReturnType<typeof createOAuthStatesRepository>
    let n = 0
    const insert = async (expiresAt: number) => {
      const state = `S${dialect}${++n}x0123456789abcdef`
      await states.insert({
        state,
        redirect_uri: 'https://example.com/cb',
        scope: 'snsapi_base',
        created_at: T0,
        expires_at: expiresAt,
        used_at: null,
      })
      return state
    }

    before(async () => {
      database = await createTestDatabase(dialect)
      states = createOAuthStatesRepository(database.db)
    })
    after(async () => {
      await database.destroy()
    })

    it('lets exactly one of many concurrent consumers spend a state', async () => {
      const state = await insert(T0 + 60_000)
      const results = await Promise.all(Array.from({ length: 8 }, () => states.consume(state, T0)))
      assert.equal(results.filter(Boolean).length, 1)
      assert.equal((await states.find(state))?.used_at, T0)
    })

    it('does not consume an expired or unknown state', async () => {
      const state = await insert(T0 + 60_000)
      assert.equal(await states.consume(state, T0 + 60_000), false)
      assert.equal((await states.find(state))?.used_at, null)
      assert.equal(await states.consume('nope', T0), false)
    })

    it('deletes only states that expired before the given time', async () => {
      const old = await insert(T0 - 1)
      const live = await insert(T0 + 1)
      assert.ok((await states.deleteExpired(T0)) >= 1)
      assert.equal(await states.find(old), undefined)
      assert.notEqual(await states.find(live), undefined)
    })
  })
}
