import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import { npmScriptNodeArgs, repositoryRoot } from './npm-script-command.js'

test('the services run through the launcher, with absolute paths that exist', () => {
  for (const script of ['start:app', 'start:gateway', 'migrate'] as const) {
    const args = npmScriptNodeArgs(script)
    const launcher = args.findIndex((arg) => arg.endsWith('/scripts/launch.mjs'))
    assert.ok(launcher >= 0, `${script} runs the launcher: ${args.join(' ')}`)
    assert.match(args[launcher + 1] ?? '', /\/services\/(app|gateway)\/src\/\w+\.ts$/)
    for (const arg of args.slice(launcher)) assert.ok(existsSync(arg), `${script}: ${arg} exists`)
    for (const arg of args.slice(0, launcher)) assert.match(arg, /^--[\w-]+(=\w+)?$/, 'node flags')
  }
})

test('flags and the tsx loader name are kept as they are', () => {
  const args = npmScriptNodeArgs('simulator')
  assert.deepEqual(args.slice(0, 2), ['--import', 'tsx'])
  assert.match(args[2] ?? '', /\/simulator\/src\/server\.ts$/)
})

test('the container images run the same commands as npm run start:app / start:gateway', () => {
  const dockerfile = readFileSync(join(repositoryRoot, 'deploy', 'Dockerfile'), 'utf8')
  const commands = [...dockerfile.matchAll(/^CMD (\[.*\])$/gm)].map(
    (match) => JSON.parse(match[1] ?? '[]') as string[],
  )
  const relativeArgs = (script: 'start:app' | 'start:gateway') =>
    npmScriptNodeArgs(script).map((arg) =>
      arg.startsWith(repositoryRoot) ? relative(repositoryRoot, arg) : arg,
    )
  assert.deepEqual(commands, [
    ['node', ...relativeArgs('start:app')],
    ['node', ...relativeArgs('start:gateway')],
  ])
})
