import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { listErrorCodes } from '@wxgate/service-kit'
import { AppErrors } from './errors.js'

const docsPath = join(dirname(fileURLToPath(import.meta.url)), '../../../docs/errors.md')

/** The `| code | status | meaning |` rows of one `## Section` of docs/errors.md. */
function documentedCodes(section: string): Map<string, number> {
  const text = readFileSync(docsPath, 'utf8')
  const start = text.indexOf(`## ${section}\n`)
  assert.notEqual(start, -1, `docs/errors.md has no "## ${section}" section`)
  const end = text.indexOf('\n## ', start + 1)
  const rows = new Map<string, number>()
  for (const line of text.slice(start, end === -1 ? undefined : end).split('\n')) {
    const match = /^\|\s*`([A-Z0-9_]+)`\s*\|\s*(\d{3})\s*\|/.exec(line)
    if (match?.[1] !== undefined) rows.set(match[1], Number(match[2]))
  }
  return rows
}

describe('the app error registry and docs/errors.md', () => {
  it('documents every app error code with its status, and documents no code the app lacks', () => {
    const documented = documentedCodes('App')
    const registered = listErrorCodes(AppErrors)
    assert.ok(registered.length > 0)
    for (const { code, statusCode } of registered) {
      assert.equal(
        documented.get(code),
        statusCode,
        `${code} (${statusCode}) is not in docs/errors.md`,
      )
    }
    const known = new Set(registered.map((e) => e.code))
    for (const code of documented.keys()) {
      assert.ok(known.has(code), `docs/errors.md lists ${code}, which the app registry lacks`)
    }
  })

  it('uses stable, unique SCREAMING_SNAKE codes keyed by their own name', () => {
    for (const [key, ctor] of Object.entries(AppErrors)) {
      assert.equal(ctor.code, key)
      assert.match(ctor.code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/)
    }
  })
})
