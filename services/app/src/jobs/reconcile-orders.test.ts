import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { FastifyBaseLogger } from 'fastify'
import type { OrderRow } from '../orders/orders.table.js'
import type { OrdersService } from '../orders/orders.service.js'
import { createReconcileJob } from './reconcile-orders.js'

const logged: string[] = []
const logger = {
  info: () => undefined,
  warn: (_obj: unknown, msg: string) => logged.push(msg),
  error: (_obj: unknown, msg: string) => logged.push(msg),
} as unknown as FastifyBaseLogger

function order(outTradeNo: string): OrderRow {
  return { out_trade_no: outTradeNo } as OrderRow
}

function fakeOrders(overrides: Partial<OrdersService> = {}) {
  const calls: string[] = []
  const service = {
    listToReconcile: (minAgeMs: number) => {
      calls.push(`list:${minAgeMs}`)
      return Promise.resolve([order('A'), order('B')])
    },
    listExpired: () => Promise.resolve([order('C')]),
    queryAndRecord: (row: OrderRow) => {
      calls.push(`query:${row.out_trade_no}`)
      if (row.out_trade_no === 'B') return Promise.reject(new Error('WeChat down'))
      return Promise.resolve({ tradeState: 'SUCCESS' as const, changed: true })
    },
    closeExpired: (row: OrderRow) => {
      calls.push(`close:${row.out_trade_no}`)
      return Promise.resolve('closed' as const)
    },
    ...overrides,
  } as unknown as OrdersService
  return { service, calls }
}

describe('createReconcileJob', () => {
  it('queries old pending orders, closes expired ones, and keeps going past a failure', async () => {
    const { service, calls } = fakeOrders()
    const job = createReconcileJob({ orders: service, intervalS: 60, minAgeS: 300, logger })
    const report = await job.runOnce()
    assert.deepEqual(report, { queried: 2, paid: 1, closed: 1, failed: 1 })
    assert.deepEqual(calls, ['list:300000', 'query:A', 'query:B', 'close:C'])
    assert.ok(logged.includes('orderquery failed'))
  })

  it('shares one pass between concurrent runOnce calls', async () => {
    const { service, calls } = fakeOrders()
    const job = createReconcileJob({ orders: service, intervalS: 60, minAgeS: 0, logger })
    const [a, b] = await Promise.all([job.runOnce(), job.runOnce()])
    assert.equal(a, b)
    assert.equal(calls.filter((c) => c.startsWith('list')).length, 1)
  })

  it('runs every RECONCILE_INTERVAL_S once started and not after stop', async () => {
    const { service, calls } = fakeOrders()
    const job = createReconcileJob({ orders: service, intervalS: 1, minAgeS: 0, logger })
    const started = Date.now()
    job.start()
    // Polled rather than slept for a fixed time: a loaded CI machine may fire the timer late.
    while (!calls.some((c) => c.startsWith('list'))) {
      assert.ok(Date.now() - started < 10_000, 'no pass within 10 s of a 1 s interval')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.ok(Date.now() - started >= 950, 'the first pass waits one interval')
    await job.stop()
    const passes = calls.filter((c) => c.startsWith('list')).length
    assert.equal(passes, 1)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    assert.equal(calls.filter((c) => c.startsWith('list')).length, passes, 'no pass after stop')
  })
})
