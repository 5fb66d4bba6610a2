import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { sql } from 'kysely'
import { createDb, isDatabaseUnavailable } from './create-db.js'
import { createTestDatabase, testDialects } from './test-databases.js'

describe('createDb (SQLite)', () => {
  it('opens the file in WAL mode with every commit synced to disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxgate-create-db-'))
    const db = createDb({ dialect: 'sqlite', path: join(dir, 'nested', 'app.sqlite') })
    try {
      const pragma = async (name: string): Promise<unknown> => {
        const { rows } = await sql.raw<Record<string, unknown>>(`PRAGMA ${name}`).execute(db)
        return Object.values(rows[0] ?? {})[0]
      }
      assert.equal(await pragma('journal_mode'), 'wal')
      assert.equal(await pragma('synchronous'), 2, 'FULL')
      assert.equal(await pragma('busy_timeout'), 5000)
    } finally {
      await db.destroy()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('isDatabaseUnavailable', () => {
  it('tells a database that cannot serve from a request or code that is wrong', () => {
    const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code })
    assert.equal(isDatabaseUnavailable(withCode('ECONNREFUSED')), true)
    assert.equal(isDatabaseUnavailable(withCode('SQLITE_IOERR_WRITE')), true)
    assert.equal(isDatabaseUnavailable(withCode('SQLITE_ERROR', 'no such table: orders')), true)
    assert.equal(
      isDatabaseUnavailable(new Error('WeChat call failed', { cause: withCode('ECONNREFUSED') })),
      false,
      'a cause is not read: a failed WeChat call carries network codes too',
    )
    assert.equal(isDatabaseUnavailable(withCode('ER_DUP_ENTRY')), false)
    assert.equal(
      isDatabaseUnavailable(withCode('SQLITE_ERROR', 'near "selec": syntax error')),
      false,
    )
    assert.equal(isDatabaseUnavailable(new TypeError('x is undefined')), false)
    assert.equal(isDatabaseUnavailable(undefined), false)
  })

  it('counts a query refused by a full MySQL pool queue as the database not keeping up (503)', async (t) => {
    if (!testDialects().includes('mysql')) {
      t.skip('TEST_DB_DIALECTS has no mysql')
      return
    }
    const database = await createTestDatabase('mysql')
    const db = createDb(database.config, { poolSize: 1, queueLimit: 1 })
    try {
      const slow = sql`select sleep(0.5)`.execute(db)
      const queued = sql`select 1`.execute(db)
      const refused = await sql`select 1`.execute(db).catch((error: unknown) => error)
      assert.ok(isDatabaseUnavailable(refused), String(refused))
      await Promise.all([slow, queued])
    } finally {
      await db.destroy()
      await database.destroy()
    }
  })
})
