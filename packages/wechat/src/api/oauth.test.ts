import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadVectors } from '../test-vectors.js'
import { buildAuthorizeUrl } from './oauth.js'
import type { OAuthScope } from './oauth.js'

interface OAuthInputs {
  appid: string
  redirect_uri: string
  scope: OAuthScope
  state: string
}

const vectors = loadVectors<OAuthInputs, { url: string }>('generated_oauth.json').filter(
  (v) => v.kind === 'oauth_authorize_url',
)

test('the oauth vector file holds authorize-url vectors', () => {
  assert.ok(vectors.length >= 2)
})

for (const vector of vectors) {
  test(`builds the authorize URL of vector ${vector.id}`, () => {
    const url = buildAuthorizeUrl({
      appId: vector.inputs.appid,
      redirectUri: vector.inputs.redirect_uri,
      scope: vector.inputs.scope,
      state: vector.inputs.state,
    })
    assert.equal(url, vector.expected.url)
  })
}

test('uses the configured open host and keeps #wechat_redirect last', () => {
  const url = buildAuthorizeUrl({
    appId: 'wx1',
    redirectUri: 'http://127.0.0.1:8000/cb?a=b c',
    scope: 'snsapi_base',
    state: 'st',
    openBaseUrl: 'http://127.0.0.1:9000/',
  })
  assert.equal(
    url,
    'http://127.0.0.1:9000/connect/oauth2/authorize?appid=wx1&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fcb%3Fa%3Db%20c&response_type=code&scope=snsapi_base&state=st#wechat_redirect',
  )
})
