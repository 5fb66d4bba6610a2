import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'

describe("Fastify's Ajv", () => {
  // Every service loads Ajv 8 three times over if each of its users gets a copy of its own: eslint's Ajv 6
  // held node_modules/ajv, so npm nested an identical 8.x under @fastify/ajv-compiler, fast-json-stringify
  // and ajv-formats, ~0.9 MiB of heap each in a gateway with a few MiB to spare (docs/benchmarks.md,
  // "Memory"). The root package.json depends on ajv 8 so that it takes that place.
  it('is one copy for the validator, the serializer and the formats', () => {
    const fromHere = createRequire(import.meta.url)
    const fromFastify = createRequire(fromHere.resolve('fastify'))
    const fromValidator = createRequire(fromHere.resolve('@fastify/ajv-compiler'))
    const fromSerializer = createRequire(fromFastify.resolve('fast-json-stringify'))
    const fromFormats = createRequire(fromValidator.resolve('ajv-formats'))
    const ajvOf = {
      validator: fromValidator.resolve('ajv'),
      serializer: fromSerializer.resolve('ajv'),
      formats: fromFormats.resolve('ajv'),
    }
    assert.equal(ajvOf.serializer, ajvOf.validator)
    assert.equal(ajvOf.formats, ajvOf.validator)
  })
})
