// Runs a TypeScript entry point of this repository in this process, compiled once at start:
//
//   node scripts/launch.mjs services/gateway/src/server.ts [args…]
//   node scripts/launch.mjs --prepare services/gateway/src/server.ts   (bundle only, e.g. in an image build)
//
// Why not `node --import tsx`: on Node ≥ 20.6 a registered loader runs its hooks on a thread of its
// own with a V8 heap of its own, alive for as long as the process. An idle gateway measured 155 MiB
// RSS under tsx and 97 MiB as one bundled module (docs/benchmarks.md), for code that never loads a
// module after start. So the entry and our workspace packages (TypeScript, `@wxgate/*`) are bundled
// by esbuild — the compiler tsx itself uses, already installed — into one ES module; third-party
// packages stay external and load from node_modules as they would under tsx. It takes about 0.1 s,
// so nothing needs building before `npm run start:*` (CONTRACT: no separate build step).
//
// The module is written to node_modules/.cache/wxgate/<entry>-<hash of its content>/ with a source
// map (stack traces name the .ts files), and imported from there, so its bare imports resolve from the
// repository's node_modules, where npm hoists every workspace's dependencies; a package that only a
// workspace's own node_modules holds would not be found, and the build refuses it rather than load
// another version. A directory named by content is never rewritten, so several
// processes starting the same service at once (the topology test runs two of each) share it safely,
// and a bundle prepared at image build time is found, not rewritten, by a service whose user may not
// write to node_modules.
// `import.meta.url` names the bundle, not the source file: code that finds files next to itself that
// way must not be launched like this (the simulator's demo page does; it stays on tsx).
// Entry paths are taken relative to the working directory, as node would take them.
import { spawnSync } from 'node:child_process'
import { existsSync, realpathSync } from 'node:fs'
import { mkdir, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { createHash, randomUUID } from 'node:crypto'
import { isBuiltin } from 'node:module'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const cacheRoot = join(root, 'node_modules', '.cache', 'wxgate')
/** Older builds of the same entry are removed once they are this old (a process may still be starting from one). */
const STALE_AFTER_MS = 10 * 60 * 1000

/** Third-party imports stay imports; only relative paths and our own `@wxgate/*` packages are bundled. */
const keepPackagesExternal = {
  name: 'keep-packages-external',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@wxgate/')) return undefined
      if (isBuiltin(args.path)) return { path: args.path, external: true }
      const shadowedIn = nestedInstall(args.path, args.resolveDir)
      if (shadowedIn !== undefined) {
        return {
          errors: [
            {
              text: `${args.path} is installed in ${relative(root, shadowedIn)}: the bundle would load the root's copy instead`,
            },
          ],
        }
      }
      return { path: args.path, external: true }
    })
  },
}

/** A node_modules below the repository root (not the root's own) that holds the imported package. */
function nestedInstall(specifier, fromDir) {
  const parts = specifier.split('/')
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
  for (let dir = fromDir; dir.startsWith(`${root}/`); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(candidate)) return candidate
  }
  return undefined
}

