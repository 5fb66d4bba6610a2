// combineRuns: the rounds of one pair member as one result.
import type { LoadResult } from './wrk.js'

/** Rounds of one member as one result: rates over the summed time; p99 is the worst round's (conservative). */
export function combineRuns(runs: readonly LoadResult[]): LoadResult {
  const first = runs[0]
  if (first === undefined) throw new Error('no runs to combine')
  if (runs.length === 1) return first
  const requests = runs.reduce((a, r) => a + r.requests, 0)
  const durationS = runs.reduce((a, r) => a + r.durationS, 0)
  const weighted = (pick: (r: LoadResult) => number) =>
    runs.reduce((a, r) => a + pick(r) * r.requests, 0) / Math.max(1, requests)
  const cpuUs = runs.reduce((a, r) => a + (r.serverCpuUsPerRequest ?? 0) * r.requests, 0)
  return {
    requests,
    durationS,
    requestsPerS: requests / durationS,
    errors: runs.reduce((a, r) => a + r.errors, 0),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    latencyMs: {
      mean: weighted((r) => r.latencyMs.mean),
      p50: weighted((r) => r.latencyMs.p50),
      p90: Math.max(...runs.map((r) => r.latencyMs.p90)),
      p99: Math.max(...runs.map((r) => r.latencyMs.p99)),
      max: Math.max(...runs.map((r) => r.latencyMs.max)),
    },
    ...(first.serverCpuUsPerRequest === undefined
      ? {}
      : {
          serverCpuUsPerRequest: cpuUs / Math.max(1, requests),
          serverCpuCores: cpuUs / 1e6 / durationS,
        }),
  }
}
