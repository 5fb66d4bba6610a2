// The `authenticate` hook: a Bearer session token → `request.session` and `request.user`, or 401 UNAUTHENTICATED.
// Routes run it onRequest, so a caller without credentials gets 401 before its body or query is
// read or validated (a 400 would tell an anonymous caller about the route's input).
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppErrors } from '../errors.js'
import type { UserRow } from '../users/users.table.js'
import type { Session, SessionIssuer } from './session.js'

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest) => Promise<void>
  }
  interface FastifyRequest {
    session: Session
    /** The session's user as stored when the request was authenticated. */
    user: UserRow
  }
}

const BEARER = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i

export interface AuthPluginOptions {
  sessions: SessionIssuer
  users: { findById(id: number): Promise<UserRow | undefined> }
}

export const authPlugin = fp<AuthPluginOptions>(
  (app, { sessions, users }, done) => {
    app.decorateRequest('session', null as unknown as Session)
    app.decorateRequest('user', null as unknown as UserRow)
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const match = BEARER.exec(request.headers.authorization ?? '')
      if (match?.[1] === undefined) throw new AppErrors.UNAUTHENTICATED()
      let session: Session
      try {
        session = await sessions.verify(match[1])
      } catch (error) {
        request.log.info({ err: error }, 'session token refused')
        throw new AppErrors.UNAUTHENTICATED({ cause: error })
      }
      // A token outlives its user when the database is wiped or restored and JWT_SECRET kept: its id may be
      // gone, or name someone else by now (whose orders it would list and buy for). The openid says which.
      const user = await users.findById(session.userId)
      if (user?.openid !== session.openId) {
        request.log.info({ userId: session.userId }, 'session token for a user no longer stored')
        throw new AppErrors.UNAUTHENTICATED()
      }
      request.session = session
      request.user = user
    })
    done()
  },
  { name: 'app-auth' },
)
