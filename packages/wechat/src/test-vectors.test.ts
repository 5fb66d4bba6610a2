// Tests of the shared-vector loader other protocol tests rely on.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { findRepoRoot, loadVectors } from './test-vectors.js'

test('finds the repository root by its workspaces manifest', () => {
  const root = findRepoRoot()
  assert.ok(existsSync(join(root, 'packages', 'wechat', 'package.json')))
})

test('loads a vector file with ids, inputs and expected values', () => {
  const vectors = loadVectors('mp_signature.json')
  assert.ok(vectors.length > 0)
  assert.ok(
    vectors.every((vector) => typeof vector.id === 'string' && typeof vector.inputs === 'object'),
  )
  assert.ok(vectors.some((vector) => vector.id === 'mp_sig_official_url_verify'))
})

test('fails loudly for a file that does not exist', () => {
  assert.throws(() => loadVectors('no-such-file.json'), /ENOENT/)
})
