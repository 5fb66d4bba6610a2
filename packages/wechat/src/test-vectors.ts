// Test-only loader of the shared protocol vectors (../shared/wechat-protocol/vectors beside the repo root).
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface ProtocolVector<I = Record<string, unknown>, E = Record<string, unknown>> {
  id: string
  kind: string
  source: string
  description: string
  inputs: I
  expected: E
}

interface VectorFile<I, E> {
  file_description: string
  vectors: ProtocolVector<I, E>[]
}

/** The folder whose package.json declares the npm workspaces: the repository root, wherever it is cloned. */
export function findRepoRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) {
      const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'))
      if (typeof parsed === 'object' && parsed !== null && 'workspaces' in parsed) return dir
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no package.json with "workspaces" above ${start}`)
    dir = parent
  }
}

/** Reads `<root>/../shared/wechat-protocol/vectors/<fileName>`; the shapes are the JSON's own (unchecked). */
export function loadVectors<I = Record<string, unknown>, E = Record<string, unknown>>(
  fileName: string,
): ProtocolVector<I, E>[] {
  const path = join(findRepoRoot(), '..', 'shared', 'wechat-protocol', 'vectors', fileName)
  const file = JSON.parse(readFileSync(path, 'utf8')) as VectorFile<I, E>
  if (!Array.isArray(file.vectors) || file.vectors.length === 0) {
    throw new Error(`${fileName} holds no vectors`)
  }
  return file.vectors
}
