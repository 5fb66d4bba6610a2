import assert from 'node:assert/strict'
import { test } from 'node:test'
import { inspect } from 'node:util'
import { WeChatApiError, WeChatTransportError } from '../errors.js'
import { createAccessTokenProvider } from './access-token.js'
import { startFakeWeChat } from './fake-wechat-server.js'
import type { FakeWeChat, FakeWeChatAnswer } from './fake-wechat-server.js'

const APP_ID = 'wx0000000000000001'
const SECRET = 'secret-0123456789abcdef0123456789'
const T0 = Date.UTC(2026, 10, 25, 8, 0, 0)

/** Answers stable_token with TOKEN-1, TOKEN-2, … unless `answers` overrides the n-th call. */
async function startTokenServer(
  options: {
    expiresIn?: number
    delayMs?: number
    answers?: Record<number, FakeWeChatAnswer>
  } = {},
): Promise<FakeWeChat> {
  let issued = 0
  return startFakeWeChat(() => {
    issued += 1
    return (
      options.answers?.[issued] ?? {
        json: { access_token: `TOKEN-${issued}`, expires_in: options.expiresIn ?? 7200 },
        delayMs: options.delayMs,
      }
    )
  })
}

function fixedClock(start = T0): { now: () => number; advance(ms: number): void } {
  let current = start
  return { now: () => current, advance: (ms) => (current += ms) }
}

test('asks stable_token for the current token without forcing a refresh', async () => {
  const fake = await startTokenServer()
  try {
    const provider = createAccessTokenProvider({
      appId: APP_ID,
      secret: SECRET,
      baseUrl: fake.baseUrl,
    })
    assert.equal(await provider.getToken(), 'TOKEN-1')
    const [call] = fake.calls('/cgi-bin/stable_token')
    assert.equal(call?.method, 'POST')
    assert.deepEqual(call?.body, {
      grant_type: 'client_credential',
      appid: APP_ID,
      secret: SECRET,
      force_refresh: false,
    })
    assert.equal(fake.requests.length, 1)
  } finally {
    await fake.close()
  }
})

test('serves 100 concurrent callers from exactly one HTTP request', async () => {
  const fake = await startTokenServer({ delayMs: 50 })
  try {
    const provider = createAccessTokenProvider({
      appId: APP_ID,
      secret: SECRET,
      baseUrl: fake.baseUrl,
    })
    const tokens = await Promise.all(Array.from({ length: 100 }, () => provider.getToken()))
    assert.equal(fake.requests.length, 1)
    assert.deepEqual(new Set(tokens), new Set(['TOKEN-1']))
    assert.equal(await provider.getToken(), 'TOKEN-1')
    assert.equal(fake.requests.length, 1)
  } finally {
    await fake.close()
  }
})

test('refreshes refreshAheadMs before expiry, not earlier', async () => {
  const fake = await startTokenServer({ expiresIn: 7200 })
  const clock = fixedClock()
  try {
    const provider = createAccessTokenProvider({
      appId: APP_ID,
      secret: SECRET,
      baseUrl: fake.baseUrl,
      now: clock.now,
    })
    assert.equal(await provider.getToken(), 'TOKEN-1')
    clock.advance((7200 - 300) * 1000 - 1)
    assert.equal(await provider.getToken(), 'TOKEN-1')
    assert.equal(fake.requests.length, 1)
    clock.advance(1)
    assert.equal(await provider.getToken(), 'TOKEN-2')
    assert.equal(fake.requests.length, 2)
  } finally {
    await fake.close()
  }
})

test('honours the expires_in WeChat returns and a custom refreshAheadMs', async () => {
  const fake = await startTokenServer({ expiresIn: 1200 })
  const clock = fixedClock()
  try {
    const provider = createAccessTokenProvider({
      appId: APP_ID,
      secret: SECRET,
      baseUrl: fake.baseUrl,
      now: clock.now,
      refreshAheadMs: 60_000,
    })
    await provider.getToken()
    clock.advance(1140 * 1000 - 1)
    assert.equal(await provider.getToken(), 'TOKEN-1')
    clock.advance(1)
    assert.equal(await provider.getToken(), 'TOKEN-2')
  } finally {
    await fake.close()
  }
})

