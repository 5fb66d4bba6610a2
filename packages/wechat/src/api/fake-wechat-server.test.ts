import assert from 'node:assert/strict'
import { test } from 'node:test'
import { request } from 'undici'
import { startFakeWeChat } from './fake-wechat-server.js'

test('records each request with its path, query and JSON body and sends the chosen answer', async () => {
  const fake = await startFakeWeChat((req) => ({ status: 201, json: { echo: req.path } }))
  try {
    const response = await request(`${fake.baseUrl}/cgi-bin/x?a=1`, {
      method: 'POST',
      body: JSON.stringify({ b: 2 }),
    })
    assert.equal(response.statusCode, 201)
    assert.deepEqual(await response.body.json(), { echo: '/cgi-bin/x' })
    assert.equal(fake.calls('/cgi-bin/x').length, 1)
    assert.equal(fake.requests[0]?.query.get('a'), '1')
    assert.deepEqual(fake.requests[0]?.body, { b: 2 })
  } finally {
    await fake.close()
  }
})
