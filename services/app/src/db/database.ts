// The schema as Kysely types, described once; every table's Row types live in its feature's *.table.ts.
import type { CreditLedgerTable } from '../credits/credits.table.js'
import type { OAuthStatesTable } from '../oauth/oauth.table.js'
import type { PaymentOrdersTable } from '../orders/orders.table.js'
import type { WechatQrcodeBindingsTable } from '../qr-login/qr-login.table.js'
import type { WechatUsersTable } from '../users/users.table.js'

export interface Database {
  wechat_users: WechatUsersTable
  oauth_states: OAuthStatesTable
  wechat_qrcode_bindings: WechatQrcodeBindingsTable
  payment_orders: PaymentOrdersTable
  credit_ledger: CreditLedgerTable
}
