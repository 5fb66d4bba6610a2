// OAuth login through app.inject(): authorize-url → the simulator's consent page → GET /auth/wechat.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { testDialects } from '../db/test-databases.js'
import { LOGIN_RATE_RULES } from './login-rate-limit.js'
import { startLoginTestApp } from '../testing/login-test-app.js'
import type { LoginTestApp } from '../testing/login-test-app.js'
import { OAUTH_STATE_TTL_MS } from './oauth.service.js'

const REDIRECT = 'https://client.example.com/oauth/callback?from=menu'

for (const dialect of testDialects()) {
  describe(`OAuth login (${dialect})`, () => {
    let t: LoginTestApp
    let n = 0
    const newOpenId = () => `o_oauth_${dialect}_${++n}_${Date.now()}`

    before(async () => {
      t = await startLoginTestApp(dialect)
    })
    after(async () => {
      await t.close()
    })

    async function authorizeUrl(scope = 'snsapi_base', redirectUri = REDIRECT) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/wechat/authorize-url',
        query: { redirect_uri: redirectUri, scope },
      })
      return res
    }

    /** authorize-url, then the user consents on the simulator's page: the code and state it redirects with. */
    async function consent(openId: string, scope = 'snsapi_base') {
      const res = await authorizeUrl(scope)
      assert.equal(res.statusCode, 200, res.body)
      const { url, state } = res.json<{ url: string; state: string }>()
      const redirect = new URL(t.sim.phone.authorizeUrl(url, openId))
      const code = redirect.searchParams.get('code')
      assert.ok(code !== null && code !== '')
      assert.equal(redirect.searchParams.get('state'), state)
      return { code, state }
    }

    function login(query: Record<string, string>) {
      return t.app.inject({ method: 'GET', url: '/api/v1/auth/wechat', query })
    }

    it('hands out a WeChat authorize URL with an unguessable state', async () => {
      const res = await authorizeUrl('snsapi_userinfo')
      assert.equal(res.statusCode, 200)
      const { url, state } = res.json<{ url: string; state: string }>()
      assert.match(state, /^[A-Za-z0-9]{22,128}$/)
      assert.ok(url.startsWith(`${t.sim.baseUrl}/connect/oauth2/authorize?appid=`), url)
      assert.ok(url.endsWith('#wechat_redirect'))
      assert.ok(url.includes(`redirect_uri=${encodeURIComponent(REDIRECT)}`))
      assert.ok(url.includes('scope=snsapi_userinfo'))
      assert.ok(url.includes(`state=${state}`))
      const second = (await authorizeUrl()).json<{ state: string }>()
      assert.notEqual(second.state, state)
    })

    it('refuses a redirect_uri that is not an absolute http(s) URL and an unknown scope', async () => {
      for (const bad of ['/relative/callback', 'ftp://example.com/cb', 'javascript:alert(1)']) {
        const res = await authorizeUrl('snsapi_base', bad)
        assert.equal(res.statusCode, 400, bad)
        assert.equal(res.json<{ code: string }>().code, 'REDIRECT_URI_INVALID')
      }
      const res = await authorizeUrl('snsapi_login')
      assert.equal(res.statusCode, 400)
      assert.equal(res.json<{ code: string }>().code, 'VALIDATION_FAILED')
    })

    it('logs a user in with code and state and issues a working session token', async () => {
      const openId = newOpenId()
      const { code, state } = await consent(openId)
      const res = await login({ code, state })
      assert.equal(res.statusCode, 200, res.body)
      const body = res.json<{ token: string; expires_in: number; user: { openid: string } }>()
      assert.equal(body.user.openid, openId)
      assert.ok(body.expires_in > 0)
      const credits = await t.app.inject({
        method: 'GET',
        url: '/api/v1/user/credits',
        headers: { authorization: `Bearer ${body.token}` },
      })
      assert.equal(credits.statusCode, 200, credits.body)
      const row = await t.database.db
        .selectFrom('oauth_states')
        .select('used_at')
        .where('state', '=', state)
        .executeTakeFirstOrThrow()
      assert.equal(row.used_at, t.now())
    })

    it('accepts a state only once', async () => {
      const openId = newOpenId()
      const { code, state } = await consent(openId)
      assert.equal((await login({ code, state })).statusCode, 200)
      // A fresh code from the same user, replayed with the spent state.
      const again = new URL(
        t.sim.phone.authorize({ openId, redirectUri: REDIRECT, scope: 'snsapi_base', state }),
      )
      const res = await login({ code: again.searchParams.get('code') ?? '', state })
      assert.equal(res.statusCode, 400)
      assert.equal(res.json<{ code: string }>().code, 'OAUTH_STATE_INVALID')
    })

    it('gives the state back when the login fails, so a failed request changes nothing', async () => {
      const openId = newOpenId()
      const { code, state } = await consent(openId)
      const refused = await login({ code: 'not-a-code-wechat-issued', state })
      assert.equal(refused.statusCode, 400)
      assert.equal(refused.json<{ code: string }>().code, 'OAUTH_CODE_INVALID')
      const row = await t.database.db
        .selectFrom('oauth_states')
        .select('used_at')
        .where('state', '=', state)
        .executeTakeFirstOrThrow()
      assert.equal(row.used_at, null)
      const res = await login({ code, state })
      assert.equal(res.statusCode, 200, res.body)
      assert.equal(res.json<{ user: { openid: string } }>().user.openid, openId)
      assert.equal((await login({ code, state })).statusCode, 400, 'then spent')
    })

    it('refuses an unknown state without asking WeChat', async () => {
      const openId = newOpenId()
      const { code } = await consent(openId)
      const calls = t.sim.records.apiCalls.length
      const res = await login({ code, state: 'NoSuchState0123456789abc' })
      assert.equal(res.statusCode, 400)
      assert.equal(res.json<{ code: string }>().code, 'OAUTH_STATE_INVALID')
      assert.equal(t.sim.records.apiCalls.length, calls)
      // The code itself was never spent: it still logs in with no state.
      assert.equal((await login({ code })).statusCode, 200)
    })

    it('refuses a state older than ten minutes', async () => {
      const { code, state } = await consent(newOpenId())
      t.advance(OAUTH_STATE_TTL_MS + 1)
      const res = await login({ code, state })
      assert.equal(res.statusCode, 400)
      assert.equal(res.json<{ code: string }>().code, 'OAUTH_STATE_INVALID')
    })

    it('answers 400 OAUTH_CODE_INVALID when a code is exchanged a second time (WeChat 40163)', async () => {
      const { code } = await consent(newOpenId())
      assert.equal((await login({ code })).statusCode, 200)
      const res = await login({ code })
      assert.equal(res.statusCode, 400)
      assert.equal(res.json<{ code: string }>().code, 'OAUTH_CODE_INVALID')
      const bogus = await login({ code: 'not-a-code-wechat-issued' })
      assert.equal(bogus.statusCode, 400)
      assert.equal(bogus.json<{ code: string }>().code, 'OAUTH_CODE_INVALID')
    })

    it('stores the nickname and avatar with the snsapi_userinfo scope', async () => {
      const openId = newOpenId()
      t.sim.platform.addUser({ openId, nickname: 'Alice', headImgUrl: 'https://img.example/a/132' })
      const { code, state } = await consent(openId, 'snsapi_userinfo')
      const res = await login({ code, state })
      assert.equal(res.statusCode, 200, res.body)
      assert.equal(res.json<{ user: { nickname: string | null } }>().user.nickname, 'Alice')
      const row = await t.database.db
        .selectFrom('wechat_users')
        .select(['nickname', 'avatar_url'])
        .where('openid', '=', openId)
        .executeTakeFirstOrThrow()
      assert.deepEqual(row, { nickname: 'Alice', avatar_url: 'https://img.example/a/132' })
    })

    it('leaves out a profile field longer than its column, and still logs the user in', async () => {
      const openId = newOpenId()
      const avatar = `https://img.example/${'a'.repeat(600)}`
      t.sim.platform.addUser({ openId, nickname: 'N'.repeat(129), headImgUrl: avatar })
      const { code, state } = await consent(openId, 'snsapi_userinfo')
      const res = await login({ code, state })
      assert.equal(res.statusCode, 200, res.body)
      const row = await t.database.db
        .selectFrom('wechat_users')
        .select(['nickname', 'avatar_url'])
        .where('openid', '=', openId)
        .executeTakeFirstOrThrow()
      assert.deepEqual(row, { nickname: null, avatar_url: null })
    })

    it('still logs the user in when sns/userinfo fails', async () => {
      const openId = newOpenId()
      t.sim.platform.addUser({ openId, nickname: 'Bob' })
      const { code, state } = await consent(openId, 'snsapi_userinfo')
      t.sim.platform.failNext('/sns/userinfo', 40003)
      const res = await login({ code, state })
      assert.equal(res.statusCode, 200, res.body)
      const body = res.json<{ user: { openid: string; nickname: string | null } }>()
      assert.equal(body.user.openid, openId)
      assert.equal(body.user.nickname, null)
    })

    it('refuses a snapshot-page user with 403 and binds nothing to it', async () => {
      const openId = newOpenId()
      t.sim.platform.addUser({ openId, snapshotUser: true })
      const { code, state } = await consent(openId)
      const res = await login({ code, state })
      assert.equal(res.statusCode, 403)
      assert.equal(res.json<{ code: string }>().code, 'OAUTH_SNAPSHOT_USER')
      const row = await t.database.db
        .selectFrom('wechat_users')
        .select('id')
        .where('openid', '=', openId)
        .executeTakeFirst()
      assert.equal(row, undefined)
    })

    it('rate-limits logins per client IP with 429 and Retry-After', async () => {
      let limited
      for (let i = 0; i <= LOGIN_RATE_RULES.oauthLogin.limit && limited === undefined; i++) {
        const res = await t.app.inject({
          method: 'GET',
          url: '/api/v1/auth/wechat',
          remoteAddress: '192.0.2.77',
        })
        if (res.statusCode === 429) limited = res
        else assert.equal(res.statusCode, 400)
      }
      assert.ok(limited !== undefined, 'never limited')
      assert.equal(limited.json<{ code: string }>().code, 'RATE_LIMITED')
      assert.ok(Number(limited.headers['retry-after']) >= 1)
      // Another client is not affected.
      const other = await t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/wechat',
        remoteAddress: '192.0.2.78',
      })
      assert.equal(other.statusCode, 400)
    })
  })

  describe(`OAuth login with WeChat unreachable (${dialect})`, () => {
    let t: LoginTestApp
    before(async () => {
      // Port 1 on loopback refuses connections: WeChat is down.
      t = await startLoginTestApp(dialect, { WECHAT_API_BASE_URL: 'http://127.0.0.1:1' })
    })
    after(async () => {
      await t.close()
    })

    it('answers 502 WECHAT_UNAVAILABLE when WeChat cannot be reached', async () => {
      const res = await t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/wechat',
        query: { code: 'some-code' },
      })
      assert.equal(res.statusCode, 502, res.body)
      assert.equal(res.json<{ code: string }>().code, 'WECHAT_UNAVAILABLE')
    })

    it('leaves the state unspent when WeChat cannot be reached', async () => {
      const issued = await t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/wechat/authorize-url',
        query: { redirect_uri: 'https://shop.example/cb', scope: 'snsapi_base' },
      })
      const { state } = issued.json<{ state: string }>()
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const res = await t.app.inject({
          method: 'GET',
          url: '/api/v1/auth/wechat',
          query: { code: 'some-code', state },
        })
        assert.equal(res.statusCode, 502, `attempt ${attempt}: ${res.body}`)
      }
    })
  })
}
