// On MySQL/MariaDB, text compares byte for byte, as on SQLite: openids, scene strings, OAuth states, order
// numbers and idempotency keys are case-sensitive values, and a server's default collation
// (utf8mb4_general_ci on MariaDB, utf8mb4_0900_ai_ci on MySQL) would make `Key` and `key` — and, with
// PAD SPACE, `k` and `k ` — one unique key: a second consume answered as a replay, two users one account.
import { MysqlAdapter, sql, type Kysely } from 'kysely'

const TABLES = [
  'wechat_users',
  'oauth_states',
  'wechat_qrcode_bindings',
  'payment_orders',
  'credit_ledger',
] as const

/** A binary collation without trailing-space padding: MariaDB's nopad_bin, MySQL 8's 0900_bin, else bin. */
async function exactCollation(db: Kysely<unknown>): Promise<string> {
  for (const name of ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin']) {
    const { rows } = await sql`SHOW COLLATION LIKE ${name}`.execute(db)
    if (rows.length > 0) return name
  }
  return 'utf8mb4_bin'
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof MysqlAdapter)) return
  const collation = await exactCollation(db)
  // Rebuilds each table (a copy under a lock): run it before the tables are large, as now.
  for (const table of TABLES) {
    await sql`ALTER TABLE ${sql.table(table)} CONVERT TO CHARACTER SET utf8mb4 COLLATE ${sql.raw(collation)}`.execute(
      db,
    )
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof MysqlAdapter)) return
  for (const table of TABLES) {
    await sql`ALTER TABLE ${sql.table(table)} CONVERT TO CHARACTER SET utf8mb4`.execute(db)
  }
}
