import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { describeStartError } from './start-failure.js'

describe('describeStartError', () => {
  it('joins the message with its causes into one line', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), {
      code: 'ECONNREFUSED',
    })
    const error = new Error('database migration failed', { cause: refused })
    assert.equal(
      describeStartError(error),
      'database migration failed: connect ECONNREFUSED 127.0.0.1:3306',
    )
    assert.ok(!describeStartError(error).includes('\n'))
  })

  it('reads the inner errors of an AggregateError with an empty message', () => {
    const aggregate = new AggregateError(
      [
        new Error('connect ECONNREFUSED ::1:6379'),
        new Error('connect ECONNREFUSED 127.0.0.1:6379'),
      ],
      '',
    )
    assert.equal(
      describeStartError(aggregate),
      'connect ECONNREFUSED ::1:6379; connect ECONNREFUSED 127.0.0.1:6379',
    )
  })

  it('falls back to the code, and does not repeat a cause already in the message', () => {
    const coded = Object.assign(new Error(''), { code: 'EADDRINUSE' })
    assert.equal(describeStartError(coded), 'EADDRINUSE')
    const inner = new Error('listen EADDRINUSE: address already in use 0.0.0.0:8000')
    const outer = new Error('listen EADDRINUSE: address already in use 0.0.0.0:8000', {
      cause: inner,
    })
    assert.equal(describeStartError(outer), inner.message)
    assert.equal(describeStartError(undefined), 'unknown error')
  })
})
