import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { newOutTradeNo } from './out-trade-no.js'

describe('newOutTradeNo', () => {
  it('starts with the UTC time and fits WeChat’s 32-character limit', () => {
    const value = newOutTradeNo(Date.parse('2026-11-25T08:09:10.000Z'))
    assert.match(value, /^20261125080910[A-Z2-9]{16}$/)
    assert.ok(value.length <= 32)
  })

  it('does not repeat', () => {
    const at = Date.now()
    const values = new Set(Array.from({ length: 1000 }, () => newOutTradeNo(at)))
    assert.equal(values.size, 1000)
  })
})
