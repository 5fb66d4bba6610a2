// The first schema: users, OAuth states, QR bindings, payment orders and the credit ledger.
import type { Kysely } from 'kysely'

// Migrations take Kysely<any>: they describe the schema before the types exist (Kysely's own advice).
/* eslint-disable @typescript-eslint/no-explicit-any */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('wechat_users')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('openid', 'varchar(64)', (c) => c.notNull())
    .addColumn('unionid', 'varchar(64)')
    .addColumn('subscribed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('subscription_event_time', 'bigint')
    .addColumn('nickname', 'varchar(128)')
    .addColumn('avatar_url', 'varchar(512)')
    .addColumn('credits', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('member_expires_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('uq_wechat_users_openid', ['openid'])
    .execute()
  await db.schema
    .createIndex('ix_wechat_users_unionid')
    .on('wechat_users')
    .column('unionid')
    .execute()

  await db.schema
    .createTable('oauth_states')
    .addColumn('state', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('redirect_uri', 'varchar(1024)', (c) => c.notNull())
    .addColumn('scope', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute()

  await db.schema
    .createTable('wechat_qrcode_bindings')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('scene_str', 'varchar(64)', (c) => c.notNull())
    .addColumn('ticket', 'varchar(255)')
    .addColumn('purpose', 'varchar(16)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('openid', 'varchar(64)')
    .addColumn('event', 'varchar(16)')
    .addColumn('event_time', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('scanned_at', 'bigint')
    .addUniqueConstraint('uq_qrcode_bindings_scene', ['scene_str'])
    .execute()

  await db.schema
    .createTable('payment_orders')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('out_trade_no', 'varchar(32)', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('openid', 'varchar(64)', (c) => c.notNull())
    .addColumn('product_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('product_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('amount_fen', 'integer', (c) => c.notNull())
    .addColumn('credits', 'integer', (c) => c.notNull())
    .addColumn('member_days', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('trade_type', 'varchar(16)')
    .addColumn('prepay_id', 'varchar(64)')
    .addColumn('prepay_at', 'bigint')
    .addColumn('code_url', 'varchar(512)')
    .addColumn('mweb_url', 'varchar(1024)')
    .addColumn('transaction_id', 'varchar(64)')
    .addColumn('payer_openid', 'varchar(64)')
    .addColumn('paid_at', 'bigint')
    .addColumn('closed_at', 'bigint')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('last_queried_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('uq_payment_orders_out_trade_no', ['out_trade_no'])
    .execute()
  await db.schema
    .createIndex('ix_payment_orders_user')
    .on('payment_orders')
    .columns(['user_id', 'id'])
    .execute()
  await db.schema
    .createIndex('ix_payment_orders_status_prepay')
    .on('payment_orders')
    .columns(['status', 'prepay_at'])
    .execute()
  await db.schema
    .createIndex('ix_payment_orders_status_expires')
    .on('payment_orders')
    .columns(['status', 'expires_at'])
    .execute()

  await db.schema
    .createTable('credit_ledger')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('delta', 'integer', (c) => c.notNull())
    .addColumn('balance_after', 'integer', (c) => c.notNull())
    .addColumn('reason', 'varchar(64)', (c) => c.notNull())
    .addColumn('ref', 'varchar(128)')
    .addColumn('idempotency_key', 'varchar(160)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('uq_credit_ledger_key', ['user_id', 'idempotency_key'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'credit_ledger',
    'payment_orders',
    'wechat_qrcode_bindings',
    'oauth_states',
    'wechat_users',
  ]) {
    await db.schema.dropTable(table).ifExists().execute()
  }
}
