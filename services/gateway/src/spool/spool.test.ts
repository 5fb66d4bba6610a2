import { afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
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

  it('refuses to append when the directory is gone, so the caller can answer WeChat with an error', async () => {
    const dir = await tempDir()
    const spool = await openSpool({ dir, isPayload: isText })
    await rm(dir, { recursive: true })
    await assert.rejects(spool.append('u1', { text: 'a' }), { code: 'ENOENT' })
    assert.equal(spool.depth(), 0)
  })
})
