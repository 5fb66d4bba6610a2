// Runs a transaction, retrying it whole when the database aborted it for a deadlock or lock timeout.
import type { Kysely, Transaction } from 'kysely'
import type { Database } from './database.js'

const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'SQLITE_BUSY'])

/** True for errors after which the database rolled the whole transaction back and a retry is safe. */
export function isRetryableTransactionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  return RETRYABLE.has(String((error as { code?: unknown }).code))
}

export async function inTransaction<T>(
  db: Kysely<Database>,
  work: (trx: Transaction<Database>) => Promise<T>,
  { attempts = 3 }: { attempts?: number } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await db.transaction().execute(work)
    } catch (error) {
      if (attempt >= attempts || !isRetryableTransactionError(error)) throw error
      // A short, jittered pause lets the transaction that won the lock finish first.
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10))
    }
  }
}
