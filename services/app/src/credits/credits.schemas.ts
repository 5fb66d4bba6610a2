// TypeBox schemas of the user's credits and membership endpoints.
import { Type } from 'typebox'
import { CreditRecord } from '@wxgate/internal-api'

export const CreditsResponse = Type.Object({ credits: Type.Integer() })

export const MemberStatusResponse = Type.Object({
  is_member: Type.Boolean(),
  member_expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
})

export const PageQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
    page_size: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  },
  { additionalProperties: false },
)

export const CreditsUsageResponse = Type.Object({
  records: Type.Array(CreditRecord),
  total: Type.Integer(),
  page: Type.Integer(),
  page_size: Type.Integer(),
})