test('does not refetch on every call when the lifetime is shorter than the refresh window', async () => {
  const fake = await startTokenServer({ expiresIn: 300 })
  const clock = fixedClock()
  try {
    const provider = createAccessTokenProvider({
      appId: APP_ID,
      secret: SECRET,
      baseUrl: fake.baseUrl,
      now: clock.now,
    })
    await provider.getToken()
    clock.advance(100_000)
    assert.equal(await provider.getToken(), 'TOKEN-1')
    assert.equal(fake.requests.length, 1)
  } finally {
    await fake.close()
  }
})

test('invalidate drops the cache only when given the cached token', async () => {
  const fake = await startTokenServer()
  try {
    const provider = createAccessTokenProvider({
      appId: APP_ID,
      secret: SECRET,
      baseUrl: fake.baseUrl,
    })
    assert.equal(await provider.getToken(), 'TOKEN-1')
    provider.invalidate('SOME-OTHER-TOKEN')
    assert.equal(await provider.getToken(), 'TOKEN-1')
    assert.equal(fake.requests.length, 1)
    provider.invalidate('TOKEN-1')
    assert.equal(await provider.getToken(), 'TOKEN-2')
    assert.equal(fake.requests.length, 2)
    // A late failure reported against the old token must not throw the fresh one away.
    provider.invalidate('TOKEN-1')
    assert.equal(await provider.getToken(), 'TOKEN-2')
    assert.equal(fake.requests.length, 2)
  } finally {
    await fake.close()
  }
})

test('a failed fetch is not cached: the next call fetches again', async () => {
  const fake = await startTokenServer({
    answers: { 1: { json: { errcode: -1, errmsg: 'system error' } }, 2: { status: 502 } },
  })
  try {
    const provider = createAccessTokenProvider({
      appId: APP_ID,
      secret: SECRET,
      baseUrl: fake.baseUrl,
    })
    await assert.rejects(provider.getToken(), WeChatApiError)
    await assert.rejects(provider.getToken(), WeChatTransportError)
    assert.equal(await provider.getToken(), 'TOKEN-3')
    assert.equal(fake.requests.length, 3)
  } finally {
    await fake.close()
  }
})

test('keeps serving a still-valid token when an early refresh fails', async () => {
  const fake = await startTokenServer({ answers: { 2: { json: { errcode: -1, errmsg: 'busy' } } } })
  const clock = fixedClock()
  try {
    const provider = createAccessTokenProvider({
      appId: APP_ID,
      secret: SECRET,
      baseUrl: fake.baseUrl,
      now: clock.now,
    })
    await provider.getToken()
    clock.advance(7000 * 1000)
    assert.equal(await provider.getToken(), 'TOKEN-1')
    assert.equal(await provider.getToken(), 'TOKEN-3')
    assert.equal(fake.requests.length, 3)
  } finally {
    await fake.close()
  }
})

test('fails once the token has expired and the refresh fails', async () => {
  const fake = await startTokenServer({ answers: { 2: { json: { errcode: -1, errmsg: 'busy' } } } })
  const clock = fixedClock()
  try {
    const provider = createAccessTokenProvider({
      appId: APP_ID,
      secret: SECRET,
      baseUrl: fake.baseUrl,
      now: clock.now,
    })
    await provider.getToken()
    clock.advance(7200 * 1000)
    await assert.rejects(provider.getToken(), WeChatApiError)
  } finally {
    await fake.close()
  }
})

test('rejects a stable_token answer without a token as a WeChatTransportError', async () => {
  const fake = await startTokenServer({ answers: { 1: { json: { expires_in: 7200 } } } })
  try {
    const provider = createAccessTokenProvider({
      appId: APP_ID,
      secret: SECRET,
      baseUrl: fake.baseUrl,
    })
    await assert.rejects(provider.getToken(), WeChatTransportError)
  } finally {
    await fake.close()
  }
})

test('never puts the secret in the error of a refused token request', async () => {
  const fake = await startTokenServer({
    answers: { 1: { json: { errcode: 40125, errmsg: `invalid appsecret ${SECRET} rid: x` } } },
  })
  try {
    const provider = createAccessTokenProvider({
      appId: APP_ID,
      secret: SECRET,
      baseUrl: fake.baseUrl,
    })
    await assert.rejects(provider.getToken(), (error: unknown) => {
      assert.ok(error instanceof WeChatApiError)
      assert.equal(error.errcode, 40125)
      assert.equal(error.api, '/cgi-bin/stable_token')
      assert.ok(!inspect(error, { depth: 10 }).includes(SECRET))
      return true
    })
  } finally {
    await fake.close()
  }
})
