// How long and how hard each measurement runs: the full run (~5 min) or BENCH_QUICK=1 (~1 min, for iterating).
export interface BenchSettings {
  quick: boolean
  warmupS: number
  durationS: number
  /** Pairs alternate their members in this many rounds that add up to durationS. */
  rounds: number
  /** Connections of pairs 1, 2 and 4. */
  pairConnections: number
  /** Connections of pair 3 (payment notifications arrive far less densely than page loads). */
  payConnections: number
  /** The load steps of the scaling table. */
  scalingConnections: readonly number[]
  /** Distinct signed GET …/verify requests cycled in pair 1. */
  verifyPool: number
  /** Distinct pre-encrypted pushes cycled in pair 2. */
  pushPool: number
  /** Users logged in through OAuth: the owners of the orders and the tokens of pair 4. */
  users: number
  /** Orders created for each payment warm-up (the measured runs get theirs from the warm-up's rate). */
  warmupOrders: number
  /** Pending orders the bare loop prepares in its own database. */
  bareOrders: number
  /** CPU (taskset list) of the load generator, and of every server under test. */
  loadCpus: string | undefined
  serverCpus: string | undefined
  /** Which pairs run (BENCH_ONLY=2,3 while iterating); all by default. */
  pairs: ReadonlySet<number>
  /** Whether the scaling table is measured (not with BENCH_ONLY). */
  scaling: boolean
  /** NODE_OPTIONS for every server under test (BENCH_SERVICE_NODE_OPTIONS, experiments only). */
  serviceNodeOptions: string | undefined
  /** Only a complete, unprofiled, pinned full run rewrites docs/benchmarks.md. */
  publish: boolean
  /** Record a V8 CPU profile of gateway and app (slower: never for the published numbers). */
  profile: boolean
}

export function benchSettings(env: NodeJS.ProcessEnv): BenchSettings {
  const quick = env.BENCH_QUICK === '1'
  const pin = env.BENCH_PIN !== '0'
  const only = (env.BENCH_ONLY ?? '')
    .split(',')
    .map((id) => Number(id.trim()))
    .filter((id) => [1, 2, 3, 4].includes(id))
  return {
    quick,
    warmupS: quick ? 1 : 2,
    durationS: quick ? 3 : 10,
    rounds: quick ? 1 : 2,
    pairConnections: 50,
    payConnections: 10,
    scalingConnections: [10, 50, 200],
    verifyPool: 2000,
    pushPool: 5000,
    users: 50,
    warmupOrders: quick ? 3000 : 6000,
    bareOrders: quick ? 40_000 : 150_000,
    loadCpus: pin ? '0' : undefined,
    serverCpus: pin ? '1' : undefined,
    pairs: new Set(only.length > 0 ? only : [1, 2, 3, 4]),
    scaling: only.length === 0,
    profile: env.BENCH_PROFILE === '1',
    serviceNodeOptions: env.BENCH_SERVICE_NODE_OPTIONS,
    publish:
      !quick &&
      only.length === 0 &&
      env.BENCH_PROFILE !== '1' &&
      pin &&
      env.BENCH_SERVICE_NODE_OPTIONS === undefined,
  }
}
