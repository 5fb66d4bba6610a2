// `npm run migrate`: brings the configured database to the latest schema, then exits.
import { loadConfig } from '@wxgate/config'
import { describeStartError, releaseStartupStopHandler } from '@wxgate/service-kit'
import { migrateConfigSchema } from './config.js'
import { createDb } from './db/create-db.js'
import { migrateToLatest } from './db/migrate.js'

// A migration stopped half-way is not a clean stop: the launcher's "exit 0 before listening" is not for us.
releaseStartupStopHandler()
// Only the database settings are read: a schema can be made before the service's secrets exist.
const config = loadConfig(migrateConfigSchema)
let db: ReturnType<typeof createDb> | undefined
try {
  db = createDb(config.db)
  const results = await migrateToLatest(db)
  for (const r of results) process.stdout.write(`migrate: ${r.migrationName} ${r.status}\n`)
  process.stdout.write(`migrate: ${config.db.dialect} database is up to date\n`)
} catch (error) {
  // One line with its causes, as a service that cannot start prints it.
  process.stderr.write(`migrate: ${describeStartError(error)}\n`)
  process.exitCode = 1
} finally {
  await db?.destroy()
}
