// Builds the Kysely instance for the configured dialect; the only module that knows which one it is.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, MysqlDialect, sql, SqliteDialect } from 'kysely'
import { createPool } from 'mysql2'
import type { DbConfig } from '../config.js'
import type { Database } from './database.js'

/** How many queries may wait for one of the pool's connections before the next is refused (503). */
export const DB_QUEUE_LIMIT = 1000

export function createDb(
  config: DbConfig,
  options: { poolSize?: number; queueLimit?: number } = {},
): Kysely<Database> {
  if (config.dialect === 'mysql') {
    const pool = createPool({
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      database: config.database,
      connectionLimit: options.poolSize ?? 10,
      // Requests waiting for a connection, at most (~10 KB each): a database that accepts and never
      // answers queued them without end. Far above any load the pool serves (the bench's 200 connections).
      queueLimit: options.queueLimit ?? DB_QUEUE_LIMIT,
      supportBigNumbers: true,
      charset: 'utf8mb4',
    })
    return new Kysely<Database>({ dialect: new MysqlDialect({ pool }) })
  }
  let database: SQLite.Database
  try {
    if (config.path !== ':memory:') mkdirSync(dirname(config.path), { recursive: true })
    database = new SQLite(config.path)
  } catch (error) {
    // Named, so the one line a failed start prints says which setting to fix.
    throw new Error(`cannot open SQLITE_PATH ${config.path}`, { cause: error })
  }
  // WAL lets readers run beside the writer; busy_timeout waits for a lock instead of failing at once.
  database.pragma('journal_mode = WAL')
  database.pragma('busy_timeout = 5000')
  // FULL: a commit is on disk before it returns (WAL's NORMAL may lose the last commits to a power cut), so a
  // payment answered SUCCESS to WeChat stays recorded; the embedded database is not where speed matters.
  database.pragma('synchronous = FULL')
  return new Kysely<Database>({ dialect: new SqliteDialect({ database }) })
}

/** Readiness probe: one round trip to the database. */
export async function pingDb(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db)
}

// Errors that say the database cannot serve now (down, unreachable, refusing us, not migrated, busy), not
// that the request or our code is wrong: a caller may retry them, so they are answered 503.
const UNAVAILABLE_CODES = new Set([
  // the network, from mysql2's socket
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  // mysql2 and the server
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'POOL_CLOSED',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_NO_SUCH_TABLE',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_WAIT_TIMEOUT',
  // better-sqlite3
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_FULL',
])

/**
 * True when `error`, as a driver threw it, says the database is unavailable rather than the request wrong.
 * Only the error itself is read, never its causes: a failed WeChat call carries ECONNREFUSED too.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, message } = error as { code?: unknown; message?: unknown }
  // mysql2's pool, past DB_QUEUE_LIMIT waiting queries (no code): the database is not keeping up.
  if (message === 'Queue limit reached.') return true
  if (typeof code !== 'string') return false
  if (UNAVAILABLE_CODES.has(code) || code.startsWith('SQLITE_IOERR')) return true
  // SQLite has no code of its own for a missing table: a database that was never migrated.
  return (
    code === 'SQLITE_ERROR' && typeof message === 'string' && message.startsWith('no such table')
  )
}

/** True when `error` is a unique-key violation (MySQL ER_DUP_ENTRY, SQLite UNIQUE constraint). */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const code = (error as { code?: unknown }).code
  return (
    code === 'ER_DUP_ENTRY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  )
}

/**
 * Rows an update, delete or insert changed, on both dialects: a builder's result (`numUpdatedRows`,
 * `numDeletedRows`) or a compiled query's (`numAffectedRows`, db/prepared.ts).
 */
export function affectedRows(result: {
  numUpdatedRows?: bigint
  numDeletedRows?: bigint
  numAffectedRows?: bigint
}): number {
  return Number(result.numUpdatedRows ?? result.numDeletedRows ?? result.numAffectedRows ?? 0n)
}
