// Tests of the results block: ratios, verdicts, rendering, and keeping the hand-written page around it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { LoadResult } from '../load/wrk.js'
import {
  BLOCK_END,
  BLOCK_START,
  floorLine,
  pairMet,
  pairRatio,
  renderResults,
  replaceResultsBlock,
} from './benchmarks-report.js'
import type { BenchReport, PairResult } from './benchmarks-report.js'
import { benchSettings } from '../bench-settings.js'

function load(requestsPerS: number, p99: number): LoadResult {
  return {
    requests: requestsPerS * 10,
    durationS: 10,
    requestsPerS,
    errors: 0,
    non2xx: 0,
    latencyMs: { mean: p99 / 2, p50: p99 / 3, p90: p99 / 2, p99, max: p99 * 2 },
    serverCpuUsPerRequest: 1e6 / requestsPerS,
    serverCpuCores: 1,
  }
}

function pair(ours: LoadResult, theirs: LoadResult, maxP99Ms?: number): PairResult {
  return {
    id: 3,
    title: 'payment',
    subject: { name: 'gateway + app', result: ours },
    baseline: { name: 'bare loop', result: theirs },
    connections: 10,
    target: maxP99Ms === undefined ? { minRatio: 0.5 } : { minRatio: 0.5, maxP99Ms },
  }
}

describe('benchmarks report', () => {
  it('computes the ratio as ours over the baseline requests per second', () => {
    assert.equal(pairRatio(pair(load(300, 10), load(1200, 10))), 0.25)
  })

  it('misses a target when the ratio is reached but the p99 limit is not', () => {
    assert.equal(pairMet(pair(load(800, 10), load(1000, 10), 50)), true)
    assert.equal(pairMet(pair(load(800, 60), load(1000, 10), 50)), false)
    assert.equal(pairMet(pair(load(400, 10), load(1000, 10), 50)), false)
  })

  it('renders every pair with its ratio and verdict inside the generated block', () => {
    const report: BenchReport = {
      machine: {
        cpuModel: 'Test CPU',
        cpuCount: 2,
        memoryGiB: 4,
        kernel: '6.0',
        node: 'v20.0.0',
        versions: { wrk: '4.1.0' },
        commit: 'abc1234',
      },
      settings: benchSettings({}),
      startedAt: new Date('2026-01-01T00:00:00Z'),
      finishedAt: new Date('2026-01-01T00:05:00Z'),
      loadAverage: { start: 0.5, end: 1.5 },
      pairs: [pair(load(300, 80), load(1200, 10), 50)],
      scaling: [{ endpoint: 'notify', results: new Map([[10, load(300, 80)]]) }],
      peakRss: [{ name: 'gateway', bytes: 150 * 2 ** 20, targetBytes: 100 * 2 ** 20 }],
      notes: ['a note'],
      profiles: undefined,
    }
    const text = renderResults(report)
    assert.ok(text.startsWith(BLOCK_START))
    assert.ok(text.trimEnd().endsWith(BLOCK_END))
    assert.match(text, /\*\*0\.25×\*\* \| ≥ 0\.5×, p99 < 50 ms \| \*\*missed\*\*/)
    assert.match(text, /\| gateway \| 150\.0 \| < 100\.0 MiB \| \*\*missed\*\* \|/)
    assert.match(text, /300 req\/s, p99 80\.0/)
    assert.match(text, /- a note/)
  })

  it("shows the database server's CPU behind each member that measured it", () => {
    const withDatabase = (result: LoadResult, us: number): LoadResult => ({
      ...result,
      databaseCpuUsPerRequest: us,
    })
    const measured: PairResult = {
      ...pair(withDatabase(load(300, 10), 1290.4), withDatabase(load(1200, 10), 520)),
      parts: [{ name: 'app (internal order/update)', result: withDatabase(load(900, 10), 370) }],
    }
    const report = (p: PairResult): BenchReport => ({
      machine: {
        cpuModel: 'x',
        cpuCount: 2,
        memoryGiB: 4,
        kernel: '6',
        node: 'v20',
        versions: {},
        commit: 'c',
      },
      settings: benchSettings({}),
      startedAt: new Date(0),
      finishedAt: new Date(1000),
      loadAverage: { start: 0, end: 0 },
      pairs: [p],
      scaling: [],
      peakRss: [],
      notes: [],
      profiles: undefined,
    })
    assert.match(
      renderResults(report(measured)),
      /Pair 3, the database server's CPU per request \(all its threads\): behind ours 1290 µs, behind the baseline 520 µs, behind app alone 370 µs\./,
    )
    assert.doesNotMatch(
      renderResults(report(pair(load(300, 10), load(1200, 10)))),
      /database server/,
    )
  })

  it('says what is left above the floor, and the best ratio a server could reach on it', () => {
    const ours: LoadResult = { ...load(5000, 40), serverCpuUsPerRequest: 171.4 }
    const measured: PairResult = {
      ...pair(ours, { ...load(4000, 40), serverCpuUsPerRequest: 213 }),
      id: 2,
      subject: { name: 'gateway', result: ours },
      target: { minRatio: 1.5 },
      floor: { name: 'bare reader', result: { ...load(7000, 20), serverCpuUsPerRequest: 142 } },
    }
    assert.equal(
      floorLine(measured),
      'Pair 2, floor (bare reader), same rounds: 7,000 req/s, p99 20.0 ms, CPU 142 (1.00) µs/req. ' +
        'Above it: gateway 29 µs, the baseline 71 µs per request. With nothing above the floor, a ' +
        'server would reach 1.50× the baseline by CPU per request (target 1.5×).',
    )
    assert.equal(floorLine(pair(load(300, 10), load(1200, 10))), undefined)
  })

  it('replaces only the generated block and keeps the hand-written text around it', () => {
    const doc = `# Title\n\nmethod\n\n${BLOCK_START}\nold numbers\n${BLOCK_END}\n\n## Analysis\nkept\n`
    const next = replaceResultsBlock(doc, `${BLOCK_START}\nnew numbers\n${BLOCK_END}\n`)
    assert.match(next, /method/)
    assert.match(next, /new numbers/)
    assert.doesNotMatch(next, /old numbers/)
    assert.match(next, /## Analysis\nkept/)
  })

  it('creates a page when there is none yet', () => {
    const next = replaceResultsBlock(undefined, `${BLOCK_START}\nx\n${BLOCK_END}\n`)
    assert.match(next, /^# Benchmarks/)
    assert.match(next, /x/)
  })
})
