// The production topology end to end and under faults: everything through nginx, real MariaDB and Redis.
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { signInternalRequest } from '@wxgate/internal-api'
import { parsePayNotifyAnswer, signPayParams } from '@wxgate/wechat'
import type { PaySignType } from '@wxgate/wechat'
import type { PayResult, PushResult } from '@wxgate/simulator'
import type { ApiClient, HttpAnswer, LoggedInUser, QrCode, RequestOptions } from './api-client.js'
import {
  accountView,
  checkFollow,
  createApiClient,
  createQrCode,
  field,
  mapLimit,
  oauthLogin,
  waitFor,
} from './api-client.js'
import type { PhaseFigures } from './figures.js'
import { createFigures } from './figures.js'
import { buildHostileCorpus, judgeCorpusAnswer } from './hostile-corpus.js'
import type { Topology } from './harness.js'
import { startTopology, topologySkipReason } from './harness.js'
import { NOTIFY_PATH, payNotificationXml } from './wechat-messages.js'

const skipReason = await topologySkipReason()
if (skipReason !== undefined) console.log(`# topology suite skipped: ${skipReason}`)

const PRODUCT_CREDITS: Record<string, number> = {
  credits_100: 100,
  credits_500: 500,
  member_month: 0,
}
const STORM_USERS = 20
const ORDERS_PER_USER = 10
const COPIES = 5
/** Orders whose copies are in flight at once (5 copies each): 20 concurrent notifications. */
const STORM_PARALLEL_ORDERS = 4
const OUTAGE_MS = 60_000

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** An ApiClient that counts what it sends into a phase's figures. */
function counted(api: ApiClient, phase: PhaseFigures): ApiClient {
  const request = async (method: string, path: string, options?: RequestOptions) => {
    phase.sent++
    try {
      const answer = await api.request(method, path, options)
      if (answer.status >= 200 && answer.status < 300) phase.succeeded++
      if (answer.status >= 500) phase.http5xx++
      return answer
    } catch (error) {
      phase.retried++
      throw error
    }
  }
  return {
    baseUrl: api.baseUrl,
    request,
    get: (path, options) => request('GET', path, options),
    post: (path, options) => request('POST', path, options),
  }
}

interface PlacedOrder {
  user: LoggedInUser
  productId: string
  outTradeNo: string
  amountFen: number
}

async function placeOrder(
  api: ApiClient,
  user: LoggedInUser,
  productId: string,
  tradeType: 'NATIVE' | 'JSAPI' = 'NATIVE',
): Promise<PlacedOrder & { unified: HttpAnswer }> {
  const created = await api.post('/api/v1/payment/create-order', {
    token: user.token,
    json: { product_id: productId },
  })
  assert.equal(created.status, 200, `create-order: ${created.text}`)
  const outTradeNo = field<string>(created.json, 'out_trade_no')
  const unified = await api.post('/api/v1/payment/unifiedorder', {
    token: user.token,
    json: { out_trade_no: outTradeNo, trade_type: tradeType },
  })
  assert.equal(unified.status, 200, `unifiedorder: ${unified.text}`)
  return {
    user,
    productId,
    outTradeNo,
    amountFen: field<number>(created.json, 'amount_fen'),
    unified,
  }
}

