// npm run simulator: the CLI entry as a child process.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'

describe('npm run simulator (server.ts)', () => {
  it('reads its settings from the environment, prints its URL, serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./server.ts', import.meta.url))],
      {
        env: {
          ...process.env,
          SIMULATOR_PORT: '0',
          WECHAT_APPID: 'wxserver0000000001',
          SIMULATOR_PUSH_MODE: 'plaintext',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    try {
      let output = ''
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString()
          const match = /listening on (http:\/\/\S+)/.exec(output)
          if (match?.[1]) resolve(match[1])
        })
        child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${output}`)))
      })
      const state = (await (await fetch(`${url}/_sim/state`)).json()) as {
        settings: { appId: string }
      }
      assert.equal(state.settings.appId, 'wxserver0000000001')
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      const [code] = (await exited) as [number | null]
      assert.equal(code, 0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})
