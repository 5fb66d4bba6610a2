// User session tokens: HS256 JWTs (jose) carrying the user id and openid.
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose'

export interface Session {
  userId: number
  openId: string
}

const ISSUER = 'wxgate-app'
const AUDIENCE = 'wxgate-user'
/** A user id as `sub`: decimal, no sign, no leading zero, within Number's safe integers. */
const USER_ID = /^[1-9][0-9]{0,14}$/

/** Why a token was refused; the edge answers one generic 401 and logs the code. */
export class SessionTokenError extends Error {
  override readonly name = 'SessionTokenError'
  readonly code: 'TOKEN_EXPIRED' | 'TOKEN_INVALID'

  constructor(code: 'TOKEN_EXPIRED' | 'TOKEN_INVALID', options: { cause?: unknown } = {}) {
    super(code === 'TOKEN_EXPIRED' ? 'session token expired' : 'session token invalid', options)
    this.code = code
  }
}

export interface SessionIssuer {
  issue(session: Session): Promise<{ token: string; expiresIn: number }>
  verify(token: string): Promise<Session>
}

export function createSessionIssuer({
  secret,
  ttlS = 7 * 86_400,
  now = Date.now,
}: {
  secret: string
  ttlS?: number
  now?: () => number
}): SessionIssuer {
  if (secret === '') throw new RangeError('the session secret must not be empty')
  // Imported once here: jose re-imports a raw Uint8Array key on every sign and verify (STYLE §9.4).
  const key = crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  )
  return {
    async issue({ userId, openId }) {
      const iat = Math.floor(now() / 1000)
      const token = await new SignJWT({ oid: openId })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(String(userId))
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlS)
        .sign(await key)
      return { token, expiresIn: ttlS }
    },

    async verify(token) {
      const hmacKey = await key
      let payload
      try {
        ;({ payload } = await jwtVerify(token, hmacKey, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          // Every token issue() makes has both; one without exp would be valid for ever.
          requiredClaims: ['exp', 'iat'],
          currentDate: new Date(now()),
        }))
      } catch (error) {
        const code = error instanceof joseErrors.JWTExpired ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID'
        throw new SessionTokenError(code, { cause: error })
      }
      // Exactly as issue() writes it: Number() would also take "1.0", "0x1" or " 1".
      const sub = payload.sub
      if (sub === undefined || !USER_ID.test(sub) || typeof payload.oid !== 'string') {
        throw new SessionTokenError('TOKEN_INVALID')
      }
      return { userId: Number(sub), openId: payload.oid }
    },
  }
}
