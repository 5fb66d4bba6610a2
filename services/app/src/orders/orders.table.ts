// The payment_orders table: an order snapshots its product, so a later catalog change never alters it.
import type { Generated, Insertable, Selectable } from 'kysely'

export type OrderStatus = 'pending' | 'paid' | 'closed'
export type TradeType = 'JSAPI' | 'NATIVE' | 'MWEB'

export interface PaymentOrdersTable {
  id: Generated<number>
  out_trade_no: string
  user_id: number
  openid: string
  product_id: string
  product_name: string
  amount_fen: number
  credits: number
  member_days: number
  status: OrderStatus
  trade_type: TradeType | null
  prepay_id: string | null
  /** Unix ms when prepay_id was obtained (prepay ids live 2 hours). */
  prepay_at: number | null
  code_url: string | null
  mweb_url: string | null
  transaction_id: string | null
  payer_openid: string | null
  paid_at: number | null
  closed_at: number | null
  expires_at: number
  last_queried_at: number | null
  created_at: number
  updated_at: number
}

export type OrderRow = Selectable<PaymentOrdersTable>
export type NewOrderRow = Insertable<PaymentOrdersTable>
