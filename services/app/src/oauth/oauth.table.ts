// The oauth_states table: one-time `state` values handed out with an authorize URL.
import type { Selectable } from 'kysely'

export interface OAuthStatesTable {
  state: string
  redirect_uri: string
  scope: string
  created_at: number
  expires_at: number
  used_at: number | null
}

export type OAuthStateRow = Selectable<OAuthStatesTable>
