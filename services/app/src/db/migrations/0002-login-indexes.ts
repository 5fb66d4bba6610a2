// Login indexes: expired OAuth states are deleted by expiry on every authorize-url call.
import { MysqlAdapter, type Kysely } from 'kysely'

/* eslint-disable @typescript-eslint/no-explicit-any */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('ix_oauth_states_expires')
    .on('oauth_states')
    .column('expires_at')
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  // MySQL names the table in DROP INDEX; SQLite refuses it.
  const drop = db.schema.dropIndex('ix_oauth_states_expires')
  await (
    db.getExecutor().adapter instanceof MysqlAdapter ? drop.on('oauth_states') : drop
  ).execute()
}
