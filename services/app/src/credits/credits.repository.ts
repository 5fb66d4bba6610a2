// Queries on credit_ledger; works over the app's Kysely or a transaction of it.
import type { Kysely } from 'kysely'
import { affectedRows } from '../db/create-db.js'
import type { Database } from '../db/database.js'
import { prepareQuery } from '../db/prepared.js'
import type { LedgerRow } from './credits.table.js'

/** A ledger row to write, apart from `balance_after` (given, or read by the insert itself). */
// A type, not an interface: prepared-query parameters must be indexable by name.
export type LedgerEntry = {
  userId: number
  delta: number
  reason: string
  ref: string | null
  idempotencyKey: string
  now: number
}

// The ledger row of every payment notification, compiled once (db/prepared.ts says why).
const insertReadingBalance = prepareQuery((db: Kysely<Database>, p: LedgerEntry) =>
  db
    .insertInto('credit_ledger')
    .columns([
      'user_id',
      'delta',
      'balance_after',
      'reason',
      'ref',
      'idempotency_key',
      'created_at',
    ])
    .expression((eb) =>
      eb
        .selectFrom('wechat_users')
        .select((s) => [
          'id',
          s.val(p.delta).as('delta'),
          'credits',
          s.val(p.reason).as('reason'),
          s.val(p.ref).as('ref'),
          s.val(p.idempotencyKey).as('idempotency_key'),
          s.val(p.now).as('created_at'),
        ])
        .where('id', '=', p.userId),
    ),
)

export function createCreditsRepository(db: Kysely<Database>) {
  return {
    async insert(row: LedgerEntry & { balanceAfter: number }): Promise<number> {
      const result = await db
        .insertInto('credit_ledger')
        .values({
          user_id: row.userId,
          delta: row.delta,
          balance_after: row.balanceAfter,
          reason: row.reason,
          ref: row.ref,
          idempotency_key: row.idempotencyKey,
          created_at: row.now,
        })
        .executeTakeFirstOrThrow()
      return Number(result.insertId)
    },

    /**
     * Inserts a ledger row whose `balance_after` is the user's balance as this statement reads it
     * (one round trip instead of a re-read). Exact only inside the transaction that just changed
     * the balance: its row lock keeps others from moving it before commit. False if no such user.
     */
    async insertWithCurrentBalance(row: LedgerEntry): Promise<boolean> {
      const result = await insertReadingBalance.execute(db, row)
      return affectedRows(result) > 0
    },

    findById(id: number): Promise<LedgerRow | undefined> {
      return db.selectFrom('credit_ledger').selectAll().where('id', '=', id).executeTakeFirst()
    },

    findByKey(userId: number, idempotencyKey: string): Promise<LedgerRow | undefined> {
      return db
        .selectFrom('credit_ledger')
        .selectAll()
        .where('user_id', '=', userId)
        .where('idempotency_key', '=', idempotencyKey)
        .executeTakeFirst()
    },

    /** Newest first. */
    listByUser(userId: number, { limit, offset }: { limit: number; offset: number }) {
      return db
        .selectFrom('credit_ledger')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('id', 'desc')
        .limit(limit)
        .offset(offset)
        .execute()
    },

    async countByUser(userId: number): Promise<number> {
      const row = await db
        .selectFrom('credit_ledger')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow()
      return Number(row.n)
    },

    /** Sum of all changes (MySQL answers SUM as a decimal string, hence Number). */
    async sumByUser(userId: number): Promise<number> {
      const row = await db
        .selectFrom('credit_ledger')
        .select((eb) => eb.fn.sum<number | string | null>('delta').as('total'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow()
      return Number(row.total ?? 0)
    },
  }
}

export type CreditsRepository = ReturnType<typeof createCreditsRepository>
