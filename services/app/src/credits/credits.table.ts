// The credit_ledger table: every balance change, one row each; its sum per user is the balance.
import type { Generated, Selectable } from 'kysely'

export interface CreditLedgerTable {
  id: Generated<number>
  user_id: number
  /** Signed change (`change` is a reserved word in MySQL). */
  delta: number
  balance_after: number
  /** 'purchase' or the consumer's reason. */
  reason: string
  /** out_trade_no for purchases, the idempotency key for consumes. */
  ref: string | null
  /** Unique per user: `purchase:<out_trade_no>` or `consume:<key>`; makes both idempotent. */
  idempotency_key: string
  created_at: number
}

export type LedgerRow = Selectable<CreditLedgerTable>
