// Test support shared by the services' tests (`@wxgate/service-kit/testing`; never imported by a service).
import { createServer } from 'node:net'
import type { Socket } from 'node:net'

/** A loopback port nothing listens on: a dependency (Redis, MySQL) that is "down" without touching the real one. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * A loopback port that accepts connections and never answers: a dependency that stalls (a hung Redis, a
 * network that drops replies) rather than refusing. `close()` drops the held sockets.
 */
export async function stalledPort(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
