import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { assertErrorsDocumented } from '@wxgate/service-kit/testing'
import { GatewayErrors } from './errors.js'

describe('gateway error registry', () => {
  it('documents every code with its status under Gateway in docs/errors.md, and no code it lacks', () => {
    assertErrorsDocumented(GatewayErrors, 'Gateway')
  })

  it('keys each code by its own name', () => {
    for (const [key, ctor] of Object.entries(GatewayErrors)) assert.equal(ctor.code, key)
  })
})
