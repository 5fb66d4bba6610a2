// Web OAuth: the authorize page's checks, single-use codes, sns token and userinfo, against the shared vectors.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { buildAuthorizeUrl, createWeChatApiClient, WeChatApiError } from '@wxgate/wechat'
import { startTestSimulator, TEST_APP_ID, TEST_SECRET } from '../start-test-simulator.js'
import type { TestSimulator } from '../start-test-simulator.js'

interface OAuthVector {
  id: string
  inputs: { appid: string; redirect_uri: string; scope: string; state: string }
  expected: { url: string }
}
const vectors = (
  JSON.parse(
    readFileSync(
      new URL('../../../../shared/wechat-protocol/vectors/generated_oauth.json', import.meta.url),
      'utf8',
    ),
  ) as { vectors: OAuthVector[] }
).vectors

describe('web OAuth', () => {
  let sim: TestSimulator
  before(async () => {
    sim = await startTestSimulator()
    sim.platform.addUser({ openId: 'oAlice', nickname: 'Alice', unionId: 'uAlice' })
    sim.platform.addUser({ openId: 'oBob', nickname: 'Bob' })
  })
  after(async () => {
    await sim.close()
  })
  const api = () =>
    createWeChatApiClient({ appId: TEST_APP_ID, secret: TEST_SECRET, baseUrl: sim.baseUrl })
  const authorizeUrl = (scope: 'snsapi_base' | 'snsapi_userinfo', state = 'st4te') =>
    buildAuthorizeUrl({
      appId: TEST_APP_ID,
      redirectUri: 'https://shop.example.com/login?from=menu',
      scope,
      state,
      openBaseUrl: sim.baseUrl,
    })
  const rawPage = (query: string) => fetch(`${sim.baseUrl}/connect/oauth2/authorize?${query}`)

  it('shows a page listing the users to log in as, each link redirecting with a code and the state', async () => {
    const page = await fetch(authorizeUrl('snsapi_userinfo'))
    assert.equal(page.status, 200)
    const html = await page.text()
    assert.match(html, /Alice/)
    assert.match(html, /oBob/)
    const link = /href="([^"]*sim_openid=oAlice[^"]*)"/.exec(html)?.[1]?.replace(/&#38;/g, '&')
    assert.ok(link)
    const answer = await fetch(`${sim.baseUrl}${link}`, { redirect: 'manual' })
    assert.equal(answer.status, 302)
    const location = new URL(answer.headers.get('location') ?? '')
    assert.equal(location.origin + location.pathname, 'https://shop.example.com/login')
    assert.equal(location.searchParams.get('from'), 'menu')
    assert.equal(location.searchParams.get('state'), 'st4te')
    assert.match(location.searchParams.get('code') ?? '', /^[0-9a-f]{32}$/)
  })

  it('refuses a wrong appid, an unencoded redirect_uri, a bad response_type, scope or state', async () => {
    const good = new URL(authorizeUrl('snsapi_base')).search.slice(1)
    const cases: [string, RegExp][] = [
      [good.replace(TEST_APP_ID, 'wx0000000000000000'), /appid/],
      [
        good.replace(/redirect_uri=[^&]*/, 'redirect_uri=https://shop.example.com/login'),
        /redirect_uri/,
      ],
      [good.replace('response_type=code', 'response_type=token'), /response_type/],
      [good.replace('scope=snsapi_base', 'scope=snsapi_login'), /scope/],
      [good.replace('state=st4te', 'state=a-b'), /state/],
      [good.replace('state=st4te', `state=${'a'.repeat(129)}`), /state/],
    ]
    for (const [query, problem] of cases) {
      const page = await rawPage(query)
      assert.equal(page.status, 400, query)
      assert.match(await page.text(), problem)
    }
    assert.throws(
      () => sim.phone.authorizeUrl(authorizeUrl('snsapi_base', 'no_underscores'), 'oAlice'),
      {
        code: 'AUTHORIZE_INVALID',
      },
    )
  })

  it('refuses a redirect_uri outside the configured OAuth domain (10003)', async () => {
    const strict = await startTestSimulator({ oauthRedirectHosts: ['shop.example.com'] })
    try {
      const other = buildAuthorizeUrl({
        appId: TEST_APP_ID,
        redirectUri: 'https://evil.example.net/cb',
        scope: 'snsapi_base',
        state: 's',
        openBaseUrl: strict.baseUrl,
      })
      const page = await fetch(other)
      assert.equal(page.status, 400)
      assert.match(await page.text(), /10003/)
    } finally {
      await strict.close()
    }
  })

  it('accepts the authorize URLs of the shared vectors and keeps the redirect_uri query', async () => {
    for (const vector of vectors) {
      const vectorSim = await startTestSimulator({ appId: vector.inputs.appid })
      try {
        const redirect = new URL(vectorSim.phone.authorizeUrl(vector.expected.url, 'oVector'))
        assert.equal(redirect.searchParams.get('next'), '/orders/123')
        assert.equal(redirect.searchParams.get('from'), 'menu')
        assert.equal(redirect.searchParams.get('state'), vector.inputs.state)
        assert.ok(redirect.searchParams.get('code'))
      } finally {
        await vectorSim.close()
      }
    }
  })

  it('exchanges a code once (40163 afterwards), refuses unknown (40029) and five-minute-old codes', async () => {
    const client = api()
    const code = (scope: 'snsapi_base' | 'snsapi_userinfo') =>
      new URL(
        sim.phone.authorize({
          openId: 'oAlice',
          redirectUri: 'https://shop.example.com/cb',
          scope,
          state: 's',
        }),
      ).searchParams.get('code') ?? ''
    const first = code('snsapi_userinfo')
    const token = await client.exchangeOAuthCode(first)
    assert.equal(token.openId, 'oAlice')
    assert.equal(token.scope, 'snsapi_userinfo')
    assert.equal(token.unionId, 'uAlice')
    await assert.rejects(client.exchangeOAuthCode(first), (error: unknown) => {
      return error instanceof WeChatApiError && error.errcode === 40163
    })
    await assert.rejects(client.exchangeOAuthCode('0'.repeat(32)), { errcode: 40029 })
    const stale = code('snsapi_base')
    sim.advanceClock(300_000)
    await assert.rejects(client.exchangeOAuthCode(stale), { errcode: 40029 })
  })

  it('refuses the exchange with a wrong secret (40125) or grant_type (40002)', async () => {
    const code = new URL(
      sim.phone.authorize({
        openId: 'oBob',
        redirectUri: 'https://shop.example.com/cb',
        scope: 'snsapi_base',
      }),
    ).searchParams.get('code')
    const base = `/sns/oauth2/access_token?appid=${TEST_APP_ID}&code=${code}`
    assert.equal((await sim.json(`${base}&secret=x&grant_type=authorization_code`)).errcode, 40125)
    assert.equal((await sim.json(`${base}&secret=${TEST_SECRET}&grant_type=x`)).errcode, 40002)
    // Neither refusal used the code up.
    const ok = await sim.json(`${base}&secret=${TEST_SECRET}&grant_type=authorization_code`)
    assert.equal(ok.openid, 'oBob')
    assert.equal(ok.unionid, undefined)
  })

  it('gives the profile for a snsapi_userinfo token and 48001 for a snsapi_base one', async () => {
    const client = api()
    const exchange = async (scope: 'snsapi_base' | 'snsapi_userinfo') =>
      client.exchangeOAuthCode(
        new URL(
          sim.phone.authorize({
            openId: 'oAlice',
            redirectUri: 'https://shop.example.com/cb',
            scope,
          }),
        ).searchParams.get('code') ?? '',
      )
    const full = await exchange('snsapi_userinfo')
    const profile = await client.getOAuthUserInfo(full.accessToken, full.openId)
    assert.equal(profile.nickname, 'Alice')
    assert.equal(profile.unionId, 'uAlice')
    const base = await exchange('snsapi_base')
    await assert.rejects(client.getOAuthUserInfo(base.accessToken, base.openId), { errcode: 48001 })
    await assert.rejects(client.getOAuthUserInfo(full.accessToken, 'oBob'), { errcode: 40003 })
  })

  it('redirects with the state only when the user refuses', async () => {
    const query = new URL(authorizeUrl('snsapi_userinfo', 'x1')).search.slice(1)
    const answer = await fetch(`${sim.baseUrl}/connect/oauth2/authorize?${query}&sim_deny=1`, {
      redirect: 'manual',
    })
    const location = new URL(answer.headers.get('location') ?? '')
    assert.equal(location.searchParams.get('state'), 'x1')
    assert.equal(location.searchParams.get('code'), null)
  })
})

describe('web OAuth refresh and token check', () => {
  it('refreshes a web token for 30 days, checks tokens with sns/auth, and refuses unknown refresh tokens', async () => {
    const sim = await startTestSimulator()
    try {
      const code = new URL(
        sim.phone.authorize({
          openId: 'oRefresh',
          redirectUri: 'https://shop.example.com/cb',
          scope: 'snsapi_userinfo',
        }),
      ).searchParams.get('code')
      const first = await sim.json(
        `/sns/oauth2/access_token?appid=${TEST_APP_ID}&secret=${TEST_SECRET}&code=${code}&grant_type=authorization_code`,
      )
      const auth = (token: unknown) =>
        sim.json(`/sns/auth?access_token=${String(token)}&openid=oRefresh`)
      assert.equal((await auth(first.access_token)).errcode, 0)
      sim.advanceClock(7200_000)
      assert.equal((await auth(first.access_token)).errcode, 42001)
      const refresh = (token: unknown) =>
        sim.json(
          `/sns/oauth2/refresh_token?appid=${TEST_APP_ID}&grant_type=refresh_token&refresh_token=${String(token)}`,
        )
      const renewed = await refresh(first.refresh_token)
      assert.equal(renewed.openid, 'oRefresh')
      assert.equal((await auth(renewed.access_token)).errcode, 0)
      assert.equal((await refresh('unknown')).errcode, 40030)
      sim.advanceClock(30 * 86_400_000)
      assert.equal((await refresh(first.refresh_token)).errcode, 42002)
    } finally {
      await sim.close()
    }
  })
})
