import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { bundleEntry } from './launch.mjs'

const LAUNCH = fileURLToPath(new URL('./launch.mjs', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))

// Inside the repository, so the fixtures resolve `@wxgate/*` and node_modules as a service does.
let dir = ''
before(async () => {
  await mkdir(join(ROOT, 'node_modules', '.cache'), { recursive: true })
  dir = await mkdtemp(join(ROOT, 'node_modules', '.cache', 'launch-test-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
  // The fixtures' bundles too: their cache directories are named after the fixtures' paths.
  const cache = join(ROOT, 'node_modules', '.cache', 'wxgate')
  for (const name of await readdir(cache)) {
    if (name.includes(`_${basename(dir)}_`)) await rm(join(cache, name), { recursive: true })
  }
})

function run(
  entry: string,
  ...args: string[]
): Promise<{ code: number | null; out: string; err: string }> {
  return runWith(LAUNCH, undefined, entry, ...args)
}

function runWith(
  launcher: string,
  cwd: string | undefined,
  ...args: string[]
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [launcher, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(cwd === undefined ? {} : { cwd }),
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
      err += chunk.toString('utf8')
    })
    child.once('exit', (code) => resolve({ code, out, err }))
  })
}

test('runs a TypeScript entry with our packages bundled in and third-party packages imported', async () => {
  const entry = join(dir, 'entry.ts')
  await writeFile(join(dir, 'helper.ts'), `export const twice = (n: number): number => n * 2\n`)
  await writeFile(
    entry,
    [
      `import { twice } from './helper.js'`,
      `import { verifyUrlSignature } from '@wxgate/wechat'`,
      `import { z } from 'zod'`,
      `const port: number = z.coerce.number().parse(process.argv[2])`,
      `console.log(JSON.stringify({ argv1: process.argv[1], twice: twice(port), signed: typeof verifyUrlSignature }))`,
    ].join('\n'),
  )
  const { code, out } = await run(entry, '21')
  assert.equal(code, 0, out)
  assert.deepEqual(JSON.parse(out), { argv1: entry, twice: 42, signed: 'function' })

  const bundled = await readFile(await bundleEntry(entry), 'utf8')
  assert.match(bundled, /from "zod"/, 'third-party packages stay imports')
  assert.doesNotMatch(bundled, /from "@wxgate\/wechat"/, 'workspace packages are bundled in')
})

test('the same code gives the same module; a change gives a new one', async () => {
  const entry = join(dir, 'stable.ts')
  await writeFile(entry, `export const answer: number = 1\n`)
  const first = await bundleEntry(entry)
  assert.equal(await bundleEntry(entry), first)
  await writeFile(entry, `export const answer: number = 2\n`)
  assert.notEqual(await bundleEntry(entry), first)
})

test('stack traces name the TypeScript source and line', async () => {
  const entry = join(dir, 'throws.ts')
  await writeFile(
    entry,
    `type T = { a: number }\n\nconst t: T = { a: 1 }\nthrow new Error('boom ' + String(t.a))\n`,
  )
  const { code, out } = await run(entry)
  assert.equal(code, 1)
  assert.match(out, /Error: boom 1/)
  assert.match(out, /throws\.ts:4/)
})

test('several processes starting the same new entry at once all run it', async () => {
  const entry = join(dir, 'together.ts')
  await writeFile(entry, `console.log('ran ' + String(process.pid > 0))\n`)
  const results = await Promise.all([run(entry), run(entry), run(entry), run(entry)])
  for (const { code, out } of results) {
    assert.equal(code, 0, out)
    assert.equal(out.trim(), 'ran true')
  }
})

test('--prepare writes the bundle a later start finds, and runs nothing', async () => {
  const entry = join(dir, 'prepared.ts')
  await writeFile(entry, `console.log('ran')\n`)
  const prepared = await run('--prepare', entry)
  assert.equal(prepared.code, 0, prepared.out)
  assert.doesNotMatch(prepared.out, /ran/)
  assert.equal(join(ROOT, prepared.out.trim()), await bundleEntry(entry))
})

test("an entry that does not compile stops with esbuild's error and one line, no stack trace", async () => {
  const entry = join(dir, 'broken.ts')
  await writeFile(entry, `const x: number = (\n`)
  const { code, out, err } = await run(entry)
  assert.equal(code, 1)
  assert.equal(out, err, 'nothing on stdout')
  assert.match(err, /broken\.ts:\d+:\d+/, "esbuild's error names the file and line")
  assert.match(err, /^launch: cannot bundle .*broken\.ts: /m)
  assert.doesNotMatch(err, /^\s+at /m, 'no stack trace')
})

test('started through a symlinked path or with a path relative to the working directory, it still runs', async () => {
  const entry = join(dir, 'where.ts')
  await writeFile(entry, `console.log('ran from ' + process.argv[1])\n`)
  const link = join(await mkdtemp(join(tmpdir(), 'launch-link-')), 'repo')
  await symlink(ROOT, link)
  try {
    const viaLink = await runWith(join(link, 'scripts', 'launch.mjs'), undefined, entry)
    assert.equal(viaLink.code, 0, viaLink.out)
    assert.equal(viaLink.out.trim(), `ran from ${entry}`)
    const relativeToCwd = await runWith(LAUNCH, dir, 'where.ts')
    assert.equal(relativeToCwd.code, 0, relativeToCwd.out)
    assert.equal(relativeToCwd.out.trim(), `ran from ${entry}`)
  } finally {
    await rm(link, { force: true })
  }
})

test('without an entry it says how to use it', async () => {
  const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [LAUNCH], { stdio: ['ignore', 'ignore', 'pipe'] })
    let out = ''
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')))
    child.once('exit', (code) => resolve({ code, out }))
  })
  assert.equal(result.code, 2)
  assert.match(result.out, /usage: node scripts\/launch\.mjs/)
})
