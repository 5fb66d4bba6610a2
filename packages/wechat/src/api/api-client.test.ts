import assert from 'node:assert/strict'
import { test } from 'node:test'
import { inspect } from 'node:util'
import { WeChatApiError, WeChatTransportError } from '../errors.js'
import { createWeChatApiClient } from './api-client.js'
import type { CreateQrCodeInput, WeChatApiClientOptions } from './api-client.js'
import { startFakeWeChat } from './fake-wechat-server.js'
import type { FakeWeChat, FakeWeChatAnswer, FakeWeChatRequest } from './fake-wechat-server.js'
import { WeChatInvalidRequestError } from './invalid-request-error.js'
import type { Menu } from './menu.js'

const APP_ID = 'wx0000000000000001'
const SECRET = 'secret-0123456789abcdef0123456789'
const STABLE_TOKEN = '/cgi-bin/stable_token'

/** Plays WeChat: stable_token hands out TOKEN-1, TOKEN-2, …; every other path goes to `api`. */
async function startWeChat(
  api: (request: FakeWeChatRequest, attempt: number) => FakeWeChatAnswer,
): Promise<FakeWeChat> {
  let issued = 0
  const attempts = new Map<string, number>()
  return startFakeWeChat((request) => {
    if (request.path === STABLE_TOKEN) {
      issued += 1
      return { json: { access_token: `TOKEN-${issued}`, expires_in: 7200 } }
    }
    const attempt = (attempts.get(request.path) ?? 0) + 1
    attempts.set(request.path, attempt)
    return api(request, attempt)
  })
}

async function withClient(
  api: (request: FakeWeChatRequest, attempt: number) => FakeWeChatAnswer,
  run: (context: {
    fake: FakeWeChat
    sleeps: number[]
    client: ReturnType<typeof createWeChatApiClient>
  }) => Promise<void>,
  options: Partial<WeChatApiClientOptions> = {},
): Promise<void> {
  const fake = await startWeChat(api)
  const sleeps: number[] = []
  const client = createWeChatApiClient({
    appId: APP_ID,
    secret: SECRET,
    baseUrl: fake.baseUrl,
    sleep: (ms) => {
      sleeps.push(ms)
      return Promise.resolve()
    },
    ...options,
  })
  try {
    await run({ fake, sleeps, client })
  } finally {
    await fake.close()
  }
}

const tokensUsed = (fake: FakeWeChat, path: string): (string | null)[] =>
  fake.calls(path).map((r) => r.query.get('access_token'))

test('call injects the global access_token into the query', async () => {
  await withClient(
    () => ({ json: { total: 1 } }),
    async ({ fake, client }) => {
      const answer = await client.call<{ total: number }>('/cgi-bin/user/get', {
        query: { next_openid: 'o1' },
      })
      assert.equal(answer.total, 1)
      const [request] = fake.calls('/cgi-bin/user/get')
      assert.equal(request?.query.get('access_token'), 'TOKEN-1')
      assert.equal(request?.query.get('next_openid'), 'o1')
    },
  )
})

for (const errcode of [40001, 40014, 42001]) {
  test(`on ${errcode} invalidates the token that failed and retries once with a fresh one`, async () => {
    await withClient(
      (_request, attempt) =>
        attempt === 1 ? { json: { errcode, errmsg: 'invalid credential' } } : { json: { ok: 1 } },
      async ({ fake, client }) => {
        assert.deepEqual(await client.call('/cgi-bin/user/get'), { ok: 1 })
        assert.deepEqual(tokensUsed(fake, '/cgi-bin/user/get'), ['TOKEN-1', 'TOKEN-2'])
        assert.equal(fake.calls(STABLE_TOKEN).length, 2)
      },
    )
  })
}

test('surfaces a second 40001 as a WeChatApiError after exactly one retry', async () => {
  await withClient(
    () => ({ json: { errcode: 40001, errmsg: 'invalid credential' } }),
    async ({ fake, client }) => {
      await assert.rejects(client.call('/cgi-bin/user/get'), (error: unknown) => {
        assert.ok(error instanceof WeChatApiError)
        assert.equal(error.errcode, 40001)
        assert.equal(error.api, '/cgi-bin/user/get')
        return true
      })
      assert.equal(fake.calls('/cgi-bin/user/get').length, 2)
      assert.equal(fake.calls(STABLE_TOKEN).length, 2)
    },
  )
})

