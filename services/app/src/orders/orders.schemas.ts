// TypeBox schemas of the order endpoints (public and internal).
import { Type } from 'typebox'

const IsoTime = Type.String({ format: 'date-time' })
const NullableIsoTime = Type.Union([IsoTime, Type.Null()])
// Any order number a client names is looked up, and one that is not the caller's is 404, whatever it
// looks like: only the length is bounded, as a path parameter is (WeChat's own are 6–32 characters).
const OutTradeNo = Type.String({ minLength: 1, maxLength: 1024 })
export const OrderStatusSchema = Type.Union([
  Type.Literal('pending'),
  Type.Literal('paid'),
  Type.Literal('closed'),
])
// One string enum rather than a union of literals: nested in a nullable union, the latter comes out of
// the OpenAPI document as an object type.
const TradeTypeSchema = Type.Unsafe<'JSAPI' | 'NATIVE' | 'MWEB'>({
  type: 'string',
  enum: ['JSAPI', 'NATIVE', 'MWEB'],
})

export const OrderSchema = Type.Object({
  out_trade_no: Type.String(),
  product_id: Type.String(),
  product_name: Type.String(),
  amount_fen: Type.Integer(),
  credits: Type.Integer(),
  member_days: Type.Integer(),
  status: OrderStatusSchema,
  trade_type: Type.Union([TradeTypeSchema, Type.Null()]),
  transaction_id: Type.Union([Type.String(), Type.Null()]),
  created_at: IsoTime,
  expires_at: IsoTime,
  paid_at: NullableIsoTime,
  closed_at: NullableIsoTime,
})

export const CreateOrderBody = Type.Object(
  { product_id: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
)

export const UnifiedOrderBody = Type.Object(
  { out_trade_no: OutTradeNo, trade_type: TradeTypeSchema },
  { additionalProperties: false },
)

export const UnifiedOrderResponse = Type.Object({
  trade_type: TradeTypeSchema,
  prepay_id: Type.String(),
  pay_params: Type.Optional(
    Type.Object({
      appId: Type.String(),
      timeStamp: Type.String(),
      nonceStr: Type.String(),
      package: Type.String(),
      signType: Type.String(),
      paySign: Type.String(),
    }),
  ),
  code_url: Type.Optional(Type.String()),
  mweb_url: Type.Optional(Type.String()),
})

export const OrdersQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
    page_size: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    status: Type.Optional(OrderStatusSchema),
  },
  { additionalProperties: false },
)

export const OrdersResponse = Type.Object({
  orders: Type.Array(OrderSchema),
  total: Type.Integer(),
  page: Type.Integer(),
  page_size: Type.Integer(),
})

export const OrderParams = Type.Object({ out_trade_no: OutTradeNo })
