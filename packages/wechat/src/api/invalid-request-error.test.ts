import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WeChatInvalidRequestError } from './invalid-request-error.js'

test('names the API that was not called and lists every problem with its path', () => {
  const error = new WeChatInvalidRequestError('/cgi-bin/menu/create', [
    { path: 'button[0].name', problem: 'is required' },
    { path: 'button[1].key', problem: 'is required for type click' },
  ])
  assert.ok(error instanceof Error)
  assert.equal(error.name, 'WeChatInvalidRequestError')
  assert.equal(error.api, '/cgi-bin/menu/create')
  assert.equal(error.problems.length, 2)
  assert.equal(
    error.message,
    '/cgi-bin/menu/create not called: button[0].name is required; button[1].key is required for type click',
  )
})
