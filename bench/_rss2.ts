import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { runWrk, writeRequestFile } from './load/wrk.js'
import { verifyRequests, safeModeTextPushes, payNotifications } from './fixtures/wechat-requests.js'
const keys = { appId: 'wx1234567890abcdef', token: 'tok123', encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', originalId: 'gh_123' }
const stub = createServer((req, res) => { req.resume(); req.on('end', () => setTimeout(() => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"order":{"status":"paid"},"changed":true}') }, 5)) })
await new Promise<void>((r) => stub.listen(18291, '127.0.0.1', () => r()))
const env = { PATH: process.env.PATH!, GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '18290', APP_SERVER_URL: 'http://127.0.0.1:18291', INTERNAL_API_SECRET: '0123456789abcdef0123456789abcdef', WECHAT_APPID: keys.appId, WECHAT_TOKEN: keys.token, WECHAT_ENCODING_AES_KEY: keys.encodingAesKey, WECHAT_PAY_MCHID: '1900000109', WECHAT_PAY_API_KEY: '0123456789abcdef0123456789abcdef', GATEWAY_SPOOL_DIR: '/tmp/exp/spool4', LOG_LEVEL: 'warn', GATEWAY_DEFAULT_REPLY_TEXT: 'hello there' }
const args = (process.env.EXP_ARGS ?? '--max-semi-space-size=2 --heap-growing-percent=50 scripts/launch.mjs services/gateway/src/server.ts').split(' ')
const child = spawn('taskset', ['-c', '1', process.execPath, ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] })
await sleep(2500)
const mem = () => { const s = readFileSync(`/proc/${child.pid}/status`, 'utf8'); return `${Math.round(Number(s.match(/VmRSS:\s+(\d+)/)![1]) / 1024)}/${Math.round(Number(s.match(/VmHWM:\s+(\d+)/)![1]) / 1024)}` }
const cpu = () => { const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10000 }
const now = Math.floor(Date.now() / 1000)
await writeRequestFile('/tmp/exp/verify.req', verifyRequests(keys.token, 2000, now))
await writeRequestFile('/tmp/exp/text.req', safeModeTextPushes(keys, 5000, now, 1000n))
await writeRequestFile('/tmp/exp/notify.req', payNotifications({ appId: keys.appId, mchId: '1900000109', apiKey: '0123456789abcdef0123456789abcdef' }, Array.from({ length: 30000 }, (_, i) => ({ outTradeNo: `T${i}`, amountFen: 100, openId: 'o1' })), new Date()))
const out: string[] = [`idle ${mem()}`]
for (const p of (process.env.EXP_PHASES ?? 'verify:50,text:50,text:200,verify:200,notify:10,notify:200').split(',')) {
  const [kind, c] = p.split(':')
  const before = cpu()
  const r = await runWrk({ origin: 'http://127.0.0.1:18290', requestFile: `/tmp/exp/${kind}.req`, connections: Number(c), durationS: 6, cpus: '0' })
  out.push(`${p} ${Math.round(r.requestsPerS)}/s ${Math.round((cpu() - before) / r.requests)}µs p99 ${r.latencyMs.p99.toFixed(0)} ${mem()}`)
}
console.log(out.join(' | '))
child.kill('SIGTERM'); stub.close()
