// Test support shared by the services' tests (`@wxgate/service-kit/testing`; never imported by a service).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import type { Socket } from 'node:net'
import { listErrorCodes } from './errors.js'

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

/** The `| code | status | meaning |` rows of one `## Section` of docs/errors.md (up to the next section). */
export function documentedErrorCodes(section: string): Map<string, number> {
  const text = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8')
  const start = text.indexOf(`## ${section}`)
  if (start === -1) throw new Error(`docs/errors.md has no "## ${section}" section`)
  const end = text.indexOf('\n## ', start + 1)
  const rows = new Map<string, number>()
  for (const line of text.slice(start, end === -1 ? undefined : end).split('\n')) {
    const match = /^\|\s*`([A-Z0-9_]+)`\s*\|\s*(\d{3})\s*\|/.exec(line)
    if (match?.[1] !== undefined) rows.set(match[1], Number(match[2]))
  }
  return rows
}

/**
 * Checks a registry against its section of docs/errors.md both ways: every code documented with its
 * status, and no documented code the registry lacks (a retired code must leave the page too).
 */
export function assertErrorsDocumented(
  registry: Readonly<Record<string, unknown>>,
  section: string,
): void {
  const documented = documentedErrorCodes(section)
  const registered = listErrorCodes(registry)
  assert.ok(registered.length > 0, 'an empty registry')
  for (const { code, statusCode } of registered) {
    assert.equal(
      documented.get(code),
      statusCode,
      `${code} (${statusCode}) is not under "## ${section}"`,
    )
  }
  const known = new Set(registered.map((e) => e.code))
  for (const code of documented.keys()) {
    assert.ok(
      known.has(code),
      `docs/errors.md lists ${code} under "## ${section}", which the registry lacks`,
    )
  }
}
