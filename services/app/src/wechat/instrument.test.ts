import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { WeChatApiError, WeChatTransportError } from '@wxgate/wechat'
import { Registry } from 'prom-client'
import { createAppMetrics } from '../metrics/app-metrics.js'
import { AppErrors } from '../errors.js'
import { instrumentClient } from './instrument.js'

async function counts(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric(name)?.get()
  return Object.fromEntries(
    (metric?.values ?? []).map((v) => [Object.values(v.labels).join('/'), v.value]),
  )
}

describe('instrumentClient', () => {
  it('counts calls that went to WeChat and their failures by code, not local work', async () => {
    const registry = new Registry()
    const metrics = createAppMetrics(registry)
    const client = instrumentClient(
      {
        answer: () => Promise.resolve('ok'),
        refused: () =>
          Promise.reject(new WeChatApiError('/cgi-bin/x', 40001, 'invalid credential')),
        timedOut: () =>
          Promise.reject(
            new WeChatTransportError('/pay/orderquery', { timedOut: true, message: 't' }),
          ),
        notConfigured: () => Promise.reject(new AppErrors.PAY_NOT_CONFIGURED()),
        sign: () => 'signed here',
      },
      'pay',
      metrics,
    )
    assert.equal(await client.answer(), 'ok')
    await assert.rejects(client.refused(), WeChatApiError)
    await assert.rejects(client.timedOut(), WeChatTransportError)
    await assert.rejects(client.notConfigured(), { code: 'PAY_NOT_CONFIGURED' })
    assert.equal(client.sign(), 'signed here')
    assert.deepEqual(await counts(registry, 'wxgate_wechat_calls_total'), {
      'pay.answer': 1,
      'pay.refused': 1,
      'pay.timedOut': 1,
    })
    assert.deepEqual(await counts(registry, 'wxgate_wechat_errors_total'), {
      'pay.refused/40001': 1,
      'pay.timedOut/timeout': 1,
    })
  })
})
