// The ordered list of migrations. Append new ones at the end (names sort in order); never edit a released one.
// A new MySQL table holding identifiers gets the collation 0003 gives the others (byte for byte, no padding).
import type { Migration } from 'kysely'
import * as initial from './0001-initial.js'
import * as loginIndexes from './0002-login-indexes.js'
import * as exactIdentifiers from './0003-exact-identifiers.js'
import * as wideBalances from './0004-wide-balances.js'
import * as wideIds from './0005-wide-ids.js'
import * as loginSceneExpiry from './0006-login-scene-expiry.js'

export const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-login-indexes': loginIndexes,
  '0003-exact-identifiers': exactIdentifiers,
  '0004-wide-balances': wideBalances,
  '0005-wide-ids': wideIds,
  '0006-login-scene-expiry': loginSceneExpiry,
}
