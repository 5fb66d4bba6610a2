// TypeBox schemas of the contract's `user` object.
import { Type } from 'typebox'

export const UserSchema = Type.Object(
  {
    openid: Type.String(),
    unionid: Type.Union([Type.String(), Type.Null()]),
    subscribed: Type.Boolean(),
    credits: Type.Integer(),
    is_member: Type.Boolean(),
    member_expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    nickname: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'User' },
)
