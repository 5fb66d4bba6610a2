// Pair 3 baseline: app's payment transaction as bare mysql2 statements, at a fixed concurrency, on distinct orders.
// Prepares its own users and pending orders in its own database (app's schema), then measures; prints one JSON line.
import { createPool } from 'mysql2/promise'
import { readCpuSeconds } from '../processes/managed-process.js'
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise'

const concurrency = Number(process.env.CONCURRENCY)
const warmupS = Number(process.env.WARMUP_S)
const durationS = Number(process.env.DURATION_S)
const userCount = Number(process.env.USERS)
const orderCount = Number(process.env.ORDERS)
for (const [name, value] of Object.entries({
  concurrency,
  warmupS,
  durationS,
  userCount,
  orderCount,
})) {
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number`)
}

const pool = createPool({
  host: process.env.MYSQL_HOST,
  port: Number(process.env.MYSQL_PORT ?? 3306),
  user: process.env.MYSQL_USER,
  password: process.env.MYSQL_PASSWORD ?? '',
  database: process.env.MYSQL_DATABASE,
  connectionLimit: concurrency,
  supportBigNumbers: true,
  charset: 'utf8mb4',
})

const PRICE_FEN = 990
const CREDITS = 100
/** Each order's payer, as a notification names it. */
const payerOf = new Map<string, string>()

async function prepare(): Promise<string[]> {
  const at = Date.now()
  const users = Array.from({ length: userCount }, (_, i) => [`bench-bare-user-${i}`, at, at])
  await pool.query('insert into `wechat_users` (`openid`, `created_at`, `updated_at`) values ?', [
    users,
  ])
  const [rows] = await pool.query<RowDataPacket[]>('select `id`, `openid` from `wechat_users`')
  const owners = rows.map((r) => ({ id: Number(r.id), openid: String(r.openid) }))
  const outTradeNos: string[] = []
  const batch = 2000
  for (let start = 0; start < orderCount; start += batch) {
    const values: unknown[][] = []
    for (let i = start; i < Math.min(orderCount, start + batch); i++) {
      const owner = owners[i % owners.length]
      if (owner === undefined) throw new Error('no users to own orders')
      const outTradeNo = `BARE${String(i).padStart(12, '0')}`
      outTradeNos.push(outTradeNo)
      payerOf.set(outTradeNo, owner.openid)
      values.push([
        outTradeNo,
        owner.id,
        owner.openid,
        'credits_100',
        '100 credits',
        PRICE_FEN,
        CREDITS,
        0,
        'pending',
        at + 7_200_000,
        at,
        at,
      ])
    }
    await pool.query(
      'insert into `payment_orders` (`out_trade_no`, `user_id`, `openid`, `product_id`, `product_name`, ' +
        '`amount_fen`, `credits`, `member_days`, `status`, `expires_at`, `created_at`, `updated_at`) values ?',
      [values],
    )
  }
  return outTradeNos
}

/** The statements app runs for one first notification (guarded update, read, credits, ledger), in its order. */
async function recordPayment(outTradeNo: string, transactionId: string): Promise<boolean> {
  const conn: PoolConnection = await pool.getConnection()
  let changed = false
  try {
    const at = Date.now()
    await conn.query('begin')
    const [marked] = await conn.query<ResultSetHeader>(
      'update `payment_orders` set `status` = ?, `transaction_id` = ?, `paid_at` = ?, `payer_openid` = ?, ' +
        '`closed_at` = ?, `updated_at` = ? where `out_trade_no` = ? and `amount_fen` = ? and `status` in (?, ?)',
      [
        'paid',
        transactionId,
        at,
        payerOf.get(outTradeNo) ?? null,
        null,
        at,
        outTradeNo,
        PRICE_FEN,
        'pending',
        'closed',
      ],
    )
    if (marked.affectedRows > 0) {
      const [found] = await conn.query<RowDataPacket[]>(
        'select * from `payment_orders` where `out_trade_no` = ?',
        [outTradeNo],
      )
      const order = found[0]
      if (order === undefined) throw new Error(`order ${outTradeNo} missing`)
      await conn.query(
        'update `wechat_users` set `credits` = `credits` + ?, `updated_at` = ? where `id` = ?',
        [order.credits, at, order.user_id],
      )
      await conn.query(
        'insert into `credit_ledger` (`user_id`, `delta`, `balance_after`, `reason`, `ref`, ' +
          '`idempotency_key`, `created_at`) select `id`, ? as `delta`, `credits`, ? as `reason`, ' +
          '? as `ref`, ? as `idempotency_key`, ? as `created_at` from `wechat_users` where `id` = ?',
        [order.credits, 'purchase', outTradeNo, `purchase:${outTradeNo}`, at, order.user_id],
      )
      changed = true
    }
    await conn.query('commit')
  } catch (error) {
    await conn.query('rollback')
    throw error
  } finally {
    conn.release()
  }
  return changed
}

/** CPU seconds the database server (DATABASE_PID) has used so far, as the bench reads a server's. */
async function databaseCpuSeconds(): Promise<number | undefined> {
  const pid = process.env.DATABASE_PID
  return pid === undefined ? undefined : readCpuSeconds(Number(pid))
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0
}

const orders = await prepare()
let next = 0
let exhausted = false
const latencies: number[] = []
let measuring = false
let stop = false
let failures = 0

async function worker(): Promise<void> {
  while (!stop) {
    const outTradeNo = orders[next++]
    if (outTradeNo === undefined) {
      exhausted = true
      return
    }
    const started = performance.now()
    const changed = await recordPayment(outTradeNo, `4200${String(next).padStart(24, '0')}`)
    if (!changed) failures++
    if (measuring && !stop) latencies.push(performance.now() - started)
  }
}

const workers = Array.from({ length: concurrency }, () => worker())
await new Promise((r) => setTimeout(r, warmupS * 1000))
measuring = true
const measuredStart = performance.now()
const cpuStart = process.cpuUsage()
const databaseCpuStart = await databaseCpuSeconds()
await new Promise((r) => setTimeout(r, durationS * 1000))
stop = true
const elapsedS = (performance.now() - measuredStart) / 1000
const cpu = process.cpuUsage(cpuStart)
const cpuUs = cpu.user + cpu.system
const databaseCpuEnd = await databaseCpuSeconds()
await Promise.all(workers)
await pool.end()

latencies.sort((a, b) => a - b)
process.stdout.write(
  'BARE_RESULT ' +
    JSON.stringify({
      requests: latencies.length,
      durationS: elapsedS,
      requestsPerS: latencies.length / elapsedS,
      errors: failures,
      exhausted,
      serverCpuUsPerRequest: cpuUs / Math.max(1, latencies.length),
      serverCpuCores: cpuUs / 1e6 / elapsedS,
      ...(databaseCpuStart === undefined || databaseCpuEnd === undefined
        ? {}
        : {
            databaseCpuUsPerRequest:
              ((databaseCpuEnd - databaseCpuStart) * 1e6) / Math.max(1, latencies.length),
          }),
      latencyMs: {
        mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
        p50: percentile(latencies, 50),
        p90: percentile(latencies, 90),
        p99: percentile(latencies, 99),
        max: latencies[latencies.length - 1] ?? 0,
      },
    }) +
    '\n',
)
