// The wechat_users table: one row per openid, with its credits balance and membership expiry.
import type { Generated, Selectable } from 'kysely'

export interface WechatUsersTable {
  id: Generated<number>
  openid: string
  unionid: string | null
  /** 0/1 */
  subscribed: number
  /** Unix ms of the subscription event last applied (orders subscribe/unsubscribe). */
  subscription_event_time: number | null
  nickname: string | null
  avatar_url: string | null
  credits: Generated<number>
  member_expires_at: number | null
  created_at: number
  updated_at: number
}

export type UserRow = Selectable<WechatUsersTable>
