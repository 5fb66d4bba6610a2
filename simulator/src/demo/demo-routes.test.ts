// The demo page's routes, through inject on a bare Fastify instance and through the simulator that serves them.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { createSimulator } from '../simulator.js'
import { QR_TEXT_MAX, registerDemoRoutes } from './demo-routes.js'

async function demoApp(): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  registerDemoRoutes(app)
  await app.ready()
  return app
}

/** The content of a PNG's IHDR chunk: width and height. */
function pngSize(body: Buffer): { width: number; height: number } {
  assert.deepEqual([...body.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  return { width: body.readUInt32BE(16), height: body.readUInt32BE(20) }
}

describe('demo routes', () => {
  it('serves the page at / with its script and stylesheet', async () => {
    const app = await demoApp()
    const page = await app.inject('/')
    assert.equal(page.statusCode, 200)
    assert.match(String(page.headers['content-type']), /^text\/html/)
    assert.match(page.body, /<script type="module" src="\/demo\/demo\.mjs"><\/script>/)
    assert.match(page.body, /id="qr-login-start"/)
    const script = await app.inject('/demo/demo.mjs')
    assert.equal(script.statusCode, 200)
    assert.match(String(script.headers['content-type']), /^text\/javascript/)
    assert.match(script.body, /\/api\/v1\/auth\/wechat\/check-follow/)
    const css = await app.inject('/demo/demo.css')
    assert.equal(css.statusCode, 200)
    assert.match(String(css.headers['content-type']), /^text\/css/)
    await app.close()
  })

  it('draws a code_url as a PNG QR code', async () => {
    const app = await demoApp()
    const answer = await app.inject(
      `/demo/qr.png?text=${encodeURIComponent('weixin://wxpay/bizpayurl?pr=abc1234')}`,
    )
    assert.equal(answer.statusCode, 200)
    assert.equal(answer.headers['content-type'], 'image/png')
    assert.deepEqual(pngSize(answer.rawPayload), { width: 240, height: 240 })
    await app.close()
  })

  it('refuses a missing, empty or overlong text', async () => {
    const app = await demoApp()
    for (const query of ['', '?text=', `?text=${'a'.repeat(QR_TEXT_MAX + 1)}`]) {
      const answer = await app.inject(`/demo/qr.png${query}`)
      assert.equal(answer.statusCode, 400, query.slice(0, 20))
      assert.equal(answer.json<{ code: string }>().code, 'INVALID_REQUEST')
    }
    await app.close()
  })

  it('is part of every simulator, beside the platform and the control API', async () => {
    const sim = await createSimulator({
      appId: 'wx1234567890abcdef',
      appSecret: 'secret',
      token: 'token',
      mchId: '1900000109',
      payApiKey: '192006250b4c09247ec02edce69f6a2d',
    })
    try {
      const page = await sim.app.inject('/')
      assert.equal(page.statusCode, 200)
      assert.match(page.body, /wxgate/)
      const state = await sim.app.inject('/_sim/state')
      assert.equal(state.statusCode, 200)
    } finally {
      await sim.close()
    }
  })
})
