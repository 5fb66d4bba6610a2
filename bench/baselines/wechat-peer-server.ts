// Pair 2 peer: the `wechat` npm package (node-webot) middleware on node:http, answering a text with an encrypted text.
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'

type Next = (error?: unknown) => void
type Middleware = (
  req: IncomingMessage & { query: object },
  res: ServerResponse,
  next: Next,
) => void
interface WeChatPeer {
  (config: object): {
    text(handler: (message: object, req: unknown, res: { reply(text: string): void }) => void): {
      middlewarify(): Middleware
    }
  }
}

// `wechat` is CommonJS without types; it is the peer under test, loaded as a Node user would.
const wechat = createRequire(import.meta.url)('wechat') as WeChatPeer

const port = Number(process.env.PORT)
const config = {
  token: process.env.WECHAT_TOKEN,
  appid: process.env.WECHAT_APPID,
  encodingAESKey: process.env.WECHAT_ENCODING_AES_KEY,
}
const replyText = process.env.REPLY_TEXT ?? 'Thanks for your message.'
if (!Number.isInteger(port) || Object.values(config).some((v) => v === undefined || v === '')) {
  throw new Error('PORT, WECHAT_TOKEN, WECHAT_APPID and WECHAT_ENCODING_AES_KEY are required')
}

const middleware = wechat(config)
  .text((_message, _req, res) => res.reply(replyText))
  .middlewarify()

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (url.pathname === '/healthz') {
    res.end('ok')
    return
  }
  // What express/connect's query parser would give the middleware.
  const request = Object.assign(req, { query: Object.fromEntries(url.searchParams) })
  middleware(request, res, (error?: unknown) => {
    res.writeHead(error === undefined ? 404 : 400).end()
  })
})
server.keepAliveTimeout = 60_000
server.listen(port, '127.0.0.1')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
