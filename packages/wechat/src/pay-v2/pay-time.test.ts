// Tests of the Beijing-time `yyyyMMddHHmmss` conversion used by time_end and time_expire.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import { WeChatProtocolError } from '../errors.js'
import { beijingTimeToDate, dateToBeijingTime } from './pay-time.js'

function isMessageInvalid(error: unknown): boolean {
  return error instanceof WeChatProtocolError && error.code === 'MESSAGE_INVALID'
}

describe('beijingTimeToDate', () => {
  it('reads a time as UTC+8', () => {
    assert.equal(beijingTimeToDate('20240102150733').toISOString(), '2024-01-02T07:07:33.000Z')
  })

  it('crosses the date line backwards for early Beijing mornings', () => {
    assert.equal(beijingTimeToDate('20240101003000').toISOString(), '2023-12-31T16:30:00.000Z')
  })

  it('accepts 29 February of a leap year', () => {
    assert.equal(beijingTimeToDate('20240229235959').toISOString(), '2024-02-29T15:59:59.000Z')
  })

  for (const bad of [
    '',
    '2024010215073',
    '202401021507330',
    '2024-01-02 15:07:33',
    '2024010215073a',
    ' 20240102150733',
    '20241302150733',
    '20240002150733',
    '20240100150733',
    '20230229120000',
    '20240431120000',
    '20240102240000',
    '20240102156000',
    '20240102150760',
    '１２３４５６７８９０１２３４',
  ]) {
    it(`rejects ${JSON.stringify(bad)} with MESSAGE_INVALID`, () => {
      assert.throws(() => beijingTimeToDate(bad), isMessageInvalid)
    })
  }
})

describe('dateToBeijingTime', () => {
  it('writes an instant as Beijing wall-clock time', () => {
    assert.equal(dateToBeijingTime(new Date('2024-01-02T07:07:33.999Z')), '20240102150733')
    assert.equal(dateToBeijingTime(new Date('2023-12-31T16:30:00Z')), '20240101003000')
  })

  it('refuses an invalid Date', () => {
    assert.throws(() => dateToBeijingTime(new Date(Number.NaN)), RangeError)
  })

  it('round-trips random instants to the second', () => {
    for (let i = 0; i < 200; i += 1) {
      const seconds = randomInt(0, 4_102_444_800) // 1970 … 2100
      const date = new Date(seconds * 1000)
      const text = dateToBeijingTime(date)
      assert.match(text, /^\d{14}$/)
      assert.equal(beijingTimeToDate(text).getTime(), date.getTime())
    }
  })
})
