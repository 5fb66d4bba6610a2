import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import SQLite from 'better-sqlite3'
import { TEST_ENV } from './testing/test-config.js'

const here = dirname(fileURLToPath(import.meta.url))
// As `npm run start:app` does: node running the repository's launcher (not the tsx CLI, which relays
// signals with a 30 ms grace and then SIGKILLs, which would defeat the drain under load).
const LAUNCH = join(here, '..', '..', '..', 'scripts', 'launch.mjs')
const nodeArgs = (script: string) => [LAUNCH, join(here, script)]
const { SQLITE_PATH: _memory, LOG_LEVEL: _silent, ...REQUIRED } = TEST_ENV

/** Environment with only the required variables (plus a temp database and a free port). */
function childEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    ...REQUIRED,
    SQLITE_PATH: join(dir, 'app.sqlite'),
    APP_HOST: '127.0.0.1',
    APP_PORT: '0',
    ...extra,
  }
}

describe('server.ts and migrate.ts as processes', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wxgate-app-server-'))
  })
  after(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it('starts with only the required variables, serves /readyz, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, nodeArgs('server.ts'), {
      cwd: dir,
      env: childEnv(dir),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listen line in: ${output}`)), 60_000)
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/i.exec(output)
        if (match?.[1] !== undefined) {
          clearTimeout(timer)
          resolve(match[1])
        }
      })
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString()
      })
      child.on('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`exited ${code}: ${output}`))
      })
    })
    try {
      const ready = await fetch(`${url}/readyz`)
      assert.equal(ready.status, 200)
      const products = await fetch(`${url}/api/v1/payment/products`)
      assert.equal(products.status, 200)
      assert.ok(!output.includes(REQUIRED.JWT_SECRET), 'secrets never reach the log')
      assert.ok(!output.includes(REQUIRED.INTERNAL_API_SECRET))
    } finally {
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
      child.kill('SIGTERM')
      assert.equal(await exited, 0, output)
    }
  })

  it('stops at start with one line naming a missing variable', () => {
    const env = childEnv(dir)
    delete env.JWT_SECRET
    const result = spawnSync(process.execPath, nodeArgs('server.ts'), {
      cwd: dir,
      env,
      encoding: 'utf8',
    })
    assert.equal(result.status, 1)
    const lines = result.stderr.trim().split('\n')
    assert.equal(lines.length, 1, result.stderr)
    assert.match(lines[0] ?? '', /JWT_SECRET/)
  })

  it('says in one line why it cannot start when the database is unreachable, and exits 1', () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const env = childEnv(dir, {
      MYSQL_HOST: '127.0.0.1',
      MYSQL_PORT: '1',
      MYSQL_USER: 'wxgate',
      MYSQL_DATABASE: 'wxgate',
    })
    const result = spawnSync(process.execPath, nodeArgs('server.ts'), {
      cwd: dir,
      env,
      encoding: 'utf8',
      timeout: 30_000,
    })
    assert.equal(result.status, 1, result.stderr)
    const lines = result.stderr.trim().split('\n')
    assert.equal(lines.length, 1, result.stderr)
    assert.match(lines[0] ?? '', /^app: cannot start: .*ECONNREFUSED/)
  })

  it('exits 0 on SIGTERM while still starting (before it listens)', async () => {
    // A "MySQL" that accepts and never speaks: app waits in its first connection, not yet listening.
    const silent = createServer(() => undefined)
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const child = spawn(process.execPath, nodeArgs('server.ts'), {
        cwd: dir,
        env: childEnv(dir, {
          MYSQL_HOST: '127.0.0.1',
          MYSQL_PORT: String((silent.address() as AddressInfo).port),
          MYSQL_USER: 'wxgate',
          MYSQL_DATABASE: 'wxgate',
        }),
        stdio: 'ignore',
      })
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
      // Well after the launcher started, well before mysql2's 10 s connect timeout.
      await new Promise((resolve) => setTimeout(resolve, 3000))
      child.kill('SIGTERM')
      const [code, signal] = await exited
      assert.deepEqual({ code, signal }, { code: 0, signal: null })
    } finally {
      await new Promise((resolve) => silent.close(resolve))
    }
  })

  it('names SQLITE_PATH in its one line when the embedded database cannot be opened', () => {
    // A path below a regular file: neither the directory nor the database can be made.
    const blocker = join(dir, 'a-file')
    writeFileSync(blocker, '')
    for (const script of ['server.ts', 'migrate.ts']) {
      const result = spawnSync(process.execPath, nodeArgs(script), {
        cwd: dir,
        env: childEnv(dir, { SQLITE_PATH: join(blocker, 'app.sqlite') }),
        encoding: 'utf8',
      })
      assert.equal(result.status, 1, result.stderr)
      const lines = result.stderr.trim().split('\n')
      assert.equal(lines.length, 1, `${script}: ${result.stderr}`)
      assert.match(lines[0] ?? '', /SQLITE_PATH .*a-file/, script)
    }
  })

  it('migrates the database alone with `npm run migrate` (migrate.ts), needing only its settings', () => {
    const path = join(dir, 'migrated.sqlite')
    // No secrets, no WeChat settings: a schema can be made before they exist.
    const result = spawnSync(process.execPath, nodeArgs('migrate.ts'), {
      cwd: dir,
      env: { PATH: process.env.PATH, SQLITE_PATH: path },
      encoding: 'utf8',
    })
    assert.equal(result.status, 0, result.stderr)
    assert.ok(existsSync(path))
    const db = new SQLite(path, { readonly: true })
    try {
      const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as {
        name: string
      }[]
      for (const table of [
        'wechat_users',
        'payment_orders',
        'credit_ledger',
        'wechat_qrcode_bindings',
      ]) {
        assert.ok(
          tables.some((t) => t.name === table),
          `${table} missing`,
        )
      }
    } finally {
      db.close()
    }
  })
})
