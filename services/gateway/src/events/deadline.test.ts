// Tests for withDeadline: the signal aborts on time and no timer outlives the work.
import assert from 'node:assert/strict'
import { createHook } from 'node:async_hooks'
import { describe, it } from 'node:test'
import { withDeadline } from './deadline.js'

describe('withDeadline', () => {
  it('hands back the result and clears its timer once the work settles', async () => {
    const pending = new Set<number>()
    const hook = createHook({
      init(asyncId, type, _trigger, resource) {
        if (type === 'Timeout' && (resource as { _idleTimeout?: number })._idleTimeout === 4321) {
          pending.add(asyncId)
        }
      },
      destroy(asyncId) {
        pending.delete(asyncId)
      },
    })
    hook.enable()
    try {
      let seen: AbortSignal | undefined
      const result = await withDeadline(4321, (signal) => {
        seen = signal
        return Promise.resolve('done')
      })
      assert.equal(result, 'done')
      assert.equal(seen?.aborted, false)
      await assert.rejects(
        withDeadline(4321, () => Promise.reject(new Error('work failed'))),
        /work failed/,
      )
      await new Promise((resolve) => setImmediate(resolve))
      assert.equal(pending.size, 0)
    } finally {
      hook.disable()
    }
  })

  it('aborts the signal with a TimeoutError when the work runs past the deadline', async () => {
    const reason = await withDeadline(
      20,
      (signal) =>
        new Promise<unknown>((resolve) => {
          signal.addEventListener('abort', () => resolve(signal.reason), { once: true })
        }),
    )
    assert.ok(reason instanceof DOMException)
    assert.equal(reason.name, 'TimeoutError')
  })
})
