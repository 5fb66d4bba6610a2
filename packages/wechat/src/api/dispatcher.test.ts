import assert from 'node:assert/strict'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { connect } from 'node:net'
import { test } from 'node:test'
import { Agent, ProxyAgent } from 'undici'
import { createWeChatDispatcher } from './dispatcher.js'
import { startFakeWeChat } from './fake-wechat-server.js'
import { createWeChatTransport } from './transport.js'

/** A minimal forward proxy (CONNECT tunnels and absolute-URI requests) that counts what it carried. */
async function startProxy(): Promise<{ url: string; carried: string[]; close(): Promise<void> }> {
  const carried: string[] = []
  const sockets = new Set<Socket>()
  const server = createServer((req, res) => {
    carried.push(`${req.method} ${req.url}`)
    const target = new URL(req.url ?? '')
    const upstream = httpRequest(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    req.pipe(upstream)
  })
  server.on('connect', (req, client: Socket, head: Buffer) => {
    carried.push(`CONNECT ${req.url}`)
    const [host, port] = (req.url ?? '').split(':')
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    sockets.add(client).add(upstream)
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    carried,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

test('builds a direct Agent when no proxy is configured', async () => {
  const direct = createWeChatDispatcher()
  const empty = createWeChatDispatcher({ proxyUrl: '', connectTimeoutMs: 1000 })
  try {
    assert.ok(direct instanceof Agent)
    assert.ok(empty instanceof Agent)
    assert.ok(!(direct instanceof ProxyAgent))
  } finally {
    await Promise.all([direct.close(), empty.close()])
  }
})

test('builds a ProxyAgent when WECHAT_HTTP_PROXY is set', async () => {
  const proxied = createWeChatDispatcher({ proxyUrl: 'http://user:pw@127.0.0.1:3128' })
  try {
    assert.ok(proxied instanceof ProxyAgent)
  } finally {
    await proxied.close()
  }
})

test('sends WeChat calls through the proxy when one is configured', async () => {
  const fake = await startFakeWeChat(() => ({ json: { menu: { button: [] } } }))
  const proxy = await startProxy()
  const dispatcher = createWeChatDispatcher({ proxyUrl: proxy.url, connectTimeoutMs: 1000 })
  try {
    const transport = createWeChatTransport({ baseUrl: fake.baseUrl, dispatcher })
    assert.deepEqual(await transport.request('/cgi-bin/menu/get'), { menu: { button: [] } })
    assert.equal(fake.calls('/cgi-bin/menu/get').length, 1)
    assert.equal(proxy.carried.length, 1)
    assert.match(proxy.carried[0] ?? '', new RegExp(new URL(fake.baseUrl).port))
  } finally {
    await dispatcher.close()
    await proxy.close()
    await fake.close()
  }
})
