// Test support shared by the services' tests (`@wxgate/service-kit/testing`; never imported by a service).
import { createServer } from 'node:net'

/** A loopback port nothing listens on: a dependency (Redis, MySQL) that is "down" without touching the real one. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