test('does not treat a 40001 from stable_token (a bad secret) as a stale token', async () => {
  const fake = await startFakeWeChat(() => ({ json: { errcode: 40001, errmsg: 'invalid secret' } }))
  try {
    const client = createWeChatApiClient({ appId: APP_ID, secret: SECRET, baseUrl: fake.baseUrl })
    await assert.rejects(client.call('/cgi-bin/user/get'), (error: unknown) => {
      assert.ok(error instanceof WeChatApiError)
      assert.equal(error.api, STABLE_TOKEN)
      return true
    })
    assert.equal(fake.requests.length, 1)
  } finally {
    await fake.close()
  }
})

test('backs off exponentially on -1 and succeeds when WeChat recovers', async () => {
  await withClient(
    (_request, attempt) =>
      attempt <= 2 ? { json: { errcode: -1, errmsg: 'system error' } } : { json: { ok: 1 } },
    async ({ fake, sleeps, client }) => {
      assert.deepEqual(await client.call('/cgi-bin/user/get'), { ok: 1 })
      assert.deepEqual(sleeps, [200, 400])
      assert.equal(fake.calls('/cgi-bin/user/get').length, 3)
    },
  )
})

test('gives up on -1 after busyRetries retries', async () => {
  await withClient(
    () => ({ json: { errcode: -1, errmsg: 'system error' } }),
    async ({ fake, sleeps, client }) => {
      await assert.rejects(client.call('/cgi-bin/user/get'), (error: unknown) => {
        assert.ok(error instanceof WeChatApiError)
        assert.equal(error.errcode, -1)
        return true
      })
      assert.deepEqual(sleeps, [50, 100, 200])
      assert.equal(fake.calls('/cgi-bin/user/get').length, 4)
    },
    { busyRetries: 3, busyBackoffMs: 50 },
  )
})

test('throws 45009 (quota) at once without retrying', async () => {
  await withClient(
    () => ({ json: { errcode: 45009, errmsg: 'reach max api daily quota limit' } }),
    async ({ fake, sleeps, client }) => {
      await assert.rejects(client.call('/cgi-bin/user/get'), (error: unknown) => {
        assert.ok(error instanceof WeChatApiError)
        assert.equal(error.errcode, 45009)
        return true
      })
      assert.deepEqual(sleeps, [])
      assert.equal(fake.calls('/cgi-bin/user/get').length, 1)
      assert.equal(fake.calls(STABLE_TOKEN).length, 1)
    },
  )
})

test('turns a timeout into a timed-out WeChatTransportError without retrying', async () => {
  await withClient(
    () => ({ json: { ok: 1 }, delayMs: 2000 }),
    async ({ fake, client }) => {
      await assert.rejects(client.call('/cgi-bin/user/get'), (error: unknown) => {
        assert.ok(error instanceof WeChatTransportError)
        assert.equal(error.timedOut, true)
        assert.ok(!inspect(error, { depth: 10 }).includes('TOKEN-1'))
        return true
      })
      assert.equal(fake.calls('/cgi-bin/user/get').length, 1)
    },
    { timeoutMs: 100 },
  )
})

test('never puts the access_token or the secret in an error, even when WeChat echoes them', async () => {
  await withClient(
    (request) => ({
      json: {
        errcode: 40001,
        errmsg: `invalid credential ${request.query.get('access_token') ?? ''} ${SECRET}`,
      },
    }),
    async ({ client }) => {
      await assert.rejects(client.call('/cgi-bin/user/get'), (error: unknown) => {
        assert.ok(error instanceof WeChatApiError)
        const shown = `${inspect(error, { depth: 10 })} ${JSON.stringify(error)} ${error.errmsg}`
        assert.ok(!shown.includes('TOKEN-'))
        assert.ok(!shown.includes(SECRET))
        return true
      })
    },
  )
})

