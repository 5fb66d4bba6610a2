// `npm run migrate`: brings the configured database to the latest schema, then exits.
import { loadConfig } from '@wxgate/config'
import { appConfigSchema } from './config.js'
import { createDb } from './db/create-db.js'
import { migrateToLatest } from './db/migrate.js'

const config = loadConfig(appConfigSchema)
const db = createDb(config.db)
try {
  const results = await migrateToLatest(db)
  for (const r of results) process.stdout.write(`migrate: ${r.migrationName} ${r.status}\n`)
  process.stdout.write(`migrate: ${config.db.dialect} database is up to date\n`)
} catch (error) {
  process.stderr.write(`migrate: ${error instanceof Error ? error.message : String(error)}\n`)
  if (error instanceof Error && error.cause instanceof Error) {
    process.stderr.write(`migrate: cause: ${error.cause.message}\n`)
  }
  process.exitCode = 1
} finally {
  await db.destroy()
}