/** One account checked for coherence: credits = ledger sum, one ledger record per paid order, none otherwise. */
async function auditAccount(
  api: ApiClient,
  user: LoggedInUser,
): Promise<{ paid: string[]; pending: string[]; duplicated: number; problems: string[] }> {
  const view = await accountView(api, user.token)
  const problems: string[] = []
  const paid = view.orders.filter((order) => order.status === 'paid')
  const purchases = view.ledger.filter((record) => record.reason === 'purchase')
  const perRef = new Map<string, number>()
  for (const record of purchases)
    perRef.set(record.ref ?? '', (perRef.get(record.ref ?? '') ?? 0) + 1)
  let duplicated = 0
  for (const count of perRef.values()) duplicated += Math.max(0, count - 1)
  const ledgerSum = view.ledger.reduce((sum, record) => sum + record.change, 0)
  if (ledgerSum !== view.credits) problems.push(`ledger sum ${ledgerSum} ≠ credits ${view.credits}`)
  const expected = paid.reduce((sum, order) => sum + (PRODUCT_CREDITS[order.product_id] ?? 0), 0)
  if (view.credits !== expected)
    problems.push(`credits ${view.credits} ≠ ${expected} from paid orders`)
  for (const order of paid) {
    if ((PRODUCT_CREDITS[order.product_id] ?? 0) > 0 && perRef.get(order.out_trade_no) !== 1) {
      problems.push(
        `paid order ${order.out_trade_no} has ${perRef.get(order.out_trade_no) ?? 0} ledger records`,
      )
    }
  }
  for (const order of view.orders.filter((item) => item.status !== 'paid')) {
    if (perRef.has(order.out_trade_no))
      problems.push(`${order.status} order ${order.out_trade_no} has a ledger record`)
  }
  return {
    paid: paid.map((order) => order.out_trade_no),
    pending: view.orders
      .filter((order) => order.status === 'pending')
      .map((order) => order.out_trade_no),
    duplicated,
    problems,
  }
}

/** WeChat's attempts for these orders, as the simulator recorded them, into a phase's figures. */
function countNotifications(
  topo: Topology,
  phase: PhaseFigures,
  outTradeNos: Iterable<string>,
): void {
  const wanted = new Set(outTradeNos)
  for (const record of topo.sim.records.notifications) {
    if (!wanted.has(record.outTradeNo)) continue
    phase.sent++
    if (record.ok) phase.succeeded++
    else phase.retried++
    if (record.status !== undefined && record.status >= 500) phase.http5xx++
  }
}

