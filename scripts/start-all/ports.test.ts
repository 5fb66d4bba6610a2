import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import { describe, it } from 'node:test'
import { pickPort } from './ports.js'

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

function portOf(server: Server): number {
  const address = server.address()
  assert.ok(typeof address === 'object' && address !== null)
  return address.port
}

describe('pickPort', () => {
  it('takes the preferred port while nothing listens on it, any other when it is taken', async () => {
    // A port that was free a moment ago, then the same port held by a listener.
    const held = await listen(0)
    const port = portOf(held)
    try {
      const instead = await pickPort(port)
      assert.notEqual(instead, port)
      assert.ok(instead > 0)
    } finally {
      await new Promise((resolve) => held.close(resolve))
    }
    assert.equal(await pickPort(port), port)
  })

  it('takes any free port without a preference', async () => {
    const port = await pickPort(undefined)
    const server = await listen(port)
    server.close()
    assert.ok(port > 0)
  })
})
