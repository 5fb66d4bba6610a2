// Ports of the services behind `npm start`'s front door: the contract's defaults while they are free.
import { createServer } from 'node:net'

/** `port` on 127.0.0.1 if nothing listens there (0: any free port), else undefined. */
export function probePort(port: number): Promise<number | undefined> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer()
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' && port !== 0) resolvePort(undefined)
      else reject(error)
    })
    probe.listen(port, '127.0.0.1', () => {
      const address = probe.address()
      const bound = typeof address === 'object' && address !== null ? address.port : 0
      probe.close(() => resolvePort(bound))
    })
  })
}

/**
 * `preferred` (app's 8000, the gateway's 8001, so that they sit where their docs say) when nothing
 * listens on it, else any free port: `npm start` must start beside whatever else runs here.
 */
export async function pickPort(preferred: number | undefined): Promise<number> {
  const free = preferred === undefined ? undefined : await probePort(preferred)
  const any = free ?? (await probePort(0))
  if (any === undefined) throw new Error('no free port on 127.0.0.1')
  return any
}
