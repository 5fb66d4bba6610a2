// Test support: one fresh, migrated database per dialect in TEST_DB_DIALECTS (sqlite, mysql), dropped after.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Kysely } from 'kysely'
import { createConnection } from 'mysql2/promise'
import type { DbConfig } from '../config.js'
import { createDb } from './create-db.js'
import type { Database } from './database.js'
import { migrateToLatest } from './migrate.js'

export type TestDialect = 'sqlite' | 'mysql'

/** The dialects to run DB suites on: TEST_DB_DIALECTS (comma-separated), default sqlite. */
export function testDialects(): TestDialect[] {
  const raw = process.env.TEST_DB_DIALECTS ?? 'sqlite'
  const dialects = raw
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '')
  for (const d of dialects) {
    if (d !== 'sqlite' && d !== 'mysql') throw new Error(`TEST_DB_DIALECTS: unknown dialect ${d}`)
  }
  return dialects as TestDialect[]
}

export interface TestDatabase {
  readonly dialect: TestDialect
  readonly config: DbConfig
  readonly db: Kysely<Database>
  /** Closes the pool and drops the database (or deletes the SQLite file). */
  destroy(): Promise<void>
}

function mysqlServer() {
  return {
    host: process.env.TEST_MYSQL_HOST ?? '127.0.0.1',
    port: Number(process.env.TEST_MYSQL_PORT ?? 3306),
    user: process.env.TEST_MYSQL_USER ?? 'root',
    password: process.env.TEST_MYSQL_PASSWORD ?? undefined,
  }
}

/** Creates a fresh database (`wxgate_test_<random>` on MariaDB, a temp file on SQLite) and migrates it. */
export async function createTestDatabase(dialect: TestDialect): Promise<TestDatabase> {
  if (dialect === 'mysql') {
    const server = mysqlServer()
    const name = `wxgate_test_${randomBytes(6).toString('hex')}`
    const admin = await createConnection(server)
    try {
      // A case-insensitive default, as a MariaDB server has: the migrations must make identifiers exact.
      await admin.query(
        `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
      )
    } finally {
      await admin.end()
    }
    const config: DbConfig = { dialect: 'mysql', ...server, database: name }
    const db = createDb(config, { poolSize: 25 })
    await migrateToLatest(db)
    return {
      dialect,
      config,
      db,
      async destroy() {
        await db.destroy()
        const conn = await createConnection(server)
        try {
          await conn.query(`DROP DATABASE IF EXISTS \`${name}\``)
        } finally {
          await conn.end()
        }
      },
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'wxgate-app-db-'))
  const config: DbConfig = { dialect: 'sqlite', path: join(dir, 'app.sqlite') }
  const db = createDb(config)
  await migrateToLatest(db)
  return {
    dialect,
    config,
    db,
    async destroy() {
      await db.destroy()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A bare user row (created_at/updated_at 1), for tests of the database layer itself. */
export async function insertTestUser(
  db: Kysely<Database>,
  openid: string,
  credits = 0,
): Promise<void> {
  await db
    .insertInto('wechat_users')
    .values({
      openid,
      unionid: null,
      subscribed: 0,
      subscription_event_time: null,
      nickname: null,
      avatar_url: null,
      credits,
      member_expires_at: null,
      created_at: 1,
      updated_at: 1,
    })
    .execute()
}
