// Queries on oauth_states: one-time CSRF `state` values, consumed with a conditional update.
import type { Kysely } from 'kysely'
import { affectedRows } from '../db/create-db.js'
import type { Database } from '../db/database.js'
import type { OAuthStateRow } from './oauth.table.js'

export function createOAuthStatesRepository(db: Kysely<Database>) {
  return {
    async insert(row: OAuthStateRow): Promise<void> {
      await db.insertInto('oauth_states').values(row).execute()
    },

    find(state: string): Promise<OAuthStateRow | undefined> {
      return db.selectFrom('oauth_states').selectAll().where('state', '=', state).executeTakeFirst()
    },

    /**
     * Marks the state used if it exists, is unused and unexpired at `now`. Exactly one caller can win
     * this race: the affected-row count is the proof (STYLE §9.7).
     */
    async consume(state: string, now: number): Promise<boolean> {
      const result = await db
        .updateTable('oauth_states')
        .set({ used_at: now })
        .where('state', '=', state)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst()
      return affectedRows(result) === 1
    },

    /** Makes a state consumed at `usedAt` usable again (a login that failed must change nothing). */
    async release(state: string, usedAt: number): Promise<void> {
      await db
        .updateTable('oauth_states')
        .set({ used_at: null })
        .where('state', '=', state)
        .where('used_at', '=', usedAt)
        .execute()
    },

    /** Drops states that expired before `before` (used or not); they can never be consumed again. */
    async deleteExpired(before: number): Promise<number> {
      const result = await db
        .deleteFrom('oauth_states')
        .where('expires_at', '<', before)
        .executeTakeFirst()
      return affectedRows(result)
    },
  }
}

export type OAuthStatesRepository = ReturnType<typeof createOAuthStatesRepository>
