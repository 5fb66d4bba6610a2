// QR login through app.inject(): qrcode → check-follow pending → signed binding/update → scanned → expired.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { INTERNAL_ROUTES } from '@wxgate/internal-api'
import { testDialects } from '../db/test-databases.js'
import { LOGIN_RATE_RULES } from '../oauth/login-rate-limit.js'
import { startLoginTestApp } from '../testing/login-test-app.js'
import { LOGIN_SCENE_KEPT_MS } from './qr-login.service.js'
import type { LoginTestApp } from '../testing/login-test-app.js'

interface QrAnswer {
  scene_str: string
  ticket: string
  url: string
  qrcode_url: string
  expire_seconds: number
  expires_at: string
}

interface CheckAnswer {
  status?: string
  subscribed: boolean
  token?: string
  user?: { openid: string; subscribed: boolean }
}

for (const dialect of testDialects()) {
  describe(`QR login (${dialect})`, () => {
    let t: LoginTestApp
    let n = 0
    const newOpenId = () => `o_qr_${dialect}_${++n}_${Date.now()}`
    const eventTime = () => Math.floor(t.now() / 1000)

    before(async () => {
      t = await startLoginTestApp(dialect, { QR_LOGIN_EXPIRE_S: '120' })
    })
    after(async () => {
      await t.close()
    })

    async function createQr(remoteAddress = '127.0.0.1') {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/wechat/qrcode',
        payload: {},
        remoteAddress,
      })
      assert.equal(res.statusCode, 200, res.body)
      return res.json<QrAnswer>()
    }

    async function check(sceneStr: string) {
      return t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/wechat/check-follow',
        query: { scene_str: sceneStr },
      })
    }

    function scan(sceneStr: string, openid: string, event = 'SCAN', at = eventTime()) {
      return t.internal('PUT', INTERNAL_ROUTES.updateBinding.path, {
        scene_str: sceneStr,
        openid,
        event,
        event_time: at,
      })
    }

    it('creates a temporary QR_STR_SCENE code with an unguessable scene', async () => {
      const qr = await createQr()
      assert.match(qr.scene_str, /^login_[A-Za-z0-9]{22}$/)
      assert.equal(qr.expire_seconds, 120)
      assert.equal(qr.expires_at, new Date(t.now() + 120_000).toISOString())
      assert.equal(
        qr.qrcode_url,
        `${t.sim.baseUrl}/cgi-bin/showqrcode?ticket=${encodeURIComponent(qr.ticket)}`,
      )
      const atWeChat = t.sim.platform.qrCode(qr.ticket)
      assert.equal(atWeChat?.actionName, 'QR_STR_SCENE')
      assert.equal(atWeChat.sceneStr, qr.scene_str)
      assert.equal(atWeChat.url, qr.url)
      const row = await t.database.db
        .selectFrom('wechat_qrcode_bindings')
        .selectAll()
        .where('scene_str', '=', qr.scene_str)
        .executeTakeFirstOrThrow()
      assert.equal(row.purpose, 'login')
      assert.equal(row.status, 'pending')
      assert.equal(row.expires_at, t.now() + 120_000)
      assert.notEqual((await createQr()).scene_str, qr.scene_str)
    })

    it('accepts a bare POST without a body', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/wechat/qrcode' })
      assert.equal(res.statusCode, 200, res.body)
      assert.match(res.json<QrAnswer>().scene_str, /^login_/)
    })

    it('goes pending → scanned with a session for the scanner, which then works as a Bearer token', async () => {
      const qr = await createQr()
      const pending = await check(qr.scene_str)
      assert.equal(pending.statusCode, 200)
      assert.deepEqual(pending.json(), { status: 'pending', subscribed: false })

      const openId = newOpenId()
      const bound = await scan(qr.scene_str, openId, 'subscribe')
      assert.equal(bound.statusCode, 200, bound.body)
      assert.deepEqual(bound.json(), {
        binding: {
          scene_str: qr.scene_str,
          openid: openId,
          status: 'scanned',
          event_time: eventTime(),
        },
      })

      const scanned = await check(qr.scene_str)
      assert.equal(scanned.statusCode, 200)
      const body = scanned.json<CheckAnswer>()
      assert.equal(body.status, 'scanned')
      assert.equal(body.subscribed, true)
      assert.equal(body.user?.openid, openId)
      assert.ok(body.token !== undefined && body.token.length > 20)

      const mine = await t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/wechat/check-follow',
        headers: { authorization: `Bearer ${body.token}` },
      })
      assert.equal(mine.statusCode, 200, mine.body)
      assert.deepEqual(mine.json(), { subscribed: true })
    })

    it('creates the scanning user when the binding arrives before create-or-update', async () => {
      const qr = await createQr()
      const openId = newOpenId()
      assert.equal((await scan(qr.scene_str, openId)).statusCode, 200)
      const user = await t.database.db
        .selectFrom('wechat_users')
        .select(['subscribed', 'subscription_event_time'])
        .where('openid', '=', openId)
        .executeTakeFirstOrThrow()
      assert.deepEqual(user, { subscribed: 1, subscription_event_time: eventTime() * 1000 })
    })

    it('treats a repeated delivery as a no-op and refuses a second scanner with 409', async () => {
      const qr = await createQr()
      const first = newOpenId()
      const at = eventTime()
      const a = await scan(qr.scene_str, first, 'SCAN', at)
      const b = await scan(qr.scene_str, first, 'SCAN', at)
      assert.equal(a.statusCode, 200)
      assert.equal(b.statusCode, 200)
      assert.deepEqual(b.json(), a.json())
      const other = await scan(qr.scene_str, newOpenId())
      assert.equal(other.statusCode, 409)
      assert.equal(other.json<{ code: string }>().code, 'QR_SCENE_ALREADY_SCANNED')
      assert.equal((await check(qr.scene_str)).json<CheckAnswer>().user?.openid, first)
    })

    it('lets exactly one of several concurrent scanners bind the scene', async () => {
      const qr = await createQr()
      const scanners = [newOpenId(), newOpenId(), newOpenId(), newOpenId()]
      const answers = await Promise.all(scanners.map((openId) => scan(qr.scene_str, openId)))
      assert.deepEqual(answers.map((r) => r.statusCode).sort(), [200, 409, 409, 409])
      const rows = await t.database.db
        .selectFrom('wechat_qrcode_bindings')
        .select(['openid', 'status'])
        .where('scene_str', '=', qr.scene_str)
        .execute()
      assert.equal(rows.length, 1)
      const winner = answers
        .find((r) => r.statusCode === 200)
        ?.json<{ binding: { openid: string } }>()
      assert.deepEqual(rows[0], { openid: winner?.binding.openid, status: 'scanned' })
      assert.equal(
        (await check(qr.scene_str)).json<CheckAnswer>().user?.openid,
        winner?.binding.openid,
      )
    })

    it('expires an unscanned code: check-follow says expired and a late binding gets 410', async () => {
      const qr = await createQr()
      t.advance(120_000)
      const res = await check(qr.scene_str)
      assert.equal(res.statusCode, 200)
      assert.deepEqual(res.json(), { status: 'expired', subscribed: false })
      const late = await scan(qr.scene_str, newOpenId())
      assert.equal(late.statusCode, 410)
      assert.equal(late.json<{ code: string }>().code, 'QR_SCENE_EXPIRED')
    })

    it('answers expired from expires_at on, also for a scanned code', async () => {
      const qr = await createQr()
      t.advance(60_000)
      assert.equal((await scan(qr.scene_str, newOpenId())).statusCode, 200)
      t.advance(59_999)
      assert.equal((await check(qr.scene_str)).json<CheckAnswer>().status, 'scanned')
      assert.equal(Date.parse(qr.expires_at), t.now() + 1)
      t.advance(1)
      const res = (await check(qr.scene_str)).json<CheckAnswer>()
      assert.equal(res.status, 'expired')
      assert.equal(res.token, undefined)
    })

    it('keeps an expired code a day, then a new code takes it away (check-follow: expired, then 404)', async () => {
      const old = await createQr('10.9.9.9')
      t.advance(120_000 + LOGIN_SCENE_KEPT_MS - 1_000)
      await createQr('10.9.9.9')
      assert.equal((await check(old.scene_str)).json<CheckAnswer>().status, 'expired')
      t.advance(2_000)
      const fresh = await createQr('10.9.9.9')
      const gone = await check(old.scene_str)
      assert.equal(gone.statusCode, 404)
      assert.equal(gone.json<{ code: string }>().code, 'QR_SCENE_NOT_FOUND')
      assert.equal((await check(fresh.scene_str)).json<CheckAnswer>().status, 'pending')
    })

    it('answers 404 for an unknown scene, publicly and internally', async () => {
      const res = await check('login_NoSuchScene0000000000000')
      assert.equal(res.statusCode, 404)
      assert.equal(res.json<{ code: string }>().code, 'QR_SCENE_NOT_FOUND')
      assert.equal((await check('x'.repeat(100))).statusCode, 404, 'longer than any scene')
      const internal = await scan('channel_unknown', newOpenId())
      assert.equal(internal.statusCode, 404)
      assert.equal(internal.json<{ code: string }>().code, 'QR_SCENE_NOT_FOUND')
    })

    it('records a scan of an unknown (channel) scene with binding/create, idempotently', async () => {
      const scene = `channel_${dialect}_${Date.now()}`
      const openId = newOpenId()
      const body = { scene_str: scene, openid: openId, event: 'subscribe', event_time: eventTime() }
      const a = await t.internal('POST', INTERNAL_ROUTES.createBinding.path, body)
      const b = await t.internal('POST', INTERNAL_ROUTES.createBinding.path, body)
      assert.equal(a.statusCode, 200, a.body)
      assert.equal(b.statusCode, 200, b.body)
      assert.deepEqual(a.json(), {
        binding: {
          scene_str: scene,
          openid: openId,
          status: 'scanned',
          event_time: body.event_time,
        },
      })
      assert.deepEqual(b.json(), a.json())
      const rows = await t.database.db
        .selectFrom('wechat_qrcode_bindings')
        .select(['purpose'])
        .where('scene_str', '=', scene)
        .execute()
      assert.deepEqual(rows, [{ purpose: 'channel' }])
      // binding/update is for login scenes only: the next follower's update is 404 too, so the gateway
      // records it with binding/create and welcomes them (an update that landed meant "logged in").
      const nextScanner = newOpenId()
      const next = { ...body, openid: nextScanner, event: 'SCAN', event_time: body.event_time + 5 }
      const later = await t.internal('PUT', INTERNAL_ROUTES.updateBinding.path, next)
      assert.equal(later.statusCode, 404)
      assert.equal(later.json<{ code: string }>().code, 'QR_SCENE_NOT_FOUND')
      const recorded = await t.internal('POST', INTERNAL_ROUTES.createBinding.path, next)
      assert.equal(recorded.statusCode, 200, recorded.body)
      assert.equal(recorded.json<{ binding: { openid: string } }>().binding.openid, nextScanner)
      // A channel scene is not a login: nobody can poll a session out of it.
      assert.equal((await check(scene)).statusCode, 404)
    })

    it('answers 502 and records nothing when WeChat refuses to create the code', async () => {
      t.sim.platform.failNext('/cgi-bin/qrcode/create', 45009)
      const before = await t.database.db
        .selectFrom('wechat_qrcode_bindings')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/wechat/qrcode',
        payload: {},
      })
      assert.equal(res.statusCode, 502)
      assert.equal(res.json<{ code: string }>().code, 'WECHAT_REJECTED')
      const afterCount = await t.database.db
        .selectFrom('wechat_qrcode_bindings')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
      assert.equal(Number(afterCount.n), Number(before.n))
    })

    it('needs a session for check-follow without scene_str', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/auth/wechat/check-follow' })
      assert.equal(res.statusCode, 401)
      assert.equal(res.json<{ code: string }>().code, 'UNAUTHENTICATED')
    })

    it('rate-limits QR code creation per client IP, only after many users behind one NAT', async () => {
      let limited
      let served = 0
      for (let i = 0; i <= LOGIN_RATE_RULES.qrCode.limit && limited === undefined; i++) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/wechat/qrcode',
          payload: {},
          remoteAddress: '198.51.100.9',
        })
        if (res.statusCode === 429) limited = res
        else {
          assert.equal(res.statusCode, 200, res.body)
          served += 1
        }
      }
      assert.ok(limited !== undefined, 'never limited')
      assert.equal(served, LOGIN_RATE_RULES.qrCode.limit)
      assert.ok(served >= 300, 'a test run or an office NAT makes hundreds of QR codes a minute')
      assert.equal(limited.json<{ code: string }>().code, 'RATE_LIMITED')
    })
  })
}
