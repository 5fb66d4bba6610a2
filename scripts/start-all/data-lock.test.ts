import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
})
