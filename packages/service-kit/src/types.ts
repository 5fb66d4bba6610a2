// The Fastify instance decorations service-kit adds, merged into Fastify's own types.
import type { Counter, Histogram, Registry } from 'prom-client'

/** Throws (or returns false) when a dependency is not reachable. */
export type ReadinessCheck = () => unknown

export interface ReadinessCheckOptions {
  /** A check slower than this fails; default 2000 ms. */
  timeoutMs?: number
}

export interface ServiceMetrics {
  /** This instance's own registry (never prom-client's global one); register service metrics here. */
  readonly registry: Registry
  /** Derived from `httpRequestDuration`'s `_count` at each scrape: read it, don't `inc` it. */
  readonly httpRequestsTotal: Counter<'method' | 'route' | 'status'>
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Adds a check to `/readyz`; names are unique. */
    addReadinessCheck(name: string, check: ReadinessCheck, options?: ReadinessCheckOptions): void
    readonly metrics: ServiceMetrics
  }
}
