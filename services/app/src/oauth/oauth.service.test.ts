// isAbsoluteHttpUrl: what may be used as an OAuth redirect_uri.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isAbsoluteHttpUrl } from './oauth.service.js'

describe('isAbsoluteHttpUrl', () => {
  it('accepts absolute http and https URLs with a host', () => {
    for (const url of ['https://a.example/cb?x=1#h', 'http://127.0.0.1:8080/cb']) {
      assert.equal(isAbsoluteHttpUrl(url), true, url)
    }
  })

  it('refuses relative, other-scheme and host-less URLs', () => {
    for (const url of ['/cb', 'cb', 'ftp://a.example/', 'javascript:alert(1)', 'https://', '']) {
      assert.equal(isAbsoluteHttpUrl(url), false, url)
    }
  })
})
