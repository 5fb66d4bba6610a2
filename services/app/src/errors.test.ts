import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { assertErrorsDocumented } from '@wxgate/service-kit/testing'
import { AppErrors } from './errors.js'

describe('the app error registry and docs/errors.md', () => {
  it('documents every app error code with its status, and documents no code the app lacks', () => {
    assertErrorsDocumented(AppErrors, 'App')
  })

  it('uses stable, unique SCREAMING_SNAKE codes keyed by their own name', () => {
    for (const [key, ctor] of Object.entries(AppErrors)) {
      assert.equal(ctor.code, key)
      assert.match(ctor.code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/)
    }
  })
})
