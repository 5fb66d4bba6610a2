// Queries on wechat_users; works over the app's Kysely or a transaction of it.
import type { Kysely } from 'kysely'
import { affectedRows } from '../db/create-db.js'
import type { Database } from '../db/database.js'
import { prepareQuery } from '../db/prepared.js'
import type { UserRow } from './users.table.js'

/**
 * The latest expiry a membership can have: the last instant of year 9999. Every answer shows the expiry
 * as an ISO-8601 date-time, which has four-digit years; past this, a paid membership would turn every
 * answer about its user into a 500 (after the payment was recorded).
 */
export const LATEST_EXPIRY_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

// Statements of every payment notification, compiled once (db/prepared.ts says why).
const addCreditsTo = prepareQuery(
  (db: Kysely<Database>, p: { id: number; delta: number; now: number }) =>
    db
      .updateTable('wechat_users')
      .set((eb) => ({ credits: eb('credits', '+', p.delta), updated_at: p.now }))
      .where('id', '=', p.id),
)
const extendMembershipOf = prepareQuery(
  (
    db: Kysely<Database>,
    p: { id: number; now: number; nowPlusSpan: number; spanMs: number; lastToExtend: number },
  ) =>
    db
      .updateTable('wechat_users')
      .set((eb) => ({
        member_expires_at: eb
          .case()
          .when(eb.or([eb('member_expires_at', 'is', null), eb('member_expires_at', '<', p.now)]))
          .then(p.nowPlusSpan)
          .when('member_expires_at', '>', p.lastToExtend)
          .then(LATEST_EXPIRY_MS)
          .else(eb('member_expires_at', '+', p.spanMs))
          .end(),
        updated_at: p.now,
      }))
      .where('id', '=', p.id),
)

export interface ProfileFields {
  unionid?: string | null
  nickname?: string | null
  avatar_url?: string | null
}

export function createUsersRepository(db: Kysely<Database>) {
  return {
    findByOpenId(openId: string): Promise<UserRow | undefined> {
      return db
        .selectFrom('wechat_users')
        .selectAll()
        .where('openid', '=', openId)
        .executeTakeFirst()
    },

    findById(id: number): Promise<UserRow | undefined> {
      return db.selectFrom('wechat_users').selectAll().where('id', '=', id).executeTakeFirst()
    },

    /** Inserts a user; throws the driver's unique violation if the openid exists (callers re-read). */
    async insert(fields: {
      openid: string
      unionid: string | null
      subscribed: boolean
      subscriptionEventTime: number | null
      nickname: string | null
      avatarUrl: string | null
      now: number
    }): Promise<number> {
      const result = await db
        .insertInto('wechat_users')
        .values({
          openid: fields.openid,
          unionid: fields.unionid,
          subscribed: fields.subscribed ? 1 : 0,
          subscription_event_time: fields.subscriptionEventTime,
          nickname: fields.nickname,
          avatar_url: fields.avatarUrl,
          member_expires_at: null,
          created_at: fields.now,
          updated_at: fields.now,
        })
        .executeTakeFirstOrThrow()
      return Number(result.insertId)
    },

    async updateProfile(id: number, fields: ProfileFields, now: number): Promise<void> {
      if (Object.keys(fields).length === 0) return
      await db
        .updateTable('wechat_users')
        .set({ ...fields, updated_at: now })
        .where('id', '=', id)
        .execute()
    },

    /**
     * Sets the subscription unless a newer event was already applied (event time in unix ms;
     * null = unordered, always applied). Returns whether the row changed.
     */
    async applySubscription(
      id: number,
      subscribed: boolean,
      eventTime: number | null,
      now: number,
    ): Promise<boolean> {
      let query = db
        .updateTable('wechat_users')
        .set({ subscribed: subscribed ? 1 : 0, updated_at: now })
        .where('id', '=', id)
      if (eventTime !== null) {
        query = query
          .set({ subscription_event_time: eventTime })
          .where((eb) =>
            eb.or([
              eb('subscription_event_time', 'is', null),
              eb('subscription_event_time', '<=', eventTime),
            ]),
          )
      }
      return affectedRows(await query.executeTakeFirst()) > 0
    },

    /** Adds `delta` credits (may be negative only through `takeCredits`). */
    async addCredits(id: number, delta: number, now: number): Promise<void> {
      await addCreditsTo.execute(db, { id, delta, now })
    },

    /** Takes `amount` credits only if the balance covers it; false when it does not (never negative). */
    async takeCredits(id: number, amount: number, now: number): Promise<boolean> {
      const result = await db
        .updateTable('wechat_users')
        .set((eb) => ({ credits: eb('credits', '-', amount), updated_at: now }))
        .where('id', '=', id)
        .where('credits', '>=', amount)
        .executeTakeFirst()
      return affectedRows(result) > 0
    },

    /** Extends membership by `days` from the later of `now` and the current expiry, in one statement. */
    async extendMembership(id: number, days: number, now: number): Promise<void> {
      if (days <= 0) return
      const ms = days * 86_400_000
      await extendMembershipOf.execute(db, {
        id,
        now,
        nowPlusSpan: Math.min(now + ms, LATEST_EXPIRY_MS),
        spanMs: ms,
        lastToExtend: LATEST_EXPIRY_MS - ms,
      })
    },
  }
}

export type UsersRepository = ReturnType<typeof createUsersRepository>
