// Tests of the wrk request files and of a real wrk run replaying them in order.
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runWrk, writeRequestFile } from './wrk.js'

describe('wrk request files', () => {
  let dir = ''
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wrk-test-'))
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('writes one line per request: method, path, headers, body', async () => {
    const file = join(dir, 'requests.txt')
    await writeRequestFile(file, [
      { method: 'GET', path: '/a?x=1' },
      { method: 'POST', path: '/b', headers: { 'Content-Type': 'text/xml' }, body: '<xml/>' },
    ])
    assert.equal(
      await readFile(file, 'utf8'),
      'GET\t/a?x=1\t\t\nPOST\t/b\tContent-Type:text/xml\t<xml/>\n',
    )
  })

  it('refuses a body that would split a line', async () => {
    await assert.rejects(
      writeRequestFile(join(dir, 'bad.txt'), [{ method: 'POST', path: '/', body: 'a\nb' }]),
      /tab or newline/,
    )
  })

  it('replays the requests in order with their headers and bodies, and reports the run', async () => {
    const seen: string[] = []
    const server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${String(req.headers['x-id'] ?? '')} ${body}`)
        res.writeHead(req.url === '/fail' ? 500 : 200).end('ok')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const file = join(dir, 'replay.txt')
      await writeRequestFile(file, [
        { method: 'GET', path: '/one', headers: { 'X-Id': 'a' } },
        { method: 'POST', path: '/two', headers: { 'X-Id': 'b' }, body: 'payload' },
        { method: 'GET', path: '/fail' },
      ])
      const result = await runWrk({
        origin: `http://127.0.0.1:${port}`,
        requestFile: file,
        connections: 1,
        durationS: 1,
      })
      // wrk asks the script for one request before the first send, so the replay starts one line in;
      // the order of the file is kept.
      const expected = ['GET /one a ', 'POST /two b payload', 'GET /fail  ']
      const start = expected.indexOf(seen[0] ?? '')
      assert.notEqual(start, -1)
      assert.deepEqual(
        seen.slice(0, 3),
        expected.map((_, i) => expected[(start + i) % expected.length]),
      )
      assert.ok(result.requests >= 3)
      assert.ok(result.non2xx >= 1)
      assert.ok(result.requestsPerS > 0)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
