// Test support: a stand-in for the gateway's push URL that records what WeChat (the simulator) sent.
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'

export interface ReceivedPush {
  query: Record<string, string>
  body: string
}

export interface GatewayStub {
  url: string
  received: ReceivedPush[]
  /** Decides the answer to each push (default: 200 `success`). */
  respond: (
    push: ReceivedPush,
  ) => Promise<{ status?: number; body: string }> | { status?: number; body: string }
  close(): Promise<void>
}

export async function startGatewayStub(path = '/api/v1/auth/wechat/verify'): Promise<GatewayStub> {
  const app: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    done(null, body)
  })
  const stub: GatewayStub = {
    url: '',
    received: [],
    respond: () => ({ body: 'success' }),
    close: () => app.close(),
  }
  app.post(path, async (request, reply) => {
    const push: ReceivedPush = {
      query: request.query as Record<string, string>,
      body: typeof request.body === 'string' ? request.body : '',
    }
    stub.received.push(push)
    const answer = await stub.respond(push)
    return reply
      .code(answer.status ?? 200)
      .type('text/xml')
      .send(answer.body)
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('stub bound no port')
  stub.url = `http://127.0.0.1:${address.port}${path}`
  return stub
}
