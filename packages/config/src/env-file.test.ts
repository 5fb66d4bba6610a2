// Tests for the .env reader: comments, quotes, export, no expansion, error lines.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { EnvFileError, parseEnvFile, readEnvFile } from './env-file.js'

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return assert.fail('expected an error')
}

describe('parseEnvFile', () => {
  it('reads plain assignments and skips blank lines and comments', () => {
    const text = ['# a comment', '', 'A=1', '  # indented comment', 'B = two words ', 'C='].join(
      '\n',
    )
    assert.deepEqual(parseEnvFile(text), { A: '1', B: 'two words', C: '' })
  })

  it('accepts an export prefix', () => {
    assert.deepEqual(parseEnvFile('export APP_PORT=8000\nexport  X="y"'), {
      APP_PORT: '8000',
      X: 'y',
    })
  })

  it('strips a trailing comment from an unquoted value only after whitespace', () => {
    assert.deepEqual(parseEnvFile('A=abc # note\nB=abc#not-a-comment\nC=#'), {
      A: 'abc',
      B: 'abc#not-a-comment',
      C: '',
    })
  })

  it('keeps single-quoted values literally', () => {
    assert.deepEqual(parseEnvFile(`A='x # y \\n $HOME'`), { A: 'x # y \\n $HOME' })
  })

  it('interprets escapes inside double quotes and allows a comment after them', () => {
    assert.deepEqual(parseEnvFile('A="line1\\nline2 \\"q\\" # kept" # dropped'), {
      A: 'line1\nline2 "q" # kept',
    })
  })

  it('lets quoted values span several lines', () => {
    const parsed = parseEnvFile('KEY="-----BEGIN-----\nabc\n-----END-----"\nNEXT=1')
    assert.equal(parsed.KEY, '-----BEGIN-----\nabc\n-----END-----')
    assert.equal(parsed.NEXT, '1')
  })

  it('never expands variables', () => {
    assert.deepEqual(parseEnvFile('A=1\nB=$A\nC="${A}"'), { A: '1', B: '$A', C: '${A}' })
  })

  it('handles CRLF line endings and a byte-order mark', () => {
    assert.deepEqual(parseEnvFile('\uFEFFA=1\r\nB="2"\r\n'), { A: '1', B: '2' })
  })

  it('lets a later assignment win', () => {
    assert.deepEqual(parseEnvFile('A=1\nA=2'), { A: '2' })
  })

  it('reports the line of a malformed entry without echoing its content', () => {
    const error = thrown(() => parseEnvFile('A=1\n\nSECRET_LINE_WITHOUT_EQUALS'))
    assert.ok(error instanceof EnvFileError)
    assert.equal(error.line, 3)
    assert.ok(!error.message.includes('SECRET_LINE'))
  })

  it('rejects an unterminated quote and text after a closing quote', () => {
    assert.throws(() => parseEnvFile('A="open'), /unterminated/)
    assert.throws(() => parseEnvFile('A="x" y'), /after the closing quote/)
  })

  it('rejects an invalid variable name', () => {
    assert.throws(() => parseEnvFile('1A=x'), /invalid variable name/)
  })

  it('counts lines inside multi-line values when reporting a later error', () => {
    const error = thrown(() => parseEnvFile('A="x\ny"\nbad line'))
    assert.ok(error instanceof EnvFileError)
    assert.equal(error.line, 3)
  })
})

describe('readEnvFile', () => {
  it('reads a file from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxgate-config-'))
    try {
      const path = join(dir, '.env')
      writeFileSync(path, 'A=from-file\n')
      assert.deepEqual(readEnvFile(path), { A: 'from-file' })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
