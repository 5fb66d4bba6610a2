// Tests of combining alternating rounds into one result per pair member.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { combineRuns } from './combine-runs.js'
import type { LoadResult } from './wrk.js'

function run(
  requests: number,
  durationS: number,
  p50: number,
  p99: number,
  cpuUs: number,
): LoadResult {
  return {
    requests,
    durationS,
    requestsPerS: requests / durationS,
    errors: 1,
    non2xx: 0,
    latencyMs: { mean: p50, p50, p90: p99, p99, max: p99 * 2 },
    serverCpuUsPerRequest: cpuUs,
    serverCpuCores: (cpuUs * requests) / 1e6 / durationS,
  }
}

describe('combineRuns', () => {
  it('rates the rounds over their summed time and keeps the worst p99', () => {
    const combined = combineRuns([run(1000, 5, 2, 10, 100), run(3000, 5, 4, 30, 200)])
    assert.equal(combined.requests, 4000)
    assert.equal(combined.durationS, 10)
    assert.equal(combined.requestsPerS, 400)
    assert.equal(combined.errors, 2)
    assert.equal(combined.latencyMs.p50, 3.5)
    assert.equal(combined.latencyMs.p99, 30)
    assert.equal(combined.serverCpuUsPerRequest, 175)
  })

  it('returns a single run unchanged and refuses none', () => {
    const one = run(10, 1, 1, 2, 3)
    assert.equal(combineRuns([one]), one)
    assert.throws(() => combineRuns([]), /no runs/)
  })
})
