// Runs the pending migrations to the latest; used on start (unless DB_MIGRATE=false) and by `npm run migrate`.
import { Migrator, type Kysely, type MigrationResult } from 'kysely'
import { migrations } from './migrations/index.js'

export class MigrationError extends Error {
  override readonly name = 'MigrationError'
}

function migratorFor<DB>(db: Kysely<DB>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'kysely_migration',
    migrationLockTableName: 'kysely_migration_lock',
  })
}

export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<MigrationResult[]> {
  const migrator = migratorFor(db)
  const { error, results = [] } = await migrator.migrateToLatest()
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')
    throw new MigrationError(
      `database migration ${failed?.migrationName ?? ''} failed`.replace('  ', ' '),
      { cause: error },
    )
  }
  return results
}

/**
 * A readiness check for the schema: with DB_MIGRATE=false the app starts on whatever it finds, and
 * /readyz must not call a database without the tables ready. Reads only; once current, stays so.
 */
export function createSchemaCheck<DB>(db: Kysely<DB>): () => Promise<void> {
  let current = false
  return async () => {
    if (current) return
    const pending = (await migratorFor(db).getMigrations()).filter(
      (m) => m.executedAt === undefined,
    )
    if (pending.length > 0) {
      throw new MigrationError(
        `the database schema is not migrated (${pending.length} pending); run npm run migrate`,
      )
    }
    current = true
  }
}
