import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { listErrorCodes } from '@wxgate/service-kit'
import { GatewayErrors } from './errors.js'

describe('gateway error registry', () => {
  it('lists every code with its status in docs/errors.md, under Gateway', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8')
    const section = doc.slice(doc.indexOf('## Gateway'))
    const codes = listErrorCodes(GatewayErrors)
    assert.ok(codes.length >= 3)
    for (const { code, statusCode } of codes) {
      assert.match(section, new RegExp(`\\| \`${code}\` \\| ${statusCode} \\|`), code)
    }
  })
})
