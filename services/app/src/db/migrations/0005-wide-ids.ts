// Row ids in 64 bits on MySQL/MariaDB, as SQLite's INTEGER PRIMARY KEY already is. MySQL's `integer`
// stops at 2,147,483,647, and the ledger gains a row for every consume and every payment: at a thousand
// a second that is under a month, after which every consume is a 500 and every payment's transaction
// fails (the order stays pending, WeChat's notifications are answered FAIL). Orders and QR-code bindings
// are never pruned either. `user_id` follows the id it points at.
import { MysqlAdapter, type Kysely } from 'kysely'

const AUTO_IDS = ['wechat_users', 'wechat_qrcode_bindings', 'payment_orders', 'credit_ledger']
const USER_REFERENCES = ['payment_orders', 'credit_ledger']

/* eslint-disable @typescript-eslint/no-explicit-any */
async function setIdType(db: Kysely<any>, type: 'bigint' | 'integer'): Promise<void> {
  if (!(db.getExecutor().adapter instanceof MysqlAdapter)) return
  for (const table of AUTO_IDS) {
    // MODIFY keeps the primary key (an index, not part of the column's definition); naming it again
    // would be a second primary key.
    let change = db.schema
      .alterTable(table)
      .modifyColumn('id', type, (c) => c.notNull().autoIncrement())
    if (USER_REFERENCES.includes(table)) {
      change = change.modifyColumn('user_id', type, (c) => c.notNull())
    }
    await change.execute()
  }
}

export async function up(db: Kysely<any>): Promise<void> {
  await setIdType(db, 'bigint')
}

export async function down(db: Kysely<any>): Promise<void> {
  await setIdType(db, 'integer')
}
