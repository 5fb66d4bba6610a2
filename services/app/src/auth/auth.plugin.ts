// The `authenticate` hook: a Bearer session token → `request.session`, or 401 UNAUTHENTICATED.
// Routes run it onRequest, so a caller without credentials gets 401 before its body or query is
// read or validated (a 400 would tell an anonymous caller about the route's input).
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppErrors } from '../errors.js'
import type { Session, SessionIssuer } from './session.js'

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest) => Promise<void>
  }
  interface FastifyRequest {
    session: Session
  }
}

const BEARER = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i

export const authPlugin = fp<{ sessions: SessionIssuer }>(
  (app, { sessions }, done) => {
    app.decorateRequest('session', null as unknown as Session)
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const match = BEARER.exec(request.headers.authorization ?? '')
      if (match?.[1] === undefined) throw new AppErrors.UNAUTHENTICATED()
      try {
        request.session = await sessions.verify(match[1])
      } catch (error) {
        request.log.info({ err: error }, 'session token refused')
        throw new AppErrors.UNAUTHENTICATED({ cause: error })
      }
    })
    done()
  },
  { name: 'app-auth' },
)
