// Users: create-or-update from WeChat events (ordered by event time) and the contract's `user` object.
import type { Kysely } from 'kysely'
import type { Static } from 'typebox'
import { isUniqueViolation } from '../db/create-db.js'
import type { Database } from '../db/database.js'
import { toIso } from '../iso-time.js'
import { createUsersRepository, type ProfileFields } from './users.repository.js'
import type { UserSchema } from './users.schemas.js'
import type { UserRow } from './users.table.js'

export interface CreateOrUpdateUserInput {
  openId: string
  unionId?: string | undefined
  subscribed?: boolean | undefined
  /** Unix seconds of the WeChat event (CreateTime); orders subscription changes. */
  eventTime?: number | undefined
  nickname?: string | undefined
  avatarUrl?: string | undefined
}

/** The contract's `user` object, typed by its one schema. */
export type PresentedUser = Static<typeof UserSchema>

export function presentUser(row: UserRow, now: number): PresentedUser {
  return {
    openid: row.openid,
    unionid: row.unionid,
    subscribed: row.subscribed === 1,
    credits: row.credits,
    is_member: row.member_expires_at !== null && row.member_expires_at > now,
    member_expires_at: toIso(row.member_expires_at),
    nickname: row.nickname,
  }
}

export class UserVanishedError extends Error {
  override readonly name = 'UserVanishedError'
}

export function createUsersService({ db, now }: { db: Kysely<Database>; now: () => number }) {
  const users = createUsersRepository(db)

  async function createOrUpdate(
    input: CreateOrUpdateUserInput,
  ): Promise<{ user: UserRow; created: boolean }> {
    const eventTimeMs = input.eventTime === undefined ? null : input.eventTime * 1000
    const at = now()
    const existing = await users.findByOpenId(input.openId)
    if (existing === undefined) {
      try {
        const id = await users.insert({
          openid: input.openId,
          unionid: input.unionId ?? null,
          subscribed: input.subscribed ?? false,
          subscriptionEventTime: input.subscribed === undefined ? null : eventTimeMs,
          nickname: input.nickname ?? null,
          avatarUrl: input.avatarUrl ?? null,
          now: at,
        })
        const row = await users.findById(id)
        if (row === undefined) throw new UserVanishedError(`user ${id} vanished after insert`)
        return { user: row, created: true }
      } catch (error) {
        // A concurrent event created the same openid first: fall through to the update path.
        if (!isUniqueViolation(error)) throw error
      }
    }
    const current = existing ?? (await users.findByOpenId(input.openId))
    if (current === undefined) throw new UserVanishedError('user vanished during create-or-update')

    const profile: ProfileFields = {}
    if (input.unionId !== undefined) profile.unionid = input.unionId
    if (input.nickname !== undefined) profile.nickname = input.nickname
    if (input.avatarUrl !== undefined) profile.avatar_url = input.avatarUrl
    await users.updateProfile(current.id, profile, at)
    if (input.subscribed !== undefined) {
      await users.applySubscription(current.id, input.subscribed, eventTimeMs, at)
    }
    const row = await users.findById(current.id)
    if (row === undefined) throw new UserVanishedError(`user ${current.id} vanished`)
    return { user: row, created: false }
  }

  return {
    createOrUpdate,
    findByOpenId: (openId: string) => users.findByOpenId(openId),
    findById: (id: number) => users.findById(id),
  }
}

export type UsersService = ReturnType<typeof createUsersService>
