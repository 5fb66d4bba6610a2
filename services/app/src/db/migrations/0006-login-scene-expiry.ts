// Expired login QR scenes are deleted by expiry when a new login code is made (qr-login.service.ts):
// without an index that would read the whole table, which every anonymous POST …/qrcode grows.
import { MysqlAdapter, type Kysely } from 'kysely'

/* eslint-disable @typescript-eslint/no-explicit-any */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('ix_qrcode_bindings_purpose_expires')
    .on('wechat_qrcode_bindings')
    .columns(['purpose', 'expires_at'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  // MySQL names the table in DROP INDEX; SQLite refuses it.
  const drop = db.schema.dropIndex('ix_qrcode_bindings_purpose_expires')
  await (
    db.getExecutor().adapter instanceof MysqlAdapter ? drop.on('wechat_qrcode_bindings') : drop
  ).execute()
}