/** Bundles `entry` and returns the path of the module to import. */
export async function bundleEntry(entry) {
  const { build } = await import('esbuild')
  const entryPath = resolve(root, entry)
  const label = relative(root, entryPath)
    .replace(/\.[cm]?ts$/, '')
    .replaceAll(/[^\w-]+/g, '_')
  const outName = `${basename(entryPath).replace(/\.[cm]?ts$/, '')}.mjs`
  const result = await build({
    entryPoints: [entryPath],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node}`,
    sourcemap: 'linked',
    sourcesContent: false,
    // Paths in the source map are relative to the output directory, whose depth below root is fixed.
    outdir: join(cacheRoot, 'build'),
    entryNames: outName.replace(/\.mjs$/, ''),
    outExtension: { '.js': '.mjs' },
    plugins: [keepPackagesExternal],
    logLevel: 'error',
  })
  const code = result.outputFiles.find((file) => file.path.endsWith('.mjs'))
  const map = result.outputFiles.find((file) => file.path.endsWith('.map'))
  if (code === undefined || map === undefined)
    throw new Error(`esbuild produced no module for ${entry}`)
  const hash = createHash('sha256')
    .update(code.contents)
    .update(map.contents)
    .digest('hex')
    .slice(0, 16)
  const dir = join(cacheRoot, `${label}-${hash}`)
  const modulePath = join(dir, outName)
  if (await exists(modulePath)) {
    // In use again: not stale for the cleanup of other starts (best effort on a read-only cache).
    await utimes(dir, new Date(), new Date()).catch(() => undefined)
  } else {
    // Written beside, then renamed into place: a reader sees the whole directory or none of it.
    const scratch = `${dir}.${randomUUID()}.tmp`
    await mkdir(scratch, { recursive: true })
    await writeFile(join(scratch, outName), code.contents)
    await writeFile(join(scratch, `${outName}.map`), map.contents)
    try {
      await rename(scratch, dir)
    } catch (error) {
      // Another process put the same content in place first.
      await rm(scratch, { recursive: true, force: true })
      if (!(await exists(modulePath))) throw error
    }
  }
  await removeStaleBuilds(label, dir)
  return modulePath
}

async function exists(path) {
  return stat(path).then(
    () => true,
    () => false,
  )
}

async function removeStaleBuilds(label, keep) {
  const now = Date.now()
  // Exactly this entry's builds (and scratch directories): `<label>-<16 hex>[.<uuid>.tmp]`.
  const ofThisEntry = new RegExp(`^${label}-[0-9a-f]{16}(\\.[0-9a-f-]{36}\\.tmp)?$`)
  for (const name of await readdir(cacheRoot).catch(() => [])) {
    const path = join(cacheRoot, name)
    if (path === keep || !ofThisEntry.test(name)) continue
    const info = await stat(path).catch(() => undefined)
    if (info !== undefined && now - info.mtimeMs > STALE_AFTER_MS) {
      // Best effort: a read-only node_modules (a container's) keeps its one bundle anyway.
      await rm(path, { recursive: true, force: true }).catch(() => undefined)
    }
  }
}

/** Whether node was started on this file (argv[1] keeps a symlinked path; import.meta.url does not). */
function isMainModule() {
  if (process.argv[1] === undefined) return false
  try {
    return realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)
  } catch {
    return false
  }
}

function fail(message) {
  process.stderr.write(`launch: ${message}\n`)
  process.exit(1)
}

if (isMainModule()) {
  const prepareOnly = process.argv[2] === '--prepare'
  if (prepareOnly) process.argv.splice(2, 1)
  const entryArg = process.argv[2]
  if (entryArg === undefined) {
    process.stderr.write('usage: node scripts/launch.mjs [--prepare] <entry.ts> [args…]\n')
    process.exit(2)
  }
  const entry = resolve(entryArg)
  if (prepareOnly) {
    const { stop } = await import('esbuild')
    // esbuild has printed its own errors with file and line by the time this rejects.
    const modulePath = await bundleEntry(entry)
      .catch((error) =>
        fail(`cannot bundle ${entryArg}: ${String(error?.message ?? error).split('\n')[0]}`),
      )
      .finally(stop)
    process.stdout.write(`${relative(root, modulePath)}\n`)
    process.exit(0)
  }
  // A stop before the service listens (a process manager giving up on a slow start, Ctrl-C) means "do
  // not start": nothing is in flight, so exit 0 as a drained stop does, rather than die by the signal.
  // service-kit's runServer removes this handler once it listens and drains from then on; an entry
  // that must not be stopped like this removes it too (releaseStartupStopHandler, same symbol).
  const stopBeforeListening = () => process.exit(0)
  process[Symbol.for('wxgate.startup-stop-handler')] = stopBeforeListening
  // service-kit's STOP_SIGNALS: a closed terminal's SIGHUP stops a service as SIGTERM does.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, stopBeforeListening)
  // Bundled by a short-lived child: esbuild's API and the build's garbage then never sit in the
  // service's heap (about 4 MiB of an idle gateway's RSS). Its errors go straight to our stderr.
  const built = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--prepare', entry], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  })
  if (built.error !== undefined) fail(`cannot run the bundler: ${built.error.message}`)
  // Stopped with us (the whole process group was signalled): not started, as above.
  if (['SIGTERM', 'SIGINT', 'SIGHUP'].includes(built.signal)) process.exit(0)
  if (built.signal !== null) fail(`the bundler was killed by ${built.signal}`)
  if (built.status !== 0) process.exit(built.status ?? 1)
  const modulePath = resolve(root, built.stdout.trim())
  // The service sees itself as the program: argv[1] is its entry, as under `node --import tsx`.
  process.argv.splice(1, 2, entry)
  process.setSourceMapsEnabled(true)
  await import(pathToFileURL(modulePath).href)
}
