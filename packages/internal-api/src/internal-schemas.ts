// The internal API's request and response bodies (CONTRACT "App — internal API"), as TypeBox schemas.
import { Type } from 'typebox'
import type { Static } from 'typebox'

export { INTERNAL_ROUTES } from './internal-routes.js'
export type { InternalRouteName } from './internal-routes.js'

const OpenId = Type.String({ minLength: 1, maxLength: 64 })
/** unix seconds, as WeChat's CreateTime; at most 9999-12-31T23:59:59Z, so its milliseconds stay exact */
const EventTime = Type.Integer({ minimum: 0, maximum: 253_402_300_799 })
/** Fen or credits: a positive integer JavaScript holds exactly (1e20 is an integer to JSON Schema too). */
const PositiveAmount = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
const IsoTime = Type.String({ format: 'date-time' })
const NullableIsoTime = Type.Union([IsoTime, Type.Null()])

// ---- bodies ----

export const CreateOrUpdateUserBody = Type.Object(
  {
    openid: OpenId,
    unionid: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    subscribed: Type.Optional(Type.Boolean()),
    event_time: Type.Optional(EventTime),
  },
  { additionalProperties: false },
)
export type CreateOrUpdateUserBody = Static<typeof CreateOrUpdateUserBody>

/** The QR events that bind a scene to a user. */
export const BindingEvent = Type.Union([Type.Literal('subscribe'), Type.Literal('SCAN')])
export type BindingEvent = Static<typeof BindingEvent>

export const BindingBody = Type.Object(
  {
    scene_str: Type.String({ minLength: 1, maxLength: 64 }),
    openid: OpenId,
    event: BindingEvent,
    event_time: EventTime,
  },
  { additionalProperties: false },
)
export type BindingBody = Static<typeof BindingBody>

export const OrderUpdateBody = Type.Object(
  {
    out_trade_no: Type.String({ minLength: 1, maxLength: 32 }),
    transaction_id: Type.String({ minLength: 1, maxLength: 32 }),
    total_fee: PositiveAmount,
    trade_state: Type.String({ minLength: 1, maxLength: 32 }),
    paid_at: IsoTime,
    openid: Type.Optional(OpenId),
  },
  { additionalProperties: false },
)
export type OrderUpdateBody = Static<typeof OrderUpdateBody>

export const CreditsConsumeBody = Type.Object(
  {
    openid: OpenId,
    amount: PositiveAmount,
    reason: Type.String({ minLength: 1, maxLength: 64 }),
    idempotency_key: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
)
export type CreditsConsumeBody = Static<typeof CreditsConsumeBody>

// ---- the objects the responses carry ----

export const InternalUser = Type.Object({
  openid: OpenId,
  unionid: Type.Union([Type.String(), Type.Null()]),
  subscribed: Type.Boolean(),
  credits: Type.Integer(),
  is_member: Type.Boolean(),
  member_expires_at: NullableIsoTime,
})
export type InternalUser = Static<typeof InternalUser>

export const InternalBinding = Type.Object({
  scene_str: Type.String(),
  openid: OpenId,
  status: Type.String(),
  event_time: Type.Integer(),
})
export type InternalBinding = Static<typeof InternalBinding>

export const OrderStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('paid'),
  Type.Literal('closed'),
])
export type OrderStatus = Static<typeof OrderStatus>

export const InternalOrder = Type.Object({
  out_trade_no: Type.String(),
  product_id: Type.String(),
  amount_fen: Type.Integer(),
  status: OrderStatus,
  transaction_id: Type.Union([Type.String(), Type.Null()]),
  created_at: IsoTime,
  expires_at: IsoTime,
  paid_at: NullableIsoTime,
})
export type InternalOrder = Static<typeof InternalOrder>

export const CreditRecord = Type.Object({
  id: Type.Integer(),
  change: Type.Integer(),
  balance_after: Type.Integer(),
  reason: Type.String(),
  ref: Type.Union([Type.String(), Type.Null()]),
  created_at: IsoTime,
})
export type CreditRecord = Static<typeof CreditRecord>

// ---- responses (200) ----

export const CreateOrUpdateUserResponse = Type.Object({
  user: InternalUser,
  created: Type.Boolean(),
})
export type CreateOrUpdateUserResponse = Static<typeof CreateOrUpdateUserResponse>

export const BindingResponse = Type.Object({ binding: InternalBinding })
export type BindingResponse = Static<typeof BindingResponse>

export const OrderUpdateResponse = Type.Object({ order: InternalOrder, changed: Type.Boolean() })
export type OrderUpdateResponse = Static<typeof OrderUpdateResponse>

export const CreditsConsumeResponse = Type.Object({
  credits: Type.Integer(),
  record: CreditRecord,
})
export type CreditsConsumeResponse = Static<typeof CreditsConsumeResponse>

/** Every JSON error (CONTRACT "Errors"). */
export const ErrorResponse = Type.Object({
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Unknown()),
})
export type ErrorResponse = Static<typeof ErrorResponse>
