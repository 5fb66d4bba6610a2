import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { createAnswerQueue } from './answer-queue.js'

const response = (name: string): ServerResponse => ({ name }) as unknown as ServerResponse

describe('answer queue', () => {
  it('writes nothing at once, then every deferred answer in order in the check phase', async () => {
    const written: string[] = []
    const queue = createAnswerQueue(() => assert.fail('no write throws'))
    for (const name of ['a', 'b', 'c']) queue.defer(response(name), name, () => written.push(name))
    assert.deepEqual(written, [])
    // Promise callbacks of this turn run before the check phase: the answers are still waiting.
    await Promise.resolve()
    assert.deepEqual(written, [])
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(written, ['a', 'b', 'c'])
  })

  it('reports a write that throws with its response and still writes the others', async () => {
    const written: string[] = []
    const failed: [unknown, ServerResponse, string][] = []
    const queue = createAnswerQueue((error, res, id) => failed.push([error, res, id]))
    const broken = response('broken')
    const boom = new Error('socket gone')
    queue.defer(response('a'), 'a', () => written.push('a'))
    queue.defer(broken, 'req-broken', () => {
      throw boom
    })
    queue.defer(response('c'), 'c', () => written.push('c'))
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(written, ['a', 'c'])
    assert.deepEqual(failed, [[boom, broken, 'req-broken']])
  })

  it('writes an answer deferred while the queue is being written in the next turn, not lost', async () => {
    const written: string[] = []
    const queue = createAnswerQueue(() => assert.fail('no write throws'))
    queue.defer(response('first'), 'first', () => {
      written.push('first')
      queue.defer(response('late'), 'late', () => written.push('late'))
    })
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(written, ['first'])
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(written, ['first', 'late'])
  })
})
