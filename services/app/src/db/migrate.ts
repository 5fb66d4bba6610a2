// Runs the pending migrations to the latest; used on start (unless DB_MIGRATE=false) and by `npm run migrate`.
import { Migrator, type Kysely, type MigrationResult } from 'kysely'
import { migrations } from './migrations/index.js'

export class MigrationError extends Error {
  override readonly name = 'MigrationError'
}

export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<MigrationResult[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'kysely_migration',
    migrationLockTableName: 'kysely_migration_lock',
  })
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
