// One gate for every cgi-bin/sns call: method, access_token, queued faults, JSON body, and the record of the call.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { SimContext } from '../context.js'
import type { ApiErrorBody } from './api-error.js'
import { apiError } from './api-error.js'
import type { Faults } from './faults.js'
import type { TokenStore } from './token.js'

export type Query = Record<string, string>

export interface ApiRouteDeps {
  ctx: SimContext
  faults: Faults
  tokens: TokenStore
}

export interface ApiRouteSpec {
  api: string
  method: 'GET' | 'POST'
  /** Check the global access_token (`?access_token=`); sns calls check their own web token instead. */
  token: boolean
  handler: (input: { query: Query; body: unknown }) => Record<string, unknown> | ApiErrorBody
}

/** Fastify gives repeated query keys as arrays; WeChat reads the first. */
export function firstValues(raw: unknown): Query {
  const out: Query = {}
  if (raw === null || typeof raw !== 'object') return out
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const first: unknown = Array.isArray(value) ? value[0] : value
    if (typeof first === 'string') out[key] = first
  }
  return out
}

export function registerApiRoute(
  app: FastifyInstance,
  deps: ApiRouteDeps,
  spec: ApiRouteSpec,
): void {
  const { ctx, faults, tokens } = deps
  app.route({
    method: ['GET', 'POST'],
    url: spec.api,
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const query = firstValues(request.query)
      const text = typeof request.body === 'string' ? request.body : ''
      let body: unknown = text === '' ? undefined : text
      const answer = ((): Record<string, unknown> | ApiErrorBody => {
        if (request.method !== spec.method) {
          return apiError(ctx, spec.method === 'GET' ? 43001 : 43002)
        }
        if (spec.token) {
          const check = tokens.check(query.access_token)
          if (check !== 0) return apiError(ctx, check)
        }
        const fault = faults.take(spec.api)
        if (fault !== undefined) return apiError(ctx, typeof fault === 'number' ? fault : -1)
        if (spec.method === 'POST') {
          if (text.trim() === '') return apiError(ctx, 44002)
          try {
            body = JSON.parse(text)
          } catch {
            // WeChat answers malformed JSON with 47001 rather than an HTTP error.
            return apiError(ctx, 47001)
          }
        }
        return spec.handler({ query, body })
      })()
      const errcode = typeof answer.errcode === 'number' ? answer.errcode : 0
      ctx.records.apiCalls.push({
        api: spec.api,
        method: request.method,
        query,
        body,
        at: ctx.now(),
        errcode,
      })
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(answer))
    },
  })
}
