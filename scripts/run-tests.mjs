// Runs every *.test.ts under the given roots (default: the whole tree) with node:test through tsx.
// Node 20's --test takes no globs, so the file list is built here.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const roots = process.argv.slice(2)
const searchRoots =
  roots.length > 0 ? roots : ['packages', 'services', 'simulator', 'scripts', 'bench', 'e2e']
const skip = new Set(['node_modules', 'data', '.git'])

function collect(dir, out) {
  let entries
  try {
    entries = readdirSync(dir)
  } catch {
    return out
  }
  for (const name of entries) {
    if (skip.has(name)) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) collect(path, out)
    else if (name.endsWith('.test.ts')) out.push(path)
  }
  return out
}

const files = searchRoots.flatMap((root) => collect(root, [])).sort()
if (files.length === 0) {
  console.error(`no test files under ${searchRoots.join(', ')}`)
  process.exit(1)
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2'
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
  { stdio: 'inherit' },
)
process.exit(result.status ?? 1)
