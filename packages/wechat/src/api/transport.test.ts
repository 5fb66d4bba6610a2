import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { inspect } from 'node:util'
import { WeChatApiError, WeChatTransportError } from '../errors.js'
import { startFakeWeChat } from './fake-wechat-server.js'
import type { FakeWeChatAnswer } from './fake-wechat-server.js'
import { createWeChatTransport } from './transport.js'

async function withFake(
  answer: FakeWeChatAnswer,
  run: (baseUrl: string, fake: Awaited<ReturnType<typeof startFakeWeChat>>) => Promise<void>,
): Promise<void> {
  const fake = await startFakeWeChat(() => answer)
  try {
    await run(fake.baseUrl, fake)
  } finally {
    await fake.close()
  }
}

/** A port that was just free: nothing listens on it any more. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

test('sends the query and a JSON body and returns the parsed answer', async () => {
  await withFake({ json: { ticket: 't1', url: 'u' } }, async (baseUrl, fake) => {
    const transport = createWeChatTransport({ baseUrl: `${baseUrl}/` })
    const answer = await transport.request<{ ticket: string }>('/cgi-bin/qrcode/create', {
      query: { access_token: 'TOK', skipped: undefined },
      body: { action_name: 'QR_SCENE' },
    })
    assert.equal(answer.ticket, 't1')
    const seen = fake.calls('/cgi-bin/qrcode/create')
    assert.equal(seen.length, 1)
    assert.equal(seen[0]?.method, 'POST')
    assert.equal(seen[0]?.query.get('access_token'), 'TOK')
    assert.equal(seen[0]?.query.has('skipped'), false)
    assert.deepEqual(seen[0]?.body, { action_name: 'QR_SCENE' })
  })
})

test('treats errcode 0 as success', async () => {
  await withFake({ json: { errcode: 0, errmsg: 'ok' } }, async (baseUrl) => {
    const transport = createWeChatTransport({ baseUrl })
    assert.deepEqual(await transport.request('/cgi-bin/menu/create'), { errcode: 0, errmsg: 'ok' })
  })
})

test('turns a non-zero errcode into a WeChatApiError naming the path only', async () => {
  await withFake(
    { json: { errcode: 45009, errmsg: 'reach max api daily quota limit' } },
    async (baseUrl) => {
      const transport = createWeChatTransport({ baseUrl })
      await assert.rejects(
        transport.request('/cgi-bin/user/info', { query: { access_token: 'SECRET_TOKEN_1' } }),
        (error: unknown) => {
          assert.ok(error instanceof WeChatApiError)
          assert.equal(error.api, '/cgi-bin/user/info')
          assert.equal(error.errcode, 45009)
          assert.equal(error.errmsg, 'reach max api daily quota limit')
          assert.ok(!inspect(error).includes('SECRET_TOKEN_1'))
          return true
        },
      )
    },
  )
})

test('scrubs the given secrets from an errmsg that echoes them', async () => {
  await withFake(
    { json: { errcode: 40001, errmsg: 'invalid credential SECRET_TOKEN_2 rid: 1' } },
    async (baseUrl) => {
      const transport = createWeChatTransport({ baseUrl })
      await assert.rejects(
        transport.request('/cgi-bin/menu/get', {
          query: { access_token: 'SECRET_TOKEN_2' },
          secrets: ['SECRET_TOKEN_2', undefined],
        }),
        (error: unknown) => {
          assert.ok(error instanceof WeChatApiError)
          assert.equal(error.errmsg, 'invalid credential [redacted] rid: 1')
          assert.ok(!inspect(error).includes('SECRET_TOKEN_2'))
          return true
        },
      )
    },
  )
})

test('reports an answer that is not JSON as a WeChatTransportError', async () => {
  await withFake({ raw: '<html>gateway</html>' }, async (baseUrl) => {
    const transport = createWeChatTransport({ baseUrl })
    await assert.rejects(transport.request('/cgi-bin/menu/get'), (error: unknown) => {
      assert.ok(error instanceof WeChatTransportError)
      assert.equal(error.status, 200)
      assert.equal(error.timedOut, false)
      return true
    })
  })
})

test('reports JSON that is not an object as a WeChatTransportError', async () => {
  await withFake({ raw: '[1,2]' }, async (baseUrl) => {
    const transport = createWeChatTransport({ baseUrl })
    await assert.rejects(transport.request('/cgi-bin/menu/get'), WeChatTransportError)
  })
})

test('reports a non-200 status as a WeChatTransportError carrying the status', async () => {
  await withFake({ status: 502, json: { errcode: 0 } }, async (baseUrl) => {
    const transport = createWeChatTransport({ baseUrl })
    await assert.rejects(transport.request('/cgi-bin/menu/get'), (error: unknown) => {
      assert.ok(error instanceof WeChatTransportError)
      assert.equal(error.status, 502)
      return true
    })
  })
})

test('reports an unreachable host as a WeChatTransportError that did not time out', async () => {
  const port = await closedPort()
  const transport = createWeChatTransport({ baseUrl: `http://127.0.0.1:${port}` })
  await assert.rejects(
    transport.request('/cgi-bin/user/info', { query: { access_token: 'SECRET_TOKEN_3' } }),
    (error: unknown) => {
      assert.ok(error instanceof WeChatTransportError)
      assert.equal(error.api, '/cgi-bin/user/info')
      assert.equal(error.timedOut, false)
      assert.equal(error.status, undefined)
      assert.ok(error.cause !== undefined)
      assert.ok(!inspect(error, { depth: 10 }).includes('SECRET_TOKEN_3'))
      return true
    },
  )
})

test('gives up after the per-call timeout with a timed-out WeChatTransportError', async () => {
  await withFake({ json: { ok: true }, delayMs: 2000 }, async (baseUrl) => {
    const transport = createWeChatTransport({ baseUrl, timeoutMs: 5000 })
    const started = Date.now()
    await assert.rejects(
      transport.request('/cgi-bin/menu/get', {
        query: { access_token: 'SECRET_TOKEN_4' },
        timeoutMs: 100,
      }),
      (error: unknown) => {
        assert.ok(error instanceof WeChatTransportError)
        assert.equal(error.timedOut, true)
        assert.ok(!inspect(error, { depth: 10 }).includes('SECRET_TOKEN_4'))
        return true
      },
    )
    assert.ok(Date.now() - started < 1500)
  })
})

test('applies the default timeout given at creation', async () => {
  await withFake({ json: { ok: true }, delayMs: 2000 }, async (baseUrl) => {
    const transport = createWeChatTransport({ baseUrl, timeoutMs: 100 })
    await assert.rejects(transport.request('/cgi-bin/menu/get'), (error: unknown) => {
      assert.ok(error instanceof WeChatTransportError)
      assert.equal(error.timedOut, true)
      return true
    })
  })
})

test('refuses an answer over 1 MiB as a WeChatTransportError', async () => {
  await withFake({ raw: JSON.stringify({ blob: 'x'.repeat(1024 * 1024) }) }, async (baseUrl) => {
    const transport = createWeChatTransport({ baseUrl })
    await assert.rejects(transport.request('/cgi-bin/menu/get'), (error: unknown) => {
      assert.ok(error instanceof WeChatTransportError)
      assert.match(error.message, /exceeds 1048576 bytes/)
      return true
    })
  })
})
