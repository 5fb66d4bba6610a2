import assert from 'node:assert/strict'
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'
import { test } from 'node:test'
import { Agent } from 'undici'
import { WeChatTransportError } from '../errors.js'
import { exchange } from './exchange.js'

/** A TCP server that accepts and never speaks: a TLS handshake with it never completes. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createTcpServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

test('counts undici’s own connect timeout as a timeout, and says which one', async () => {
  const silent = await silentServer()
  const dispatcher = new Agent({ connect: { timeout: 100 } })
  try {
    await assert.rejects(
      exchange('/pay/orderquery', {
        peer: 'WeChat Pay',
        url: `https://127.0.0.1:${silent.port}/pay/orderquery`,
        method: 'POST',
        headers: {},
        body: '<xml/>',
        timeoutMs: 5000,
        maxBytes: 1024,
        dispatcher,
      }),
      (error: unknown) => {
        assert.ok(error instanceof WeChatTransportError)
        assert.equal(error.timedOut, true)
        assert.equal(
          error.message,
          '/pay/orderquery: WeChat Pay timed out (UND_ERR_CONNECT_TIMEOUT)',
        )
        return true
      },
    )
  } finally {
    await dispatcher.close()
    await silent.close()
  }
})
