// One `npm start` per data folder: two would share one SQLite file and, worse, one gateway spool, which only
// one gateway may deliver from (docs/reliability.md). A pid file says who holds the folder.
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const LOCK_FILE = 'npm-start.pid'
/** Only one start at a time may clear a dead holder's lock; this file says who is doing it. */
const TAKEOVER_FILE = 'npm-start.pid.takeover'
/** A takeover takes milliseconds; a marker this old was left by a start that died in the middle of one. */
const TAKEOVER_STALE_MS = 10_000
const TAKEOVER_WAIT_MS = 20
const ATTEMPTS = 250

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

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT'

/** The pid a lock file names; undefined when the file is gone, NaN when it names none. */
function holderOf(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim()
    return /^\d+$/.test(text) ? Number(text) : Number.NaN
  } catch (error) {
    if (isMissing(error)) return undefined
    throw error
  }
}

function unlinkIfPresent(file: string): void {
  try {
    unlinkSync(file)
  } catch (error) {
    if (!isMissing(error)) throw error
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * Takes `dataDir` for this process, or throws DataDirInUseError while a live process holds it. The lock file
 * appears whole (a hard link to a file already holding the pid), so another start never reads it half written.
 * A lock whose process is gone (SIGKILL, a crash) is cleared, by one start at a time, and taken. Returns the
 * release function.
 */
export function lockDataDir(dataDir: string, pid: number = process.pid): () => void {
  const file = join(dataDir, LOCK_FILE)
  const mine = `${file}.${pid}`
  const takeover = join(dataDir, TAKEOVER_FILE)
  writeFileSync(mine, `${pid}\n`)
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        linkSync(mine, file)
        return () => {
          // Only our own lock: a start that found us gone may hold the folder by now. Run at exit, so a
          // failure is said, not thrown (the next start clears a lock whose process is gone anyway).
          try {
            if (holderOf(file) === pid) unlinkIfPresent(file)
          } catch (error) {
            process.stderr.write(`wxgate: could not remove ${file}: ${String(error)}\n`)
          }
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
      const holder = holderOf(file)
      if (holder === undefined) continue
      if (holder !== pid && Number.isSafeInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new DataDirInUseError(dataDir, holder)
      }
      // The holder is gone. Clearing its lock is a read, then an unlink: two starts doing it at once could each
      // remove the lock the other had just taken. Hence the takeover marker, made by one of them only.
      try {
        writeFileSync(takeover, `${pid}\n`, { flag: 'wx' })
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
        try {
          if (Date.now() - statSync(takeover).mtimeMs > TAKEOVER_STALE_MS) unlinkIfPresent(takeover)
        } catch (statError) {
          if (!isMissing(statError)) throw statError
        }
        sleepSync(TAKEOVER_WAIT_MS)
        continue
      }
      try {
        // Read again under the marker: only the dead holder's lock is removed, never a fresh one.
        const still = holderOf(file)
        if (
          still !== undefined &&
          !(still !== pid && Number.isSafeInteger(still) && isAlive(still))
        ) {
          unlinkIfPresent(file)
        }
      } finally {
        unlinkIfPresent(takeover)
      }
    }
    throw new Error(`could not take ${file} (tried ${ATTEMPTS} times)`)
  } finally {
    unlinkIfPresent(mine)
  }
}
