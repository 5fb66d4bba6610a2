// Test support: a node:http server on 127.0.0.1:0 that plays WeChat's JSON APIs and records calls.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeWeChatRequest {
  method: string
  /** Path without the query, e.g. `/cgi-bin/menu/get`. */
  path: string
  query: URLSearchParams
  /** Parsed JSON body, or undefined when there was none. */
  body: unknown
}

export interface FakeWeChatAnswer {
  status?: number
  /** Serialized as JSON. */
  json?: unknown
  /** Sent as-is instead of `json`. */
  raw?: string
  /** Wait this long before answering (timeouts). */
  delayMs?: number
}

export type FakeWeChatHandler = (
  request: FakeWeChatRequest,
) => FakeWeChatAnswer | Promise<FakeWeChatAnswer>

export interface FakeWeChat {
  baseUrl: string
  requests: FakeWeChatRequest[]
  /** Requests to one path. */
  calls(path: string): FakeWeChatRequest[]
  close(): Promise<void>
}

export async function startFakeWeChat(handler: FakeWeChatHandler): Promise<FakeWeChat> {
  const requests: FakeWeChatRequest[] = []
  const timers = new Set<NodeJS.Timeout>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      const text = Buffer.concat(chunks).toString('utf8')
      const request: FakeWeChatRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        body: text === '' ? undefined : (JSON.parse(text) as unknown),
      }
      requests.push(request)
      Promise.resolve(handler(request))
        .then((answer) => {
          const send = (): void => {
            res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' })
            res.end(answer.raw ?? JSON.stringify(answer.json ?? {}))
          }
          if (answer.delayMs === undefined) {
            send()
          } else {
            const timer = setTimeout(() => {
              timers.delete(timer)
              send()
            }, answer.delayMs)
            timers.add(timer)
          }
        })
        .catch((error: unknown) => {
          res.writeHead(500)
          res.end(String(error))
        })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    calls: (path) => requests.filter((r) => r.path === path),
    close: async () => {
      for (const timer of timers) clearTimeout(timer)
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      )
    },
  }
}
