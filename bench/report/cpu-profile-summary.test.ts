// Tests of the profile summary: who owns a frame, and only the samples of the measured window count.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { frameOwner, sourceMapResolver, summarizeProfile } from './cpu-profile-summary.js'
import { bundleEntry } from '../../scripts/launch.mjs'

describe('cpu profile summary', () => {
  it('names the package, workspace or runtime a frame belongs to', () => {
    assert.equal(
      frameOwner('file:///r/node_modules/fast-xml-parser/src/a.js', 'f'),
      'fast-xml-parser',
    )
    assert.equal(
      frameOwner('file:///r/node_modules/@pinojs/redact/index.js', 'f'),
      '@pinojs/redact',
    )
    assert.equal(frameOwner('file:///r/packages/wechat/src/xml/codec.ts', 'f'), 'packages/wechat')
    assert.equal(frameOwner('node:internal/crypto/hash', 'Hash'), 'node:internal')
    assert.equal(frameOwner('', '(idle)'), '((idle))')
  })

  it('counts only the samples inside the window', () => {
    const profile = {
      startTime: 1000,
      nodes: [
        { id: 1, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
        {
          id: 2,
          callFrame: {
            functionName: 'hot',
            url: 'file:///r/services/gateway/src/a.ts',
            lineNumber: 0,
          },
        },
      ],
      // timestamps 1010, 1020, 1030, 1040
      samples: [1, 2, 2, 1],
      timeDeltas: [10, 10, 10, 10],
    }
    const all = summarizeProfile(profile)
    assert.match(all, /Samples: 4\./)
    assert.match(all, /\| 50\.0 % \| `services\/gateway` \|/)
    const window = summarizeProfile(profile, { label: 'w', startUs: 1015, endUs: 1035 })
    assert.match(window, /Samples: 2\./)
    assert.match(window, /\| 100\.0 % \| `services\/gateway` \|/)
  })

  it('names the TypeScript file and line of a frame in a bundled service', async () => {
    const bundle = await bundleEntry('services/gateway/src/server.ts')
    const lines = (await readFile(bundle, 'utf8')).split('\n')
    // The bundle's line where the gateway's XML scanner reads a name (0-based, as V8 reports lines).
    const line = lines.findIndex(
      (text) => text.includes('private name()') || /^\s+name\(\) \{/.test(text),
    )
    assert.ok(line > 0, 'the scanner is in the bundle')
    const url = pathToFileURL(bundle).href
    const frame = sourceMapResolver()(url, line, 2)
    assert.match(frame.url, /\/packages\/wechat\/src\/xml\/codec\.ts$/)
    assert.equal(frameOwner(frame.url, 'name'), 'packages/wechat')
    // Anything else is left as it is.
    assert.deepEqual(sourceMapResolver()('node:internal/crypto/hash', 7, 1), {
      url: 'node:internal/crypto/hash',
      lineNumber: 7,
    })
  })
})