test('exchangeOAuthCode uses the app secret and no global token, and maps the answer', async () => {
  await withClient(
    () => ({
      json: {
        access_token: 'WEB-TOKEN',
        expires_in: 7200,
        refresh_token: 'REFRESH',
        openid: 'o-user',
        scope: 'snsapi_userinfo',
        unionid: 'u-1',
        is_snapshotuser: 1,
      },
    }),
    async ({ fake, client }) => {
      assert.deepEqual(await client.exchangeOAuthCode('CODE-1'), {
        accessToken: 'WEB-TOKEN',
        expiresIn: 7200,
        refreshToken: 'REFRESH',
        openId: 'o-user',
        scope: 'snsapi_userinfo',
        unionId: 'u-1',
        isSnapshotUser: true,
      })
      const [request] = fake.calls('/sns/oauth2/access_token')
      assert.equal(request?.method, 'GET')
      assert.deepEqual(Object.fromEntries(request?.query ?? []), {
        appid: APP_ID,
        secret: SECRET,
        code: 'CODE-1',
        grant_type: 'authorization_code',
      })
      assert.equal(fake.calls(STABLE_TOKEN).length, 0)
    },
  )
})

test('exchangeOAuthCode reports a used code (40163) without retrying', async () => {
  await withClient(
    () => ({ json: { errcode: 40163, errmsg: 'code been used' } }),
    async ({ fake, client }) => {
      await assert.rejects(client.exchangeOAuthCode('CODE-2'), (error: unknown) => {
        assert.ok(error instanceof WeChatApiError)
        assert.equal(error.errcode, 40163)
        assert.ok(!inspect(error).includes(SECRET))
        return true
      })
      assert.equal(fake.requests.length, 1)
    },
  )
})

test('exchangeOAuthCode leaves unionId out and isSnapshotUser false when WeChat omits them', async () => {
  await withClient(
    () => ({
      json: {
        access_token: 'W',
        expires_in: 7200,
        refresh_token: 'R',
        openid: 'o',
        scope: 'snsapi_base',
      },
    }),
    async ({ client }) => {
      const token = await client.exchangeOAuthCode('C')
      assert.equal('unionId' in token, false)
      assert.equal(token.isSnapshotUser, false)
    },
  )
})

test('getOAuthUserInfo calls sns/userinfo with the web token and maps the profile', async () => {
  await withClient(
    () => ({
      json: {
        openid: 'o-user',
        nickname: 'Ann',
        sex: 2,
        province: 'GD',
        city: 'SZ',
        country: 'CN',
        headimgurl: 'https://thirdwx.qlogo.cn/x/132',
        privilege: [],
        unionid: 'u-1',
      },
    }),
    async ({ fake, client }) => {
      const info = await client.getOAuthUserInfo('WEB-TOKEN', 'o-user')
      assert.equal(info.openId, 'o-user')
      assert.equal(info.nickname, 'Ann')
      assert.equal(info.headImgUrl, 'https://thirdwx.qlogo.cn/x/132')
      assert.equal(info.unionId, 'u-1')
      const [request] = fake.calls('/sns/userinfo')
      assert.equal(request?.query.get('access_token'), 'WEB-TOKEN')
      assert.equal(request?.query.get('openid'), 'o-user')
      assert.equal(fake.calls(STABLE_TOKEN).length, 0)
    },
  )
})

test('createQrCode sends a temporary string-scene request and maps the ticket', async () => {
  await withClient(
    () => ({
      json: { ticket: 'gQH47joAAA==', expire_seconds: 300, url: 'http://weixin.qq.com/q/abc' },
    }),
    async ({ fake, client }) => {
      const qr = await client.createQrCode({
        actionName: 'QR_STR_SCENE',
        sceneStr: 'login-1',
        expireSeconds: 300,
      })
      assert.deepEqual(qr, {
        ticket: 'gQH47joAAA==',
        expireSeconds: 300,
        url: 'http://weixin.qq.com/q/abc',
      })
      const [request] = fake.calls('/cgi-bin/qrcode/create')
      assert.equal(request?.query.get('access_token'), 'TOKEN-1')
      assert.deepEqual(request?.body, {
        expire_seconds: 300,
        action_name: 'QR_STR_SCENE',
        action_info: { scene: { scene_str: 'login-1' } },
      })
    },
  )
})

test('createQrCode sends no expire_seconds for a permanent code', async () => {
  await withClient(
    () => ({ json: { ticket: 'T', url: 'http://weixin.qq.com/q/p' } }),
    async ({ fake, client }) => {
      const qr = await client.createQrCode({ actionName: 'QR_LIMIT_SCENE', sceneId: 100000 })
      assert.equal('expireSeconds' in qr, false)
      assert.deepEqual(fake.calls('/cgi-bin/qrcode/create')[0]?.body, {
        action_name: 'QR_LIMIT_SCENE',
        action_info: { scene: { scene_id: 100000 } },
      })
    },
  )
})

