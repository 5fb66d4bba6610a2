// The ops routes: /healthz (process up) and /readyz (the registered dependency checks).
import type { FastifyInstance } from 'fastify'
import { serviceKitErrors } from './errors.js'
import type { ReadinessCheck, ReadinessCheckOptions } from './types.js'
import './types.js'

interface RegisteredCheck {
  name: string
  check: ReadinessCheck
  timeoutMs: number
}

const DEFAULT_CHECK_TIMEOUT_MS = 2000

async function runCheck({ check, timeoutMs }: RegisteredCheck): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    const result = await Promise.race([Promise.resolve().then(check), timeout])
    if (result === false) throw new Error('check returned false')
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Decorates `addReadinessCheck` and adds the routes on the root instance at build time, so a
 * service can register checks right after `buildService` without waiting for plugins to load.
 */
export function installOpsRoutes(app: FastifyInstance): void {
  const checks: RegisteredCheck[] = []

  app.decorate(
    'addReadinessCheck',
    (name: string, check: ReadinessCheck, options: ReadinessCheckOptions = {}) => {
      if (checks.some((c) => c.name === name)) {
        throw new Error(`readiness check ${name} is already registered`)
      }
      checks.push({ name, check, timeoutMs: options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS })
    },
  )

  app.get('/healthz', { logLevel: 'warn' }, () => ({ status: 'ok' }))

  app.get('/readyz', { logLevel: 'warn' }, async (request, reply) => {
    const results = await Promise.allSettled(checks.map(runCheck))
    const failed: string[] = []
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return
      const name = (checks[i] as RegisteredCheck).name
      failed.push(name)
      request.log.warn({ check: name, err: result.reason as unknown }, 'readiness check failed')
    })
    if (failed.length === 0) return { status: 'ready', checks: checks.map((c) => c.name) }
    const { NotReady } = serviceKitErrors
    // Only names go out: a failure reason may mention hosts or credentials; the log has it.
    return reply
      .code(NotReady.statusCode)
      .send({ code: NotReady.code, message: NotReady.message, details: { failed } })
  })
}
