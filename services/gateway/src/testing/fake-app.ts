// A misbehaving stand-in for app in gateway tests: records signed internal calls, answers as told (slow, 500, reset).
import { createServer } from 'node:http'
import type { IncomingHttpHeaders, Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { verifyInternalRequest } from '@wxgate/internal-api'

export interface FakeAppCall {
  method: string
  path: string
  body: unknown
  headers: IncomingHttpHeaders
  /** False when the X-Internal-* signature did not verify with the test secret. */
  signed: boolean
}

/** How to answer: a status (with a JSON body), after a delay; or `reset` = drop the connection (app down). */
export type Behaviour = { status: number; body?: unknown; delayMs?: number } | 'reset'

export interface FakeApp {
  readonly url: string
  readonly calls: FakeAppCall[]
  /** Calls to `path` (e.g. `/api/v1/internal/binding/update`), in arrival order. */
  callsTo(path: string): FakeAppCall[]
  /** Sets how `path` is answered from now on (a function decides per call). */
  on(path: string, behaviour: Behaviour | ((call: FakeAppCall) => Behaviour)): void
  /** Sets how every path without its own behaviour is answered. */
  onAny(behaviour: Behaviour | ((call: FakeAppCall) => Behaviour)): void
  /** Forgets the calls and every behaviour: all paths answer 200 `{}` again. */
  reset(): void
  /** Resolves once `count` calls to `path` have arrived. */
  waitFor(path: string, count: number, timeoutMs?: number): Promise<FakeAppCall[]>
  close(): Promise<void>
}

export async function startFakeApp(options: { secret: string }): Promise<FakeApp> {
  const calls: FakeAppCall[] = []
  const behaviours = new Map<string, Behaviour | ((call: FakeAppCall) => Behaviour)>()
  let fallback: Behaviour | ((call: FakeAppCall) => Behaviour) = { status: 200, body: {} }
  const waiters = new Set<() => void>()
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const path = req.url ?? '/'
      let signed = true
      try {
        verifyInternalRequest({
          secret: options.secret,
          method: req.method ?? 'GET',
          pathAndQuery: path,
          body: raw,
          headers: req.headers,
        })
      } catch {
        signed = false
      }
      let body: unknown = raw.toString('utf8')
      if (raw.length > 0 && /json/.test(req.headers['content-type'] ?? '')) {
        body = JSON.parse(raw.toString('utf8')) as unknown
      }
      const call: FakeAppCall = {
        method: req.method ?? 'GET',
        path,
        body,
        headers: req.headers,
        signed,
      }
      calls.push(call)
      for (const wake of waiters) wake()
      const chosen = behaviours.get(path) ?? fallback
      const behaviour = typeof chosen === 'function' ? chosen(call) : chosen
      if (behaviour === 'reset') {
        req.socket.destroy()
        return
      }
      const send = (): void => {
        res.writeHead(behaviour.status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(behaviour.body ?? {}))
      }
      if (behaviour.delayMs === undefined) send()
      else {
        const timer = setTimeout(() => {
          timers.delete(timer)
          send()
        }, behaviour.delayMs)
        timers.add(timer)
      }
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  const callsTo = (path: string): FakeAppCall[] => calls.filter((c) => c.path === path)

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    callsTo,
    on(path, behaviour) {
      behaviours.set(path, behaviour)
    },
    onAny(behaviour) {
      fallback = behaviour
    },
    reset() {
      calls.length = 0
      behaviours.clear()
      fallback = { status: 200, body: {} }
    },
    waitFor(path, count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = callsTo(path)
          if (found.length < count) return false
          waiters.delete(wake)
          clearTimeout(timer)
          resolve(found)
          return true
        }
        const wake = (): void => {
          check()
        }
        const timer = setTimeout(() => {
          waiters.delete(wake)
          reject(new Error(`expected ${count} calls to ${path}, got ${callsTo(path).length}`))
        }, timeoutMs)
        waiters.add(wake)
        check()
      })
    },
    async close() {
      for (const timer of timers) clearTimeout(timer)
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
