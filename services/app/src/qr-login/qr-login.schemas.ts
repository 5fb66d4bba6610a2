// TypeBox schemas of the public QR login routes (the internal bodies are @wxgate/internal-api's).
import { Type } from 'typebox'
import { UserSchema } from '../users/users.schemas.js'

export const CreateQrCodeResponse = Type.Object({
  scene_str: Type.String({ description: 'Unguessable scene; poll check-follow with it' }),
  ticket: Type.String(),
  url: Type.String({ description: 'The content WeChat encodes in the QR image' }),
  qrcode_url: Type.String({ description: 'The QR image at WeChat (showqrcode)' }),
  expire_seconds: Type.Integer(),
  expires_at: Type.String({ format: 'date-time' }),
})

export const CheckFollowQuery = Type.Object({
  scene_str: Type.Optional(
    // Any scene is looked up (an unknown one is 404, however it looks); only the length is bounded.
    Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'A login scene: no auth. Without it, a Bearer token is required',
    }),
  ),
})

export const CheckFollowResponse = Type.Object({
  status: Type.Optional(
    Type.Union([Type.Literal('pending'), Type.Literal('scanned'), Type.Literal('expired')], {
      description: 'With scene_str only',
    }),
  ),
  subscribed: Type.Boolean(),
  token: Type.Optional(Type.String({ description: 'With status scanned: the session' })),
  expires_in: Type.Optional(Type.Integer()),
  user: Type.Optional(UserSchema),
})
