// Tests for runServer in a child process: drain on SIGTERM, forced exit on a later signal.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { request } from 'node:http'
import { createInterface } from 'node:readline'
import { describe, it } from 'node:test'

// A real process: signals and exit codes cannot be observed through inject().
const script = `
  import { buildService, runServer } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)}
  const app = buildService({ name: 'signal-test' })
  app.get('/slow', async (request) => {
    const ms = Number(request.query.ms)
    process.stdout.write('received\\n')
    await new Promise((resolve) => setTimeout(resolve, ms))
    return { done: true }
  })
  const address = await runServer(app, { host: '127.0.0.1', port: 0 })
  process.stdout.write(address + '\\n')
`

interface Child {
  child: ChildProcess
  address: string
  /** The child's next stdout line: its address first, then `received` as each request arrives. */
  nextLine: () => Promise<string>
}

async function startChild(): Promise<Child> {
  const child = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const nextLine = async (): Promise<string> => {
    const line = await lines.next()
    if (line.done === true) throw new Error('the child closed its stdout')
    return line.value
  }
  return { child, address: (await nextLine()).trim(), nextLine }
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
      .on('error', reject)
      .end()
  })
}

describe('runServer', () => {
  // SIGTERM from process managers; SIGHUP from a closed terminal, which hangs up the whole process group.
  for (const stopSignal of ['SIGTERM', 'SIGHUP'] as const) {
    it(`drains an in-flight request on ${stopSignal} and exits 0`, async () => {
      const { child, address, nextLine } = await startChild()
      assert.match(address, /^http:\/\/127\.0\.0\.1:\d+$/)
      const exited = once(child, 'exit')
      const inFlight = get(`${address}/slow?ms=400`)
      // Signalled only once the handler runs, however slowly a loaded machine got the request there.
      assert.equal(await nextLine(), 'received')
      child.kill(stopSignal)
      const answer = await inFlight
      assert.equal(answer.status, 200)
      assert.deepEqual(JSON.parse(answer.body), { done: true })
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null]
      assert.deepEqual([code, signal], [0, null])
    })
  }

  it('drains a request on a keep-alive connection (fetch, nginx upstreams) and exits 0 at once', async () => {
    const { child, address, nextLine } = await startChild()
    const exited = once(child, 'exit')
    // fetch keeps its socket open after the answer: the drain must not wait for it to time out.
    const inFlight = fetch(`${address}/slow?ms=400`)
    assert.equal(await nextLine(), 'received')
    const signalled = Date.now()
    child.kill('SIGTERM')
    const answer = await inFlight
    assert.equal(answer.status, 200)
    assert.equal(answer.headers.get('connection'), 'close', 'a closing server says so')
    assert.deepEqual(await answer.json(), { done: true })
    const [code] = (await exited) as [number | null]
    assert.equal(code, 0)
    assert.ok(Date.now() - signalled < 5000, 'not held until the 10 s drain timeout')
  })

  it('drains when one stop arrives twice at once (Ctrl-C: from the kernel and from npm)', async () => {
    const { child, address, nextLine } = await startChild()
    const exited = once(child, 'exit')
    const inFlight = get(`${address}/slow?ms=400`)
    assert.equal(await nextLine(), 'received')
    child.kill('SIGINT')
    // Apart enough to be two deliveries (back to back, the kernel merges them into one).
    await new Promise((resolve) => setTimeout(resolve, 50))
    child.kill('SIGINT')
    const answer = await inFlight
    assert.equal(answer.status, 200)
    const [code] = (await exited) as [number | null]
    assert.equal(code, 0)
  })

  it('exits at once with 1 on a second signal a while after the first', async () => {
    const { child, address, nextLine } = await startChild()
    const exited = once(child, 'exit')
    get(`${address}/slow?ms=10000`).catch(() => undefined)
    assert.equal(await nextLine(), 'received')
    const started = Date.now()
    child.kill('SIGINT')
    await new Promise((resolve) => setTimeout(resolve, 1200))
    child.kill('SIGINT')
    const [code] = (await exited) as [number | null]
    assert.equal(code, 1)
    assert.ok(Date.now() - started < 5000)
  })
})
