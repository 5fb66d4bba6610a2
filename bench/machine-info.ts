// What the numbers were measured on: CPU, memory, kernel, runtime and the versions of everything compared.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, release, totalmem } from 'node:os'
import { join } from 'node:path'

export interface MachineInfo {
  cpuModel: string
  cpuCount: number
  memoryGiB: number
  kernel: string
  node: string
  versions: Record<string, string>
  commit: string
}

function packageVersion(root: string, name: string): string {
  try {
    const json = JSON.parse(
      readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'),
    ) as { version?: string }
    return json.version ?? 'unknown'
  } catch {
    return 'not installed'
  }
}

function commandOutput(command: string, args: string[], cwd: string): string {
  try {
    return (
      execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
        .split('\n')[0]
        ?.trim() ?? ''
    )
  } catch (error) {
    // wrk prints its version with a non-zero exit; the text is still on stdout.
    const out = (error as { stdout?: string }).stdout
    return typeof out === 'string' && out !== '' ? (out.split('\n')[0]?.trim() ?? '') : 'unknown'
  }
}

export function machineInfo(root: string, mariadbVersion: string): MachineInfo {
  const commit = commandOutput('git', ['rev-parse', '--short', 'HEAD'], root)
  const dirty = commandOutput('git', ['status', '--porcelain', '--untracked-files=no'], root)
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpuCount: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    versions: {
      MariaDB: mariadbVersion,
      wrk: commandOutput('wrk', ['--version'], root)
        .replace(/ Copyright.*$/, '')
        .replace(/^wrk /, ''),
      fastify: packageVersion(root, 'fastify'),
      mysql2: packageVersion(root, 'mysql2'),
      kysely: packageVersion(root, 'kysely'),
      jose: packageVersion(root, 'jose'),
      'wechat (node-webot)': packageVersion(root, 'wechat'),
      esbuild: packageVersion(root, 'esbuild'),
    },
    commit: commit + (dirty === '' ? '' : ' + uncommitted changes'),
  }
}
