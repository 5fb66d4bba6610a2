// createSimulator: option checks, inject before listen, listen and close.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createSimulator } from './simulator.js'

const valid = { appId: 'wx1', appSecret: 's', token: 't', mchId: 'm', payApiKey: 'k' }

describe('createSimulator', () => {
  it('refuses missing credentials, a malformed EncodingAESKey and a non-positive time scale', async () => {
    await assert.rejects(createSimulator({ ...valid, appSecret: '' }), TypeError)
    await assert.rejects(createSimulator({ ...valid, encodingAesKey: 'short' }), TypeError)
    await assert.rejects(createSimulator({ ...valid, timeScale: 0 }), TypeError)
  })

  it('answers through inject before listening and closes twice without error', async () => {
    const sim = await createSimulator({ ...valid, now: () => 1_700_000_000_000 })
    const response = await sim.app.inject({
      method: 'GET',
      url: '/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s',
    })
    const body = response.json<{ access_token: string; expires_in: number }>()
    assert.equal(body.expires_in, 7200)
    assert.equal(sim.platform.accessTokens()[0]?.issuedAt, 1_700_000_000_000)
    assert.equal(sim.baseUrl, '')
    await sim.close()
    await sim.close()
  })

  it('listens on a free port and reports its base URL', async () => {
    const sim = await createSimulator(valid)
    try {
      const url = await sim.listen()
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.equal(sim.baseUrl, url)
      assert.equal((await fetch(`${url}/_sim/state`)).status, 200)
    } finally {
      await sim.close()
    }
  })
})