const badQrInputs: [string, CreateQrCodeInput, string][] = [
  ['an unknown action name', { actionName: 'QR_FOREVER' as 'QR_SCENE', sceneId: 1 }, 'actionName'],
  ['a zero scene_id', { actionName: 'QR_SCENE', sceneId: 0 }, 'sceneId'],
  ['a scene_id over 32 bits', { actionName: 'QR_SCENE', sceneId: 2 ** 32 }, 'sceneId'],
  ['a fractional scene_id', { actionName: 'QR_SCENE', sceneId: 1.5 }, 'sceneId'],
  [
    'a permanent scene_id over 100000',
    { actionName: 'QR_LIMIT_SCENE', sceneId: 100001 },
    'sceneId',
  ],
  ['a missing scene_id', { actionName: 'QR_LIMIT_SCENE' }, 'sceneId'],
  ['an empty scene_str', { actionName: 'QR_STR_SCENE', sceneStr: '' }, 'sceneStr'],
  [
    'a 65-byte scene_str',
    { actionName: 'QR_LIMIT_STR_SCENE', sceneStr: 'x'.repeat(65) },
    'sceneStr',
  ],
  [
    'a scene_str on an id action',
    { actionName: 'QR_SCENE', sceneId: 1, sceneStr: 'a' },
    'sceneStr',
  ],
  [
    'expire_seconds over 30 days',
    { actionName: 'QR_STR_SCENE', sceneStr: 'a', expireSeconds: 2_592_001 },
    'expireSeconds',
  ],
  [
    'expire_seconds on a permanent code',
    { actionName: 'QR_LIMIT_STR_SCENE', sceneStr: 'a', expireSeconds: 60 },
    'expireSeconds',
  ],
]

for (const [what, input, path] of badQrInputs) {
  test(`createQrCode refuses ${what} without calling WeChat`, async () => {
    await withClient(
      () => ({ json: { ticket: 'T', url: 'u' } }),
      async ({ fake, client }) => {
        await assert.rejects(client.createQrCode(input), (error: unknown) => {
          assert.ok(error instanceof WeChatInvalidRequestError)
          assert.equal(error.api, '/cgi-bin/qrcode/create')
          assert.ok(error.problems.some((p) => p.path === path))
          return true
        })
        assert.equal(fake.requests.length, 0)
      },
    )
  })
}

test('createQrCode accepts the limits themselves', async () => {
  await withClient(
    () => ({ json: { ticket: 'T', url: 'u' } }),
    async ({ fake, client }) => {
      await client.createQrCode({
        actionName: 'QR_SCENE',
        sceneId: 2 ** 32 - 1,
        expireSeconds: 2_592_000,
      })
      await client.createQrCode({ actionName: 'QR_LIMIT_SCENE', sceneId: 1 })
      await client.createQrCode({ actionName: 'QR_STR_SCENE', sceneStr: 'x'.repeat(64) })
      assert.equal(fake.calls('/cgi-bin/qrcode/create').length, 3)
      // Temporary codes always carry a lifetime: WeChat's own default is a few seconds.
      assert.equal(
        (fake.calls('/cgi-bin/qrcode/create')[2]?.body as { expire_seconds?: number })
          .expire_seconds,
        604_800,
      )
    },
  )
})

const MENU: Menu = {
  button: [
    { type: 'click', name: '我的订单', key: 'MENU_MY_ORDERS' },
    {
      name: '更多',
      sub_button: [
        { type: 'view', name: '官网', url: 'https://www.example.com/' },
        { type: 'click', name: '联系客服', key: 'MENU_SUPPORT' },
      ],
    },
  ],
}

test('createMenu posts a valid menu as it is', async () => {
  await withClient(
    () => ({ json: { errcode: 0, errmsg: 'ok' } }),
    async ({ fake, client }) => {
      await client.createMenu(MENU)
      const [request] = fake.calls('/cgi-bin/menu/create')
      assert.equal(request?.method, 'POST')
      assert.deepEqual(request?.body, MENU)
    },
  )
})

