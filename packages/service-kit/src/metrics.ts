// /metrics: a prom-client Registry per Fastify instance (never the global one) with HTTP request metrics.
import type { FastifyInstance } from 'fastify'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { ServiceMetrics } from './types.js'
import './types.js'

export interface MetricsOptions {
  /** Node process metrics (heap, event loop, GC); default true. */
  defaultMetrics?: boolean
  /** Labels put on every metric of this registry, e.g. `{ service: 'gateway' }`. */
  defaultLabels?: Record<string, string>
}

/**
 * Decorates `metrics` and adds the hook and route on the root instance at build time, so a
 * service can register its own metrics on `app.metrics.registry` right after `buildService`.
 */
export function installMetrics(app: FastifyInstance, options: MetricsOptions = {}): void {
  const registry = new Registry()
  if (options.defaultLabels !== undefined) registry.setDefaultLabels(options.defaultLabels)
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry })

  const httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to answer, in seconds',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  // The request count is the histogram's `_count` per label set: derived at scrape time instead of
  // a second label-hashing `inc` on every request (prom-client hashes the labels on each call).
  const httpRequestsTotal = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
    async collect() {
      const { values } = await httpRequestDuration.get()
      this.reset()
      for (const { metricName, labels, value } of values) {
        if (metricName !== 'http_request_duration_seconds_count') continue
        this.inc(
          {
            method: String(labels.method),
            route: String(labels.route),
            status: String(labels.status),
          },
          value,
        )
      }
    },
  })
  const serviceMetrics: ServiceMetrics = { registry, httpRequestsTotal, httpRequestDuration }
  app.decorate('metrics', serviceMetrics)

  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, not the URL, keeps label cardinality bounded; unmatched URLs share one label.
    httpRequestDuration.observe(
      {
        method: request.method,
        route: request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched'),
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    )
    done()
  })

  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    const text = await registry.metrics()
    return reply.type(registry.contentType).send(text)
  })
}
