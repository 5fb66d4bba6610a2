import { afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSpool } from './spool.js'

const isText = (value: unknown): value is { text: string } =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { text?: unknown }).text === 'string'

const dirs: string[] = []
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gateway-spool-'))
  dirs.push(dir)
  return dir
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

describe('spool', () => {
  it('keeps entries per key in the order they were appended', async () => {
    const spool = await openSpool({ dir: await tempDir(), isPayload: isText, now: () => 5 })
    await spool.append('u1', { text: 'a' })
    await spool.append('u2', { text: 'x' })
    await spool.append('u1', { text: 'b' })
    assert.equal(spool.depth(), 3)
    assert.deepEqual(spool.keys().sort(), ['u1', 'u2'])
    const first = spool.head('u1')
    assert.equal(first?.payload.text, 'a')
    if (first !== undefined) await spool.remove(first)
    assert.equal(spool.head('u1')?.payload.text, 'b')
    assert.equal(spool.depth(), 2)
  })

  it('gives entries back to a new process in the same order, with their request ids', async () => {
    const dir = await tempDir()
    const before = await openSpool({ dir, isPayload: isText })
    for (const text of ['1', '2', '3']) await before.append('u1', { text }, `req-${text}`)
    const after = await openSpool({ dir, isPayload: isText })
    const seen: string[] = []
    for (let entry = after.head('u1'); entry !== undefined; entry = after.head('u1')) {
      seen.push(`${entry.payload.text}/${entry.requestId ?? ''}`)
      await after.remove(entry)
    }
    assert.deepEqual(seen, ['1/req-1', '2/req-2', '3/req-3'])
    assert.deepEqual(await readdir(dir), [])
  })

  it('keeps counting upwards after a restart even when the clock went back', async () => {
    const dir = await tempDir()
    const before = await openSpool({ dir, isPayload: isText, now: () => 2_000_000 })
    await before.append('u1', { text: 'old' })
    const after = await openSpool({ dir, isPayload: isText, now: () => 1_000_000 })
    const entry = await after.append('u1', { text: 'new' })
    assert.equal(after.head('u1')?.payload.text, 'old')
    assert.ok(entry.seq > (after.head('u1')?.seq ?? 0n))
  })

  it('sets aside unreadable files and deletes unfinished writes on open', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, '00000000000000000001.json'), '{"v":1,')
    await writeFile(
      join(dir, '00000000000000000002.json'),
      JSON.stringify({ v: 1, key: 'u', enqueuedAt: 1, payload: { nope: 1 } }),
    )
    await writeFile(join(dir, '.tmp-00000000000000000003'), 'half')
    const problems: string[] = []
    const spool = await openSpool({
      dir,
      isPayload: isText,
      onProblem: (p) => problems.push(p.file),
    })
    assert.equal(spool.depth(), 0)
    assert.deepEqual(problems.sort(), ['00000000000000000001.json', '00000000000000000002.json'])
    assert.deepEqual((await readdir(dir)).sort(), [
      '00000000000000000001.bad',
      '00000000000000000002.bad',
    ])
  })

  it('resumes counting from entries it read back, not from a stray file it set aside', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, '99999999999999999999.json'), 'not an entry')
    const spool = await openSpool({ dir, isPayload: isText, now: () => 5 })
    const entry = await spool.append('u1', { text: 'a' })
    assert.equal(entry.id, '00000000000000005000')
    const reopened = await openSpool({ dir, isPayload: isText, now: () => 5 })
    assert.equal(reopened.head('u1')?.payload.text, 'a')
  })

  it('reads back entries whose sequence outgrew 20 digits, after the 20-digit ones', async () => {
    const dir = await tempDir()
    const stored = (text: string) =>
      JSON.stringify({ v: 1, key: 'u1', enqueuedAt: 1, payload: { text } })
    // A valid entry at the last 20-digit number (copied in by hand, or from a clock gone wild).
    await writeFile(join(dir, '99999999999999999999.json'), stored('last of 20'))
    const spool = await openSpool({ dir, isPayload: isText, now: () => 5 })
    const next = await spool.append('u1', { text: 'first of 21' })
    assert.equal(next.id, '100000000000000000000')
    await writeFile(join(dir, '00000000000000000007.json'), stored('early'))
    const reopened = await openSpool({ dir, isPayload: isText })
    const seen: string[] = []
    for (let e = reopened.head('u1'); e !== undefined; e = reopened.head('u1')) {
      seen.push(e.payload.text)
      await reopened.remove(e)
    }
    assert.deepEqual(seen, ['early', 'last of 20', 'first of 21'])
  })

  it('removes its unfinished file when an append fails', async () => {
    const dir = await tempDir()
    const spool = await openSpool({ dir, isPayload: isText, now: () => 5 })
    // The entry's final name is taken by a non-empty directory, so the rename into place fails.
    await mkdir(join(dir, '00000000000000005000.json'))
    await writeFile(join(dir, '00000000000000005000.json', 'x'), '')
    await assert.rejects(spool.append('u1', { text: 'a' }))
    assert.equal(spool.depth(), 0)
    assert.deepEqual(await readdir(dir), ['00000000000000005000.json'])
  })

  it('refuses to append when the directory is gone, so the caller can answer WeChat with an error', async () => {
    const dir = await tempDir()
    const spool = await openSpool({ dir, isPayload: isText })
    await rm(dir, { recursive: true })
    await assert.rejects(spool.append('u1', { text: 'a' }), { code: 'ENOENT' })
    assert.equal(spool.depth(), 0)
  })
})
