// One `npm start` per data folder: two would share one SQLite file and, worse, one gateway spool, which only
// one gateway may deliver from (docs/reliability.md). A pid file says who holds the folder.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const LOCK_FILE = 'npm-start.pid'

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holderPid: number,
  ) {
    super(`another npm start (pid ${holderPid}) uses ${dataDir}`)
    this.name = 'DataDirInUseError'
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes `dataDir` for this process, or throws DataDirInUseError while a live process holds it. A lock left by
 * a process that died without cleaning up (SIGKILL, a crash) is taken over. Returns the release function.
 */
export function lockDataDir(dataDir: string, pid: number = process.pid): () => void {
  const file = join(dataDir, LOCK_FILE)
  for (;;) {
    try {
      // 'wx': created only if absent, so two starts racing for the folder cannot both win.
      writeFileSync(file, `${pid}\n`, { flag: 'wx' })
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    let holder = Number.NaN
    try {
      holder = Number(readFileSync(file, 'utf8').trim())
    } catch (error) {
      // Released between our attempt and this read: try again.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw error
    }
    if (Number.isSafeInteger(holder) && holder > 0 && holder !== pid && isAlive(holder)) {
      throw new DataDirInUseError(dataDir, holder)
    }
    try {
      unlinkSync(file)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(pid)) unlinkSync(file)
    } catch {
      // Already gone: nothing to release.
    }
  }
}
