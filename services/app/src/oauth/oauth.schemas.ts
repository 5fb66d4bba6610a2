// TypeBox schemas of the OAuth routes (they validate, type the handlers and feed /openapi.json).
import { Type } from 'typebox'
import { UserSchema } from '../users/users.schemas.js'

export const AuthorizeUrlQuery = Type.Object({
  redirect_uri: Type.String({
    minLength: 1,
    maxLength: 1024,
    description: 'Absolute http(s) URL WeChat sends the user back to (on the OAuth domain)',
  }),
  scope: Type.Union([Type.Literal('snsapi_base'), Type.Literal('snsapi_userinfo')], {
    description: 'snsapi_base: silent, openid only; snsapi_userinfo: consent page, with profile',
  }),
})

export const AuthorizeUrlResponse = Type.Object({
  url: Type.String({ description: 'Open this in the WeChat browser' }),
  state: Type.String({
    description: 'One-time CSRF value (10 minutes); pass it back with the code',
  }),
})

export const OAuthLoginQuery = Type.Object({
  code: Type.String({
    minLength: 1,
    maxLength: 512,
    description: 'The code WeChat redirected with',
  }),
  state: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: '^[A-Za-z0-9]+$',
      description: 'The state from authorize-url; checked and spent when given',
    }),
  ),
})

export const LoginResponse = Type.Object({
  token: Type.String({ description: 'Bearer session token' }),
  expires_in: Type.Integer({ description: 'Seconds until the token expires' }),
  user: UserSchema,
})
