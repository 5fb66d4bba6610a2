// The ordered list of migrations. Append new ones at the end (names sort in order); never edit a released one.
import type { Migration } from 'kysely'
import * as initial from './0001-initial.js'
import * as loginIndexes from './0002-login-indexes.js'

export const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-login-indexes': loginIndexes,
}
