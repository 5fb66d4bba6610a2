// Pair 1 baseline: a bare node:http server doing the gateway's GET …/verify check (the runtime's limit).
import { createServer } from 'node:http'
import { verifyUrlSignature } from '@wxgate/wechat'

const token = process.env.WECHAT_TOKEN ?? ''
const port = Number(process.env.PORT)
if (token === '' || !Number.isInteger(port)) throw new Error('WECHAT_TOKEN and PORT are required')

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (url.pathname === '/healthz') {
    res.end('ok')
    return
  }
  const q = url.searchParams
  const signature = q.get('signature')
  const timestamp = q.get('timestamp')
  const nonce = q.get('nonce')
  const echostr = q.get('echostr')
  if (
    signature === null ||
    timestamp === null ||
    nonce === null ||
    echostr === null ||
    !verifyUrlSignature({ token, timestamp, nonce, signature })
  ) {
    res.writeHead(401).end()
    return
  }
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(echostr)
})
server.keepAliveTimeout = 60_000
server.listen(port, '127.0.0.1')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
