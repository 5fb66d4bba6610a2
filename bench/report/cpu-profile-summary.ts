// summarizeCpuProfiles: the self time of V8 .cpuprofile files by function and by package, as markdown.
import { readFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { SourceMap } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number }
  hitCount?: number
}
interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  samples?: number[]
  timeDeltas?: number[]
}

/** A time window on the system's monotonic clock, in µs (what V8 stamps samples with). */
export interface ProfileWindow {
  label: string
  startUs: number
  endUs: number
}

/** Now on the monotonic clock V8 uses for profile timestamps, in µs. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n)
}

/** Where a frame's code lives: a package, a workspace, node itself, or V8 (GC, idle, program). */
export function frameOwner(url: string, functionName: string): string {
  if (url === '') return `(${functionName || 'anonymous'})`
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (modules?.[1] !== undefined) return modules[1]
  const workspace = /\/(packages\/[^/]+|services\/[^/]+|simulator|bench)\//.exec(url)
  if (workspace?.[1] !== undefined) return workspace[1]
  if (url.startsWith('node:')) return 'node:' + (url.slice(5).split('/')[0] ?? '')
  return url
}

/** A frame's place in the source: for a bundled service, the TypeScript file and line it came from. */
export type FrameResolver = (
  url: string,
  lineNumber: number,
  columnNumber: number,
) => { url: string; lineNumber: number }

/**
 * Services run as one bundle (scripts/launch.mjs), so their frames point into
 * node_modules/.cache/wxgate/…/server.mjs; the bundle's source map says which .ts file and line.
 */
export function sourceMapResolver(): FrameResolver {
  const maps = new Map<string, SourceMap | undefined>()
  return (url, lineNumber, columnNumber) => {
    if (!url.includes('/node_modules/.cache/wxgate/')) return { url, lineNumber }
    const path = url.startsWith('file:') ? fileURLToPath(url) : url
    if (!maps.has(path)) {
      let map: SourceMap | undefined
      try {
        map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')) as never)
      } catch {
        map = undefined
      }
      maps.set(path, map)
    }
    const entry = maps.get(path)?.findEntry(lineNumber, columnNumber)
    if (entry === undefined || !('originalSource' in entry)) return { url, lineNumber }
    return { url: resolve(dirname(path), entry.originalSource), lineNumber: entry.originalLine }
  }
}

export function summarizeProfile(
  profile: CpuProfile,
  window?: ProfileWindow,
  top = 25,
  resolveFrame: FrameResolver = (url, lineNumber) => ({ url, lineNumber }),
): string {
  const selfByNode = new Map<number, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  let at = profile.startTime
  for (let i = 0; i < samples.length; i++) {
    at += deltas[i] ?? 0
    if (window !== undefined && (at < window.startUs || at > window.endUs)) continue
    const id = samples[i] ?? -1
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + 1)
  }
  const total = [...selfByNode.values()].reduce((a, b) => a + b, 0)
  const byFunction = new Map<string, number>()
  const byOwner = new Map<string, number>()
  for (const node of profile.nodes) {
    const self = selfByNode.get(node.id) ?? 0
    if (self === 0) continue
    const { functionName } = node.callFrame
    const { url, lineNumber } = resolveFrame(
      node.callFrame.url,
      node.callFrame.lineNumber,
      node.callFrame.columnNumber ?? 0,
    )
    const short = url.replace(
      /^(?:file:\/\/)?.*?\/(node_modules|packages|services|simulator)\//,
      '$1/',
    )
    const fn = `${functionName || '(anonymous)'} ${short === '' ? '' : `${short}:${lineNumber + 1}`}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + self)
    const owner = frameOwner(url, functionName)
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + self)
  }
  const pct = (n: number) => `${((100 * n) / Math.max(1, total)).toFixed(1)} %`
  const rows = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, n]) => `| ${pct(n)} | \`${name.replace(/\|/g, '\\|')}\` |`)
      .join('\n')
  return [
    `Samples: ${total}.`,
    '',
    '| self | by package |',
    '|---:|---|',
    rows(byOwner),
    '',
    '| self | by function |',
    '|---:|---|',
    rows(byFunction),
  ].join('\n')
}

export async function summarizeCpuProfiles(
  targets: readonly { name: string; dir: string }[],
  windows: readonly ProfileWindow[],
): Promise<string> {
  const parts: string[] = []
  const resolveFrame = sourceMapResolver()
  for (const { name, dir } of targets) {
    let files: string[]
    try {
      files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'))
    } catch {
      parts.push(`#### ${name}\n\nNo profile was written.`)
      continue
    }
    for (const file of files) {
      const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile
      // Worker threads write their own files; only the main thread serves requests.
      if (!/\.0\.001\.cpuprofile$/.test(file)) continue
      for (const window of windows) {
        parts.push(
          `##### ${name} during ${window.label}\n\n${summarizeProfile(profile, window, 25, resolveFrame)}`,
        )
      }
    }
  }
  return parts.join('\n\n')
}
