// Tests that the internal body schemas accept the contract shapes and refuse the rest.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Value } from 'typebox/value'
import {
  BindingBody,
  CreateOrUpdateUserBody,
  CreditsConsumeBody,
  INTERNAL_ROUTES,
  OrderUpdateBody,
} from './internal-schemas.js'

describe('internal body schemas', () => {
  it('accept the contract bodies', () => {
    assert.ok(Value.Check(CreateOrUpdateUserBody, { openid: 'o1' }))
    assert.ok(
      Value.Check(CreateOrUpdateUserBody, {
        openid: 'o1',
        unionid: 'u1',
        subscribed: true,
        event_time: 1764057600,
      }),
    )
    assert.ok(
      Value.Check(BindingBody, { scene_str: 's', openid: 'o', event: 'SCAN', event_time: 1 }),
    )
    assert.ok(
      Value.Check(OrderUpdateBody, {
        out_trade_no: 'T1',
        transaction_id: '4200000000000000000000000000000',
        total_fee: 990,
        trade_state: 'SUCCESS',
        paid_at: '2026-11-25T08:00:00.000Z',
      }),
    )
    assert.ok(
      Value.Check(CreditsConsumeBody, {
        openid: 'o',
        amount: 1,
        reason: 'r',
        idempotency_key: 'k',
      }),
    )
  })

  it('reject wrong types and out-of-range values', () => {
    assert.ok(!Value.Check(CreateOrUpdateUserBody, { openid: '' }))
    assert.ok(!Value.Check(CreateOrUpdateUserBody, { openid: 'x'.repeat(65) }))
    assert.ok(!Value.Check(CreateOrUpdateUserBody, { openid: 'o', event_time: 1.5 }))
    assert.ok(!Value.Check(CreateOrUpdateUserBody, { openid: 'o', event_time: '1' }))
    assert.ok(
      !Value.Check(BindingBody, { scene_str: 's', openid: 'o', event: 'CLICK', event_time: 1 }),
    )
    const order = {
      out_trade_no: 'T1',
      transaction_id: 't',
      total_fee: 990,
      trade_state: 'SUCCESS',
      paid_at: '2026-11-25T08:00:00.000Z',
    }
    assert.ok(!Value.Check(OrderUpdateBody, { ...order, total_fee: 0 }))
    assert.ok(!Value.Check(OrderUpdateBody, { ...order, transaction_id: 'x'.repeat(33) }))
    assert.ok(!Value.Check(OrderUpdateBody, { ...order, paid_at: '20261125160000' }))
    const consume = { openid: 'o', amount: 1, reason: 'r', idempotency_key: 'k' }
    assert.ok(!Value.Check(CreditsConsumeBody, { ...consume, amount: 0 }))
    assert.ok(!Value.Check(CreditsConsumeBody, { ...consume, amount: 2.5 }))
    assert.ok(!Value.Check(CreditsConsumeBody, { ...consume, idempotency_key: 'k'.repeat(129) }))
    assert.ok(!Value.Check(CreditsConsumeBody, { ...consume, idempotency_key: '' }))
  })

  it('name the contract paths', () => {
    assert.deepEqual(INTERNAL_ROUTES.updateOrder, {
      method: 'PUT',
      path: '/api/v1/internal/payment/order/update',
    })
  })
})
