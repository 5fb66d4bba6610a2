// Balances in 64 bits on MySQL/MariaDB, as SQLite's INTEGER already is. MySQL's `integer` stops at
// 2,147,483,647: a balance past it (22 purchases of the largest product a catalog may hold) made the
// payment's transaction fail, so a paid order stayed pending and WeChat's notifications were answered FAIL.
// A single order's credits and price stay `integer` (the catalog bounds them at 10^8).
import { MysqlAdapter, type Kysely } from 'kysely'

/* eslint-disable @typescript-eslint/no-explicit-any */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof MysqlAdapter)) return
  await db.schema
    .alterTable('wechat_users')
    .modifyColumn('credits', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema
    .alterTable('credit_ledger')
    .modifyColumn('delta', 'bigint', (c) => c.notNull())
    .modifyColumn('balance_after', 'bigint', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof MysqlAdapter)) return
  await db.schema
    .alterTable('wechat_users')
    .modifyColumn('credits', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema
    .alterTable('credit_ledger')
    .modifyColumn('delta', 'integer', (c) => c.notNull())
    .modifyColumn('balance_after', 'integer', (c) => c.notNull())
    .execute()
}
