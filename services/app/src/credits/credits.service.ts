// Credits: balance, history and idempotent consumption (never negative, one ledger row per key).
import type { CreditRecord } from '@wxgate/internal-api'
import type { Kysely } from 'kysely'
import { isUniqueViolation } from '../db/create-db.js'
import { inTransaction } from '../db/transaction.js'
import type { Database } from '../db/database.js'
import { AppErrors } from '../errors.js'
import { createUsersRepository } from '../users/users.repository.js'
import { toIso } from '../iso-time.js'
import { createCreditsRepository } from './credits.repository.js'
import type { LedgerRow } from './credits.table.js'

/** The contract's credits-usage record (the same object the internal API answers). */
export type PresentedLedgerRecord = CreditRecord

export function presentLedgerRow(row: LedgerRow): PresentedLedgerRecord {
  return {
    id: row.id,
    change: row.delta,
    balance_after: row.balance_after,
    reason: row.reason,
    ref: row.ref,
    created_at: toIso(row.created_at) ?? '',
  }
}

export const consumeKey = (idempotencyKey: string) => `consume:${idempotencyKey}`
export const purchaseKey = (outTradeNo: string) => `purchase:${outTradeNo}`

export class LedgerRowMissingError extends Error {
  override readonly name = 'LedgerRowMissingError'
}

export function createCreditsService({ db, now }: { db: Kysely<Database>; now: () => number }) {
  const ledger = createCreditsRepository(db)
  const users = createUsersRepository(db)

  async function consume(input: {
    openId: string
    amount: number
    reason: string
    idempotencyKey: string
  }): Promise<{ credits: number; record: LedgerRow; replayed: boolean }> {
    const user = await users.findByOpenId(input.openId)
    if (user === undefined) throw new AppErrors.USER_NOT_FOUND()
    const key = consumeKey(input.idempotencyKey)
    const previous = await ledger.findByKey(user.id, key)
    if (previous !== undefined)
      return { credits: previous.balance_after, record: previous, replayed: true }

    try {
      const record = await inTransaction(db, async (trx) => {
        const txUsers = createUsersRepository(trx)
        const txLedger = createCreditsRepository(trx)
        const at = now()
        // The conditional update is the guard: concurrent consumes can never take the balance below 0.
        if (!(await txUsers.takeCredits(user.id, input.amount, at))) {
          throw new AppErrors.INSUFFICIENT_CREDITS()
        }
        const after = await txUsers.findById(user.id)
        if (after === undefined) throw new AppErrors.USER_NOT_FOUND()
        const id = await txLedger.insert({
          userId: user.id,
          delta: -input.amount,
          balanceAfter: after.credits,
          reason: input.reason,
          ref: input.idempotencyKey,
          idempotencyKey: key,
          now: at,
        })
        const row = await txLedger.findById(id)
        if (row === undefined) throw new LedgerRowMissingError(`ledger row ${id} missing`)
        return row
      })
      return { credits: record.balance_after, record, replayed: false }
    } catch (error) {
      // A concurrent consume with the same key may have committed first; ours rolled back. It shows as
      // the ledger's unique key, or (MySQL) as a short balance: our guarded update waited for its row
      // lock and then saw the credits it took. Either way, answer its result if there is one.
      if (!isUniqueViolation(error) && !(error instanceof AppErrors.INSUFFICIENT_CREDITS))
        throw error
      const first = await ledger.findByKey(user.id, key)
      if (first === undefined) throw error
      return { credits: first.balance_after, record: first, replayed: true }
    }
  }

  return {
    consume,
    async history(userId: number, { page, pageSize }: { page: number; pageSize: number }) {
      const [rows, total] = await Promise.all([
        ledger.listByUser(userId, { limit: pageSize, offset: (page - 1) * pageSize }),
        ledger.countByUser(userId),
      ])
      return { records: rows, total }
    },
    ledgerSum: (userId: number) => ledger.sumByUser(userId),
  }
}

export type CreditsService = ReturnType<typeof createCreditsService>
