// The node arguments of one of package.json's `exec node …` scripts, for the harnesses that start a
// service themselves (npm start's children, the benchmark, the end-to-end suites) and must start it
// exactly as `npm run start:app` would: reading the script keeps them one command, not two copies.
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')

export type ServiceScript = 'start:app' | 'start:gateway' | 'migrate' | 'simulator'

/**
 * `exec node --flag scripts/launch.mjs services/app/src/server.ts` → `['--flag', '/…/scripts/launch.mjs',
 * '/…/services/app/src/server.ts']`: file paths made absolute, so the caller may spawn from any
 * directory. The script is split on spaces: it must not quote arguments.
 */
export function npmScriptNodeArgs(script: ServiceScript): string[] {
  const manifest = JSON.parse(readFileSync(resolve(repositoryRoot, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>
  }
  const command = manifest.scripts?.[script]
  const match = command === undefined ? null : /^exec node (.+)$/.exec(command)
  if (match?.[1] === undefined) {
    throw new Error(`package.json script "${script}" is not "exec node …": ${String(command)}`)
  }
  return (
    match[1]
      .trim()
      .split(/\s+/)
      // Only file arguments are paths; flags, their values and module names (`tsx`) stay as they are.
      .map((arg) => (/\.(?:[cm]?ts|[cm]?js)$/.test(arg) ? resolve(repositoryRoot, arg) : arg))
  )
}
