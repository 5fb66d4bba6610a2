import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleEntry } from '../../../scripts/launch.mjs'

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url))
// As `npm run start:gateway` runs it: the repository's launcher, by absolute path so the child can run
// in a temp directory (no stray .env is read there).
const LAUNCH = fileURLToPath(new URL('../../../scripts/launch.mjs', import.meta.url))
const dirs: string[] = []
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

function run(env: Record<string, string>, cwd: string, onOutput?: (text: string) => void) {
  const child = spawn(process.execPath, [LAUNCH, SERVER], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8')
    onOutput?.(stdout)
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  )
  return { child, exit }
}

describe('gateway server', () => {
  it('refuses to start without its required variables, one line per variable', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'gateway-server-'))
    dirs.push(cwd)
    const { exit } = run({}, cwd)
    const { code, stderr } = await exit
    assert.equal(code, 1)
    assert.deepEqual(stderr.trim().split('\n').sort(), [
      'config: INTERNAL_API_SECRET is required (at least 32 characters)',
      'config: WECHAT_APPID is required',
      'config: WECHAT_TOKEN is required',
    ])
  })

  it('starts with only its own variables, creates the spool, and drains and exits 0 on SIGTERM', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'gateway-server-'))
    dirs.push(cwd)
    let listening: (url: string) => void = () => undefined
    const up = new Promise<string>((resolve) => {
      listening = resolve
    })
    const { child, exit } = run(
      {
        WECHAT_APPID: 'wx1234567890abcdef',
        WECHAT_TOKEN: 'token',
        INTERNAL_API_SECRET: 'x'.repeat(32),
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: '0',
        LOG_LEVEL: 'info',
      },
      cwd,
      (stdout) => {
        const match = /Server listening at (http:\/\/[0-9.:]+)/.exec(stdout)
        if (match?.[1] !== undefined) listening(match[1])
      },
    )
    const url = await Promise.race([
      up,
      exit.then(({ stderr }) => assert.fail(`exited early: ${stderr}`)),
    ])
    assert.equal((await fetch(`${url}/healthz`)).status, 200)
    assert.deepEqual(await readdir(join(cwd, 'data')), ['spool'])
    child.kill('SIGTERM')
    const { code } = await exit
    assert.equal(code, 0)
  })

  it('says in one line why it cannot start when its port is taken, and exits 1', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'gateway-server-'))
    dirs.push(cwd)
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = taken.address() as AddressInfo
      const { exit } = run(
        {
          WECHAT_APPID: 'wx1234567890abcdef',
          WECHAT_TOKEN: 'token',
          INTERNAL_API_SECRET: 'x'.repeat(32),
          GATEWAY_HOST: '127.0.0.1',
          GATEWAY_PORT: String(port),
          LOG_LEVEL: 'warn',
        },
        cwd,
      )
      const { code, stderr } = await exit
      assert.equal(code, 1)
      assert.deepEqual(stderr.trim().split('\n'), [
        `gateway: cannot start: listen EADDRINUSE: address already in use 127.0.0.1:${port}`,
      ])
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  })

  it('names GATEWAY_SPOOL_DIR in its one line when the spool cannot be made, and exits 1', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'gateway-server-'))
    dirs.push(cwd)
    // A directory below a regular file cannot be made.
    await writeFile(join(cwd, 'a-file'), '')
    const { exit } = run(
      {
        WECHAT_APPID: 'wx1234567890abcdef',
        WECHAT_TOKEN: 'token',
        INTERNAL_API_SECRET: 'x'.repeat(32),
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: '0',
        GATEWAY_SPOOL_DIR: join(cwd, 'a-file', 'spool'),
        LOG_LEVEL: 'warn',
      },
      cwd,
    )
    const { code, stderr } = await exit
    assert.equal(code, 1)
    const lines = stderr.trim().split('\n')
    assert.equal(lines.length, 1, stderr)
    assert.match(lines[0] ?? '', /^gateway: cannot start: cannot use GATEWAY_SPOOL_DIR .*a-file/)
  })
})

describe('the gateway as started (its runtime packages)', () => {
  // The gateway runs in < 100 MiB under load with a few MiB to spare (docs/benchmarks.md, "Memory"), and a
  // module it imports from is loaded whole: one constant taken from internal-api's schema module once
  // loaded TypeBox (~3 MiB of heap) this way. A package added here is a decision against that budget.
  const ALLOWED_AT_START = [
    '@fastify/ajv-compiler',
    '@fastify/error',
    '@fastify/proxy-addr',
    'fastify',
    'pino',
    'prom-client',
    'zod',
  ]

  it('loads only the third-party packages it needs at start, and ioredis only by a dynamic import', async () => {
    const bundle = await readFile(await bundleEntry('services/gateway/src/server.ts'), 'utf8')
    const packageOf = (specifier: string): string =>
      specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/')
    const thirdParty = (pattern: RegExp): string[] => [
      ...new Set(
        [...bundle.matchAll(pattern)]
          .map((match) => match[1] ?? '')
          .filter((specifier) => !specifier.startsWith('node:') && !specifier.startsWith('.'))
          .map(packageOf),
      ),
    ]
    const atStart = thirdParty(/^import\s(?:[^;]*?\sfrom\s+)?"([^"]+)";$/gm).sort()
    assert.deepEqual(atStart, ALLOWED_AT_START)
    assert.deepEqual(thirdParty(/\bimport\(\s*"([^"]+)"\s*\)/g), ['ioredis'])
  })
})
