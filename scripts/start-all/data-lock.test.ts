import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, describe, it } from 'node:test'
import { DataDirInUseError, LOCK_FILE, lockDataDir } from './data-lock.js'

describe('lockDataDir', () => {
  const dirs: string[] = []
  const freshDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'wxgate-lock-'))
    dirs.push(dir)
    return dir
  }
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  it('takes a free folder, refuses it to a second holder while held, and frees it on release', () => {
    const dir = freshDir()
    const release = lockDataDir(dir)
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.pid))
    // Another live process (this test's parent stands in for a second npm start's view of us).
    assert.throws(
      () => lockDataDir(dir, process.ppid),
      (error: unknown) => error instanceof DataDirInUseError && error.holderPid === process.pid,
    )
    release()
    assert.equal(existsSync(join(dir, LOCK_FILE)), false)
    lockDataDir(dir, process.ppid)()
  })

  it('takes over a lock whose process is gone, and one that is not a pid', async () => {
    const dir = freshDir()
    const child = spawn(process.execPath, ['-e', ''])
    const deadPid = child.pid ?? 0
    await new Promise((resolve) => child.once('exit', resolve))
    writeFileSync(join(dir, LOCK_FILE), `${deadPid}\n`)
    const release = lockDataDir(dir)
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.pid))
    release()
    writeFileSync(join(dir, LOCK_FILE), 'garbage')
    lockDataDir(dir)()
  })

  it('leaves the lock alone on release once another process has taken it over', () => {
    const dir = freshDir()
    const releaseOld = lockDataDir(dir)
    // Taken over (as from a holder that was thought gone): the file now names another live process.
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`)
    releaseOld()
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.ppid))
    assert.throws(() => lockDataDir(dir), DataDirInUseError)
  })

  /** Starts `count` processes that all try to take `dir` at one instant; how many got it. */
  async function race(dir: string, count: number): Promise<number> {
    const module = fileURLToPath(new URL('./data-lock.ts', import.meta.url))
    const at = Date.now() + 2500
    const script = `
      import { lockDataDir } from ${JSON.stringify(module)}
      while (Date.now() < ${at}) {}
      let won = false
      try { lockDataDir(${JSON.stringify(dir)}); won = true } catch {}
      console.log(won ? 'won' : 'lost')
      // Held a while, as a running npm start holds it, so a late racer meets a live holder.
      setTimeout(() => {}, 800)
    `
    const runs = Array.from({ length: count }, () =>
      promisify(execFile)(process.execPath, [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
      ]),
    )
    const outputs = await Promise.all(runs)
    return outputs.filter(({ stdout }) => stdout.trim() === 'won').length
  }

  it('lets exactly one of several starts racing for a folder take it, fresh or left by a dead start', async () => {
    const child = spawn(process.execPath, ['-e', ''])
    const deadPid = child.pid ?? 0
    await new Promise((resolve) => child.once('exit', resolve))
    for (const stale of [false, true, false, true]) {
      const dir = freshDir()
      if (stale) writeFileSync(join(dir, LOCK_FILE), `${deadPid}\n`)
      assert.equal(await race(dir, 6), 1, stale ? 'a stale lock' : 'a fresh folder')
    }
  })
})
