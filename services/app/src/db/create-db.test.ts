import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { sql } from 'kysely'
import { createDb } from './create-db.js'

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