describe(
  'the production topology: nginx, two gateways, two apps, MariaDB, Redis',
  {
    skip: skipReason ?? false,
  },
  () => {
    let topo: Topology
    let api: ApiClient
    const figures = createFigures()
    let flowUser: LoggedInUser | undefined
    let stormUsers: LoggedInUser[] = []
    const startedAt = Date.now()

    before(
      async () => {
        topo = await startTopology({ timeScale: 1000 })
        api = createApiClient(topo.baseUrl)
      },
      { timeout: 120_000 },
    )

    after(async () => {
      const seconds = ((Date.now() - startedAt) / 1000).toFixed(0)
      const table = figures.table()
      console.log(
        `\nTopology reliability figures (${seconds} s, nginx → 2 gateways → 2 apps):\n${table}\n`,
      )
      const out = process.env.TOPOLOGY_FIGURES_FILE
      if (out !== undefined) await writeFile(out, `${table}\n\nsuite time: ${seconds} s\n`)
      await topo?.stop()
    })

    it('logs a user in by QR code and takes JSAPI and NATIVE payments, through nginx only', async () => {
      const phase = figures.phase('QR login + payment flow')
      const http = counted(api, phase)
      const products = await http.get('/api/v1/payment/products')
      assert.equal(products.status, 200)
      const ids = field<{ id: string }[]>(products.json, 'products').map((product) => product.id)
      assert.ok(ids.includes('credits_100') && ids.includes('member_month'), ids.join(','))

      const qr = await createQrCode(http)
      assert.equal((await checkFollow(http, qr.sceneStr)).status, 'pending')
      const person = topo.sim.platform.addUser({ subscribed: false })
      const push = await topo.sim.phone.scan({ openId: person.openId, ticket: qr.ticket })
      phase.sent += push.attempts
      assert.ok(push.ok, `push answered badly: ${push.problem ?? ''} ${push.body ?? ''}`)
      phase.succeeded++
      assert.equal(push.attempts, 1, 'the gateway answered the first try')
      const scanned = await waitFor('the scan to log the user in', async () => {
        const answer = await checkFollow(http, qr.sceneStr)
        return answer.status === 'scanned' ? answer : undefined
      })
      assert.equal(scanned.user?.openid, person.openId)
      assert.equal(scanned.user?.subscribed, true)
      assert.ok(scanned.token !== undefined && scanned.token.length > 20)
      flowUser = { openId: person.openId, token: scanned.token }

      const jsapi = await placeOrder(http, flowUser, 'credits_100', 'JSAPI')
      assert.equal(jsapi.amountFen, 990)
      const payParams = field<Record<string, string>>(jsapi.unified.json, 'pay_params')
      const { paySign, ...signed } = payParams
      assert.equal(
        signPayParams(signed, topo.secrets.payApiKey, payParams.signType as PaySignType),
        paySign,
        'pay_params are signed for WeixinJSBridge',
      )
      const paid = await topo.sim.phone.pay(jsapi.outTradeNo, { openId: person.openId })
      assert.equal(
        paid.notification?.ok,
        true,
        `notification answered ${paid.notification?.last?.body ?? ''}`,
      )
      const order = await http.get(`/api/v1/payment/orders/${jsapi.outTradeNo}`, {
        token: flowUser.token,
      })
      assert.equal(field<string>(order.json, 'status'), 'paid')
      const view = await accountView(http, flowUser.token)
      assert.equal(view.credits, 100)
      assert.equal(view.ledger.length, 1)
      assert.equal(view.ledger[0]?.reason, 'purchase')
      assert.equal(view.ledger[0]?.ref, jsapi.outTradeNo)
      assert.equal(view.ledger[0]?.balance_after, 100)

      const native = await placeOrder(http, flowUser, 'member_month', 'NATIVE')
      assert.match(field<string>(native.unified.json, 'code_url'), /^weixin:\/\//)
      const memberPaid = await topo.sim.phone.pay(native.outTradeNo, { openId: person.openId })
      assert.equal(memberPaid.notification?.ok, true)
      const member = await http.get('/api/v1/user/member-status', { token: flowUser.token })
      assert.equal(field<boolean>(member.json, 'is_member'), true)
      const expires = Date.parse(field<string>(member.json, 'member_expires_at'))
      assert.ok(
        Math.abs(expires - Date.now() - 30 * 86_400_000) < 3_600_000,
        'membership runs 30 days',
      )
      countNotifications(topo, phase, [jsapi.outTradeNo, native.outTradeNo])

      const follow = await http.get('/api/v1/auth/wechat/check-follow', { token: flowUser.token })
      assert.equal(field<boolean>(follow.json, 'subscribed'), true)
      const tagged = await http.get('/api/v1/payment/products', {
        headers: { 'x-request-id': 'topology-flow-1' },
      })
      assert.equal(
        tagged.headers.get('x-request-id'),
        'topology-flow-1',
        'the caller’s request id comes back',
      )
      assert.equal(phase.http5xx, 0)

      // The flow sent a push signed in its query and polled check-follow?scene_str=…: nginx's log keeps paths only.
      const logged = await readFile(join(topo.nginx.dir, 'access.log'), 'utf8')
      assert.ok(logged.includes('"uri":"/api/v1/auth/wechat/verify"'), 'the push was logged')
      for (const secret of ['signature=', 'nonce=', 'scene_str=', qr.sceneStr]) {
        assert.ok(!logged.includes(secret), `${secret} in nginx's access log`)
      }
    })

    it('pays 200 orders exactly once when each notification arrives 5 times at once across both gateways', async () => {
      const phase = figures.phase(
        `duplicate storm (${STORM_USERS * ORDERS_PER_USER} orders × ${COPIES})`,
      )
      stormUsers = await mapLimit(range(STORM_USERS), 4, () =>
        oauthLogin(api, topo.sim, topo.sim.platform.addUser({ subscribed: true }).openId),
      )
      const plans = stormUsers.flatMap((user, u) =>
        range(ORDERS_PER_USER).map(() => ({
          user,
          productId: u % 2 === 0 ? 'credits_100' : 'credits_500',
        })),
      )
      const orders = await mapLimit(plans, 16, (plan) => placeOrder(api, plan.user, plan.productId))
      const payments = await mapLimit(orders, 16, (order) =>
        topo.sim.phone.pay(order.outTradeNo, { openId: order.user.openId, deliver: false }),
      )
      const logStart = (await topo.nginx.accessLog()).length

      // The storm: every notification 5 times concurrently (fresh nonce_str each), orders overlapping.
      let fail = 0
      const failed = new Set<number>()
      const started = Date.now()
      await mapLimit(payments, STORM_PARALLEL_ORDERS, async (payment, index) => {
        const answers = await Promise.all(
          range(COPIES).map(() =>
            api.request('POST', NOTIFY_PATH, {
              body: payNotificationXml(topo.secrets, payment),
              contentType: 'text/xml',
            }),
          ),
        )
        for (const answer of answers) {
          phase.sent++
          if (answer.status >= 500) phase.http5xx++
          if (answer.status === 200 && parsePayNotifyAnswer(answer.text).ok) phase.succeeded++
          else {
            fail++
            failed.add(index)
          }
        }
      })
      const stormMs = Date.now() - started
      // WeChat retries what was answered FAIL; so does this suite, as WeChat would.
      for (let round = 0; round < 5 && failed.size > 0; round++) {
        for (const index of [...failed]) {
          const payment = payments[index] as PayResult
          const answer = await api.request('POST', NOTIFY_PATH, {
            body: payNotificationXml(topo.secrets, payment),
            contentType: 'text/xml',
          })
          phase.sent++
          if (answer.status === 200 && parsePayNotifyAnswer(answer.text).ok) {
            phase.succeeded++
            failed.delete(index)
          }
        }
      }
      phase.retried += fail

      const notifyLog = (await topo.nginx.accessLog())
        .slice(logStart)
        .filter((entry) => entry.uri === NOTIFY_PATH)
      const perGateway = topo.gateways.map(
        (gateway) =>
          notifyLog.filter((entry) => entry.upstreams.at(-1) === `127.0.0.1:${gateway.port}`)
            .length,
      )
      const times = notifyLog.map((entry) => entry.requestTime).sort((a, b) => a - b)
      const quantile = (q: number) =>
        `${Math.round((times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0) * 1000)} ms`

      let paidTotal = 0
      const problems: string[] = []
      for (const user of stormUsers) {
        const audit = await auditAccount(api, user)
        paidTotal += audit.paid.length
        phase.duplicated += audit.duplicated
        problems.push(...audit.problems)
        assert.equal(
          audit.paid.length,
          ORDERS_PER_USER,
          `${user.openId} has ${audit.paid.length} paid orders`,
        )
      }
      phase.lost = orders.length - paidTotal
      phase.notes = `${(stormMs / 1000).toFixed(1)} s for the storm, ${STORM_PARALLEL_ORDERS * COPIES} notifications in flight; per gateway ${perGateway.join(' / ')}; latency p50 ${quantile(0.5)}, p99 ${quantile(0.99)}; ${fail} FAIL answers`
      assert.deepEqual(problems, [])
      assert.equal(paidTotal, STORM_USERS * ORDERS_PER_USER, 'exactly 200 paid')
      assert.equal(phase.duplicated, 0)
      assert.equal(phase.http5xx, 0, 'zero 5xx')
      assert.equal(fail, 0, 'duplicates are answered SUCCESS, not FAIL')
      assert.ok(
        perGateway.every((count) => count > 0),
        `both gateways took notifications: ${perGateway.join('/')}`,
      )
    })

    it('keeps serving through the other app when one app is killed with SIGKILL mid-load, with no half-paid order', async () => {
      await topo.ensureRunning()
      const phase = figures.phase('kill -9 one app mid-load')
      assert.ok(stormUsers.length > 0, 'the storm ran first')
      const victimApp = topo.apps[0]
      assert.ok(victimApp !== undefined)
      const workers = 12
      const killAt = 1500
      const endAt = 5000
      const start = Date.now()
      let killedAt = Number.POSITIVE_INFINITY
      const events: { at: number; status: number }[] = []
      const paidHere: string[] = []
      const createdHere: { user: LoggedInUser; outTradeNo: string }[] = []
      const killer = (async () => {
        await sleep(killAt)
        await victimApp.kill()
        killedAt = Date.now()
      })()
      await Promise.all(
        range(workers).map(async (worker) => {
          for (let i = 0; Date.now() - start < endAt; i++) {
            const user = stormUsers[(worker * 7 + i) % stormUsers.length] as LoggedInUser
            const at = Date.now()
            try {
              if (i % 2 === 0) {
                const answer = await api.get('/api/v1/user/credits', { token: user.token })
                events.push({ at, status: answer.status })
                continue
              }
              const created = await api.post('/api/v1/payment/create-order', {
                token: user.token,
                json: { product_id: 'credits_100' },
              })
              events.push({ at, status: created.status })
              if (created.status !== 200) continue
              const outTradeNo = field<string>(created.json, 'out_trade_no')
              createdHere.push({ user, outTradeNo })
              const unifiedAt = Date.now()
              const unified = await api.post('/api/v1/payment/unifiedorder', {
                token: user.token,
                json: { out_trade_no: outTradeNo, trade_type: 'NATIVE' },
              })
              events.push({ at: unifiedAt, status: unified.status })
              if (unified.status !== 200) continue
              await topo.sim.phone.pay(outTradeNo, { openId: user.openId })
              paidHere.push(outTradeNo)
            } catch {
              events.push({ at, status: 0 })
            }
          }
        }),
      )
      await killer
      // WeChat's retries (timeScale) settle every notification that was answered FAIL during the kill.
      const settled = await Promise.all(
        paidHere.map((no) => topo.sim.phone.notificationSettled(no)),
      )
      const okAfter = events.filter((event) => event.at > killedAt && event.status === 200).length
      const failedRequests = events.filter((event) => event.status !== 200).length
      phase.sent += events.length
      phase.succeeded += events.length - failedRequests
      phase.http5xx += events.filter((event) => event.status >= 500).length
      // status 0: no answer at all
      phase.retried += events.filter((event) => event.status === 0).length
      countNotifications(topo, phase, paidHere)

      await victimApp.start()
      const users = [...new Set(createdHere.map((item) => item.user))]
      const problems: string[] = []
      const paidInApp = new Set<string>()
      for (const user of users) {
        const audit = await auditAccount(api, user)
        problems.push(...audit.problems)
        phase.duplicated += audit.duplicated
        for (const no of audit.paid) paidInApp.add(no)
      }
      const lost = paidHere.filter((no) => !paidInApp.has(no))
      const unpaidButPaid = createdHere.filter(
        (item) => !paidHere.includes(item.outTradeNo) && paidInApp.has(item.outTradeNo),
      )
      phase.lost = lost.length
      phase.notes = `${workers} clients for ${endAt / 1000} s, app-1 killed at ${killAt / 1000} s; ${okAfter} requests served after the kill; ${failedRequests} failed (in flight at the kill)`
      assert.ok(
        okAfter >= 20,
        `traffic continued through the other app (${okAfter} answered after the kill)`,
      )
      assert.ok(
        failedRequests <= workers,
        `only requests in flight at the kill failed (${failedRequests})`,
      )
      assert.ok(
        settled.every((outcome) => outcome.ok),
        'every notification was accepted in the end',
      )
      assert.deepEqual(lost, [], 'no payment WeChat made is missing')
      assert.deepEqual(unpaidButPaid, [], 'no order is paid that WeChat did not pay')
      assert.deepEqual(problems, [], 'no half-paid order: credits, ledger and order status agree')
      assert.equal(phase.duplicated, 0)
    })

    it('answers WeChat while every app is down for 60 s, survives a gateway restart, then delivers everything', async () => {
      await topo.ensureRunning()
      const phase = figures.phase('all apps down 60 s + gateway restart')
      assert.ok(
        flowUser !== undefined && stormUsers.length >= 8,
        'the flow and the storm ran first',
      )
      const http = counted(api, phase)
      const scenes: QrCode[] = await mapLimit(range(8), 4, () => createQrCode(http))
      const pendings = await mapLimit(range(8), 4, (i) =>
        placeOrder(http, stormUsers[i] as LoggedInUser, 'credits_100'),
      )
      const scanners = scenes.map(() => topo.sim.platform.addUser({ subscribed: false }))

      const exits = await Promise.all(topo.apps.map((app) => app.stop()))
      assert.deepEqual(
        exits,
        topo.apps.map(() => 0),
        'SIGTERM drains and exits 0',
      )
      const downAt = Date.now()

      const pushes: PushResult[] = []
      for (const i of range(5)) {
        const scanner = scanners[i]
        const scene = scenes[i]
        assert.ok(scanner !== undefined && scene !== undefined)
        pushes.push(await topo.sim.phone.scan({ openId: scanner.openId, ticket: scene.ticket }))
      }
      pushes.push(await topo.sim.phone.unfollow(flowUser.openId))
      const notified = await Promise.all(
        pendings.map((order) =>
          topo.sim.phone.pay(order.outTradeNo, { openId: order.user.openId }),
        ),
      )
      for (const payment of notified) {
        assert.equal(
          payment.notification?.ok,
          false,
          'a notification cannot succeed while app is down',
        )
      }

      const depths = await Promise.all(topo.gateways.map((gateway) => topo.spoolDepth(gateway)))
      assert.ok(
        depths.reduce((a, b) => a + b, 0) > 0,
        `events wait in the spools (${depths.join('/')})`,
      )
      const deepest = depths.indexOf(Math.max(...depths))
      const restarted = topo.gateways[deepest]
      assert.ok(restarted !== undefined)
      const before = depths[deepest] ?? 0
      assert.equal(await restarted.stop(), 0, 'the gateway drains on SIGTERM and exits 0')
      assert.equal(await topo.spoolDepth(restarted), before, 'the spool is still on disk')
      await restarted.start({ readyPath: '/healthz' })
      const ready = await fetch(`${restarted.url}/readyz`)
      assert.equal(ready.status, 503, 'readyz says app is unreachable')

      for (const i of [5, 6, 7]) {
        const scanner = scanners[i]
        const scene = scenes[i]
        assert.ok(scanner !== undefined && scene !== undefined)
        pushes.push(await topo.sim.phone.scan({ openId: scanner.openId, ticket: scene.ticket }))
      }
      for (const push of pushes) {
        phase.sent += push.attempts
        if (push.ok) phase.succeeded++
        else phase.retried += push.attempts
      }
      assert.ok(
        pushes.every((push) => push.ok && push.attempts === 1),
        'WeChat got its answer at the first try',
      )

      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)))
      const [firstApp, ...otherApps] = topo.apps
      assert.ok(firstApp !== undefined)
      await firstApp.start()
      await Promise.all(otherApps.map((app) => app.start()))
      const upAt = Date.now()

      // The spool worker backs off up to 60 s and WeChat's schedule is scaled: both catch up on their own.
      const settleEach = (outTradeNo: string) => {
        const timeout = sleep(110_000, undefined, { ref: false }).then(() => ({
          ok: false,
          attempts: -1,
        }))
        return Promise.race([topo.sim.phone.notificationSettled(outTradeNo), timeout])
      }
      const [drainedMs, settled] = await Promise.all([
        waitFor(
          'the spools to drain',
          async () => {
            const left = await Promise.all(topo.gateways.map((gateway) => topo.spoolDepth(gateway)))
            return left.every((depth) => depth === 0) ? Date.now() - upAt : undefined
          },
          { timeoutMs: 110_000, intervalMs: 250 },
        ),
        Promise.all(pendings.map((order) => settleEach(order.outTradeNo))).then((outcomes) => ({
          outcomes,
          ms: Date.now() - upAt,
        })),
      ])
      const { outcomes, ms: settledMs } = settled

      let lost = 0
      for (const [i, scene] of scenes.entries()) {
        const answer = await checkFollow(http, scene.sceneStr)
        if (answer.status !== 'scanned' || answer.user?.openid !== scanners[i]?.openId) lost++
      }
      const follow = await http.get('/api/v1/auth/wechat/check-follow', { token: flowUser.token })
      if (field<boolean>(follow.json, 'subscribed') !== false) lost++
      const problems: string[] = []
      for (const order of pendings) {
        const audit = await auditAccount(http, order.user)
        problems.push(...audit.problems)
        if (!audit.paid.includes(order.outTradeNo)) lost++
      }
      countNotifications(
        topo,
        phase,
        pendings.map((order) => order.outTradeNo),
      )
      phase.lost = lost
      phase.notes = `9 pushes + 8 payments during the outage; spool ${depths.join('/')} at the restart of ${restarted.name}; spools drained ${(drainedMs / 1000).toFixed(1)} s and notifications settled ${(settledMs / 1000).toFixed(1)} s after the apps came back`
      assert.equal(lost, 0, 'every spooled event and every payment arrived')
      assert.ok(
        outcomes.every((outcome) => outcome.ok),
        'every notification succeeded on a retry',
      )
      assert.ok(
        outcomes.every((outcome) => outcome.attempts > 1),
        'and only on a retry',
      )
      assert.deepEqual(problems, [])
    })

    it('refuses the internal API from outside: nginx answers 403 and so does an app whose allowlist excludes the caller', async () => {
      await topo.ensureRunning()
      const phase = figures.phase('internal API from outside')
      const path = '/api/v1/internal/binding/update'
      const body = JSON.stringify({
        scene_str: 'login_doesnotexist0000000000',
        openid: 'o_nobody',
        event: 'SCAN',
        event_time: Math.floor(Date.now() / 1000),
      })
      const send = (baseUrl: string, sign = true) =>
        fetch(baseUrl + path, {
          method: 'PUT',
          headers: {
            'content-type': 'application/json',
            ...(sign
              ? signInternalRequest({
                  secret: topo.secrets.internalApiSecret,
                  method: 'PUT',
                  pathAndQuery: path,
                  body,
                })
              : {}),
          },
          body,
        })
      const viaNginx = await send(topo.baseUrl)
      const restricted = await topo.extraApp('app-restricted', {
        INTERNAL_ALLOWED_IPS: '10.0.0.0/8,fd00::/8',
      })
      const outside = await send(restricted.url)
      const app2 = topo.apps[1]
      assert.ok(app2 !== undefined)
      const allowed = await send(app2.url)
      const unsigned = await send(app2.url, false)
      await restricted.stop()
      phase.sent += 4
      phase.notes = `nginx ${viaNginx.status}; app outside its allowlist ${outside.status}; allowed caller ${allowed.status} (unknown scene); unsigned ${unsigned.status}`
      phase.succeeded += [
        viaNginx.status === 403,
        outside.status === 403,
        allowed.status === 404,
        unsigned.status === 401,
      ].filter(Boolean).length
      assert.equal(viaNginx.status, 403, 'a correctly signed internal call is refused by nginx')
      assert.equal(outside.status, 403, 'a caller outside INTERNAL_ALLOWED_IPS gets 403')
      assert.equal(allowed.status, 404, 'the same call from an allowed address reaches the handler')
      assert.equal(unsigned.status, 401, 'an unsigned call gets 401')
    })

    it('changes nothing when a corpus of 50+ hostile requests goes through nginx', async () => {
      await topo.ensureRunning()
      const phase = figures.phase('hostile corpus')
      const [victim, attacker] = stormUsers
      assert.ok(victim !== undefined && attacker !== undefined, 'the storm ran first')
      const pending = await placeOrder(api, victim, 'credits_500')
      const scene = await createQrCode(api)
      const captured = topo.sim.records.pushes.at(-1)
      const cases = buildHostileCorpus({
        api,
        nginxPort: topo.nginx.port,
        secrets: topo.secrets,
        victim,
        attacker,
        victimPending: {
          outTradeNo: pending.outTradeNo,
          transactionId: '4200000000000000000000000042',
          timeEnd: '20261125120000',
          openId: victim.openId,
          totalFee: pending.amountFen,
        },
        pendingScene: scene.sceneStr,
        capturedPush:
          captured === undefined ? undefined : { query: captured.query, body: captured.sentXml },
      })
      assert.ok(cases.length >= 50, `${cases.length} cases`)
      const snapshot = async () => ({
        victim: await accountView(api, victim.token),
        attacker: await accountView(api, attacker.token),
        scene: await checkFollow(api, scene.sceneStr),
        follow: (await api.get('/api/v1/auth/wechat/check-follow', { token: victim.token })).json,
      })
      const beforeState = await snapshot()
      const wrong: string[] = []
      for (const c of cases) {
        phase.sent++
        let answer
        try {
          answer = await c.send()
        } catch (error) {
          wrong.push(`${c.name}: ${(error as Error).message}`)
          continue
        }
        const status = typeof answer === 'number' ? answer : answer.status
        if (status >= 500) phase.http5xx++
        const problem = judgeCorpusAnswer(c, answer)
        if (problem === undefined) phase.succeeded++
        else wrong.push(`${c.name}: ${problem}`)
      }
      const afterState = await snapshot()
      phase.notes = `${cases.length} cases; ${phase.succeeded} refused as expected; state before = after: ${JSON.stringify(beforeState) === JSON.stringify(afterState)}`
      assert.deepEqual(wrong, [], 'every hostile request is refused')
      assert.deepEqual(afterState, beforeState, 'nothing visible changed')
      assert.equal(afterState.scene.status, 'pending')
      assert.equal(phase.http5xx, 0)
    })

    it('shares the access token between the apps: few token requests and no call failing with 40001', () => {
      const phase = figures.phase('access token coherence')
      const { tokenRequests, apiCalls } = topo.sim.records
      const appStarts = topo.allApps().reduce((sum, app) => sum + app.starts, 0)
      const invalid = apiCalls.filter((call) => [40001, 40014, 42001].includes(call.errcode))
      const tokenUsers = new Set(
        apiCalls
          .filter((call) => call.query.access_token !== undefined)
          .map((call) => call.query.access_token),
      )
      phase.sent = apiCalls.length + tokenRequests.length
      phase.succeeded =
        apiCalls.filter((call) => call.errcode === 0).length +
        tokenRequests.filter((r) => r.errcode === 0).length
      phase.notes = `${tokenRequests.length} token requests for ${appStarts} app process starts; ${tokenUsers.size} distinct tokens used; ${invalid.length} calls failed with 40001/40014/42001`
      assert.ok(tokenRequests.length >= 1, 'QR codes needed a token')
      assert.ok(
        tokenRequests.length <= appStarts,
        `at most one token request per app process (${tokenRequests.length} for ${appStarts})`,
      )
      assert.ok(tokenRequests.every((request) => request.errcode === 0 && !request.forceRefresh))
      assert.deepEqual(invalid, [], 'no WeChat call failed for a token another instance replaced')
    })
  },
)
