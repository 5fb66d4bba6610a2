import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createDb } from './create-db.js'
import { createSchemaCheck, MigrationError, migrateToLatest } from './migrate.js'

describe('createSchemaCheck', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxgate-schema-check-'))
  after(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it('fails on an unmigrated database and passes once every migration has run', async () => {
    const db = createDb({ dialect: 'sqlite', path: join(dir, 'app.sqlite') })
    try {
      const check = createSchemaCheck(db)
      await assert.rejects(check(), MigrationError)
      await migrateToLatest(db)
      await check()
      const tables = await db.introspection.getTables()
      assert.ok(tables.some((table) => table.name === 'payment_orders'))
    } finally {
      await db.destroy()
    }
  })
})
