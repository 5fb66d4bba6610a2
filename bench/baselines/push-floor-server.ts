// Pair 2 floor: node:http carrying a safe-mode push with none of the work. It reads the body as the
// gateway and the peer do and answers every push with one encrypted reply made at start (the size of a
// real one), so its cost per request is what any node:http server pays for this exchange. No checks:
// a benchmark reference, never a server to expose.
import { createServer } from 'node:http'
import { createMessageCrypto, renderReply, textReply } from '@wxgate/wechat'

const port = Number(process.env.PORT)
const config = {
  token: process.env.WECHAT_TOKEN ?? '',
  appId: process.env.WECHAT_APPID ?? '',
  encodingAesKey: process.env.WECHAT_ENCODING_AES_KEY ?? '',
}
const replyText = process.env.REPLY_TEXT ?? 'Thanks for your message.'
if (!Number.isInteger(port) || Object.values(config).some((v) => v === '')) {
  throw new Error('PORT, WECHAT_TOKEN, WECHAT_APPID and WECHAT_ENCODING_AES_KEY are required')
}

const nowS = Math.floor(Date.now() / 1000)
const reply = Buffer.from(
  createMessageCrypto(config).encryptReply(
    renderReply(
      textReply({ toUser: 'o-floor', fromUser: 'gh_floor', content: replyText, createTime: nowS }),
    ),
    { timestamp: String(nowS), nonce: 'floornonce' },
  ),
)
const replyHeaders = [
  'content-type',
  'application/xml; charset=utf-8',
  'content-length',
  String(reply.length),
]

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.end('ok')
    return
  }
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    // Decoded as the others decode it, so the floor keeps that cost too.
    const body = Buffer.concat(chunks).toString('utf8')
    if (body === '') {
      res.writeHead(400).end()
      return
    }
    res.writeHead(200, replyHeaders).end(reply)
  })
})
server.keepAliveTimeout = 60_000
server.listen(port, '127.0.0.1')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
