// A durable on-disk queue: one fsynced file per entry, ordered by sequence number, read back on restart.
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'

export interface SpoolEntry<T> {
  /** The file name without `.json`; also the sequence number, zero-padded so names sort in order. */
  id: string
  seq: bigint
  /** Entries with the same key are delivered in `seq` order (the gateway uses the openId). */
  key: string
  enqueuedAt: number
  requestId: string | undefined
  payload: T
}

export interface SpoolProblem {
  file: string
  error: unknown
  /** `set-aside`: unreadable at open, renamed `.bad`; `left-behind`: a failed append's file could not be removed. */
  kind: 'set-aside' | 'left-behind'
}

export interface Spool<T> {
  readonly dir: string
  /** Resolves once the entry's file and the directory entry are on disk. */
  append(key: string, payload: T, requestId?: string): Promise<SpoolEntry<T>>
  remove(entry: SpoolEntry<T>): Promise<void>
  /** The oldest entry for `key`, if any. */
  head(key: string): SpoolEntry<T> | undefined
  has(key: string): boolean
  keys(): string[]
  depth(): number
}

export interface OpenSpoolOptions<T> {
  dir: string
  /** Checks a payload read back from disk; a file that fails is set aside as `<id>.bad`. */
  isPayload: (value: unknown) => value is T
  now?: () => number
  /** Told about files that could not be read back (renamed, never deleted) or cleaned up after a failed append. */
  onProblem?: (problem: SpoolProblem) => void
}

// 20 digits as written (zero-padded); more once a sequence outgrows them, so such an entry is still read back.
const ENTRY_FILE = /^(\d{20,})\.json$/
const TEMP_PREFIX = '.tmp-'

interface StoredEntry {
  v: 1
  key: string
  enqueuedAt: number
  requestId?: string
  payload: unknown
}

function isStoredEntry(value: unknown): value is StoredEntry {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (
    v.v === 1 &&
    typeof v.key === 'string' &&
    typeof v.enqueuedAt === 'number' &&
    (v.requestId === undefined || typeof v.requestId === 'string')
  )
}

async function fsyncPath(path: string, flags: string): Promise<void> {
  const handle = await open(path, flags)
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Opens (creating if needed) the spool in `dir` and loads what a previous run left there. */
export async function openSpool<T>(options: OpenSpoolOptions<T>): Promise<Spool<T>> {
  const { dir, isPayload, now = Date.now, onProblem } = options
  await mkdir(dir, { recursive: true })

  const queues = new Map<string, SpoolEntry<T>[]>()
  let depth = 0
  let lastSeq = 0n

  const found: { name: string; id: string; seq: bigint }[] = []
  for (const name of await readdir(dir)) {
    if (name.startsWith(TEMP_PREFIX)) {
      // Never renamed into place, so WeChat never got an answer for it: its retry brings it back.
      await unlink(join(dir, name))
      continue
    }
    const id = ENTRY_FILE.exec(name)?.[1]
    if (id !== undefined) found.push({ name, id, seq: BigInt(id) })
  }
  // By number, not by name: a name longer than 20 digits sorts after every 20-digit one.
  found.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))
  for (const { name, id, seq } of found) {
    try {
      const stored = JSON.parse(await readFile(join(dir, name), 'utf8')) as unknown
      if (!isStoredEntry(stored) || !isPayload(stored.payload)) {
        throw new Error(`spool entry ${id} has an unexpected shape`)
      }
      push({
        id,
        seq,
        key: stored.key,
        enqueuedAt: stored.enqueuedAt,
        requestId: stored.requestId,
        payload: stored.payload,
      })
      // Only an entry that was read back sets where counting resumes: a stray file set aside does not.
      if (seq > lastSeq) lastSeq = seq
    } catch (error) {
      onProblem?.({ file: name, error, kind: 'set-aside' })
      await rename(join(dir, name), join(dir, `${id}.bad`))
    }
  }

  function push(entry: SpoolEntry<T>): void {
    const queue = queues.get(entry.key)
    if (queue === undefined) queues.set(entry.key, [entry])
    else {
      // Concurrent appends may finish out of order; the sequence number decides.
      let at = queue.length
      while (at > 0 && (queue[at - 1]?.seq ?? 0n) > entry.seq) at -= 1
      queue.splice(at, 0, entry)
    }
    depth += 1
  }

  function nextSeq(): bigint {
    // Time-based so a restarted process keeps counting upwards even if the directory was emptied.
    const fromClock = BigInt(now()) * 1000n
    lastSeq = fromClock > lastSeq ? fromClock : lastSeq + 1n
    return lastSeq
  }

  return {
    dir,
    async append(key, payload, requestId) {
      const seq = nextSeq()
      const id = seq.toString().padStart(20, '0')
      const entry: SpoolEntry<T> = { id, seq, key, enqueuedAt: now(), requestId, payload }
      const stored: StoredEntry = { v: 1, key, enqueuedAt: entry.enqueuedAt, requestId, payload }
      const temp = join(dir, `${TEMP_PREFIX}${id}`)
      try {
        const handle = await open(temp, 'wx')
        try {
          await handle.writeFile(JSON.stringify(stored))
          await handle.sync()
        } finally {
          await handle.close()
        }
        await rename(temp, join(dir, `${id}.json`))
      } catch (error) {
        // A full or failing disk: the push is answered as not kept, and its half-written file goes now rather
        // than at the next start (each one holds an inode meanwhile).
        await unlink(temp).catch((cleanupError: unknown) => {
          // Never written (ENOENT) is fine; anything else is said, and the next open removes the file.
          if ((cleanupError as NodeJS.ErrnoException).code !== 'ENOENT') {
            onProblem?.({ file: `${TEMP_PREFIX}${id}`, error: cleanupError, kind: 'left-behind' })
          }
        })
        throw error
      }
      // The rename is only durable once the directory itself is synced.
      await fsyncPath(dir, 'r')
      push(entry)
      return entry
    },
    async remove(entry) {
      const queue = queues.get(entry.key)
      const index = queue?.indexOf(entry) ?? -1
      if (queue === undefined || index < 0) return
      // A crash before the unlink lands redelivers the entry once; app is idempotent for these calls.
      await unlink(join(dir, `${entry.id}.json`))
      queue.splice(index, 1)
      if (queue.length === 0) queues.delete(entry.key)
      depth -= 1
    },
    head(key) {
      return queues.get(key)?.[0]
    },
    has(key) {
      return queues.has(key)
    },
    keys() {
      return [...queues.keys()]
    },
    depth() {
      return depth
    },
  }
}