test('createMenu refuses an invalid menu with its problems and calls nothing', async () => {
  await withClient(
    () => ({ json: { errcode: 0, errmsg: 'ok' } }),
    async ({ fake, client }) => {
      const menu = { button: [{ type: 'click', name: '这个名字实在是太长了' }] } as unknown as Menu
      await assert.rejects(client.createMenu(menu), (error: unknown) => {
        assert.ok(error instanceof WeChatInvalidRequestError)
        assert.equal(error.api, '/cgi-bin/menu/create')
        assert.deepEqual(
          error.problems.map((p) => p.path),
          ['button[0].name', 'button[0].key'],
        )
        return true
      })
      assert.equal(fake.requests.length, 0)
    },
  )
})

test('getMenu answers menu null when WeChat says 46003 menu no exist', async () => {
  await withClient(
    () => ({ json: { errcode: 46003, errmsg: 'menu no exist' } }),
    async ({ client }) => {
      const result = await client.getMenu()
      assert.equal(result.menu, null)
      assert.deepEqual(result.raw, { errcode: 46003, errmsg: 'menu no exist' })
    },
  )
})

test('getMenu returns the menu without the empty sub_button lists WeChat adds', async () => {
  const raw = {
    menu: {
      button: [
        { type: 'click', name: '我的订单', key: 'MENU_MY_ORDERS', sub_button: [] },
        {
          name: '更多',
          sub_button: [
            { type: 'view', name: '官网', url: 'https://www.example.com/', sub_button: [] },
            { type: 'click', name: '联系客服', key: 'MENU_SUPPORT', sub_button: [] },
          ],
        },
      ],
      menuid: 208396938,
    },
  }
  await withClient(
    () => ({ json: raw }),
    async ({ fake, client }) => {
      const result = await client.getMenu()
      assert.deepEqual(result.menu, MENU)
      assert.deepEqual(result.raw, raw)
      assert.equal(fake.calls('/cgi-bin/menu/get')[0]?.query.get('access_token'), 'TOKEN-1')
    },
  )
})

test('getMenu still throws other errors', async () => {
  await withClient(
    () => ({ json: { errcode: 45009, errmsg: 'quota' } }),
    async ({ client }) => {
      await assert.rejects(client.getMenu(), WeChatApiError)
    },
  )
})

test('getUserInfo maps a follower with its QR scene', async () => {
  await withClient(
    () => ({
      json: {
        subscribe: 1,
        openid: 'o-user',
        subscribe_time: 1764000000,
        unionid: 'u-1',
        subscribe_scene: 'ADD_SCENE_QR_CODE',
        qr_scene: 0,
        qr_scene_str: 'login-1',
      },
    }),
    async ({ fake, client }) => {
      assert.deepEqual(await client.getUserInfo('o-user'), {
        subscribed: true,
        openId: 'o-user',
        unionId: 'u-1',
        subscribeTime: 1764000000,
        subscribeScene: 'ADD_SCENE_QR_CODE',
        qrScene: 0,
        qrSceneStr: 'login-1',
      })
      const [request] = fake.calls('/cgi-bin/user/info')
      assert.equal(request?.query.get('openid'), 'o-user')
      assert.equal(request?.query.get('access_token'), 'TOKEN-1')
    },
  )
})

test('getUserInfo reports a non-follower as not subscribed', async () => {
  await withClient(
    () => ({ json: { subscribe: 0, openid: 'o-gone' } }),
    async ({ client }) => {
      assert.deepEqual(await client.getUserInfo('o-gone'), { subscribed: false, openId: 'o-gone' })
    },
  )
})

test('uses an injected token provider instead of stable_token', async () => {
  const invalidated: string[] = []
  await withClient(
    (_request, attempt) =>
      attempt === 1 ? { json: { errcode: 42001, errmsg: 'expired' } } : { json: { ok: 1 } },
    async ({ fake, client }) => {
      await client.call('/cgi-bin/user/get')
      assert.deepEqual(invalidated, ['INJECTED'])
      assert.equal(fake.calls(STABLE_TOKEN).length, 0)
    },
    {
      tokenProvider: {
        getToken: () => Promise.resolve('INJECTED'),
        invalidate: (token) => invalidated.push(token),
      },
    },
  )
})
