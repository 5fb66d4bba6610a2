// Admin menu routes through app.inject(): X-Admin-Key handling, local validation, create → get round trip.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { testDialects } from '../db/test-databases.js'
import { startLoginTestApp } from '../testing/login-test-app.js'
import type { LoginTestApp } from '../testing/login-test-app.js'

const ADMIN_KEY = 'admin-key-0123456789abcdef'

const MENU = {
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

// Menus call WeChat only: one database dialect is enough (the first configured).
const dialect = testDialects()[0] ?? 'sqlite'

describe('admin menus', () => {
  let t: LoginTestApp
  const admin = { 'x-admin-key': ADMIN_KEY }

  before(async () => {
    t = await startLoginTestApp(dialect, { ADMIN_API_KEY: ADMIN_KEY })
  })
  after(async () => {
    await t.close()
  })

  const menuCalls = () => t.sim.records.apiCalls.filter((c) => c.api === '/cgi-bin/menu/create')

  it('answers menu null before any menu exists', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/wechat/get-menu',
      headers: admin,
    })
    assert.equal(res.statusCode, 200, res.body)
    assert.deepEqual(res.json(), { menu: null })
  })

  it('creates a valid menu at WeChat and reads it back', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/wechat/create-menu',
      headers: admin,
      payload: MENU,
    })
    assert.equal(res.statusCode, 200, res.body)
    assert.deepEqual(res.json(), { ok: true })
    assert.deepEqual(t.sim.platform.menu()?.button, MENU.button)
    const got = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/wechat/get-menu',
      headers: admin,
    })
    assert.equal(got.statusCode, 200)
    assert.deepEqual(got.json(), { menu: MENU })
  })

  it('refuses an invalid menu with MENU_INVALID details, without calling WeChat', async () => {
    const calls = menuCalls().length
    const invalid = {
      button: [
        { type: 'click', name: 'a', key: 'A' },
        { type: 'view', name: 'b' },
        { type: 'click', name: 'c', key: 'C' },
        { type: 'click', name: 'd', key: 'D' },
      ],
    }
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/wechat/create-menu',
      headers: admin,
      payload: invalid,
    })
    assert.equal(res.statusCode, 400, res.body)
    const body = res.json<{ code: string; details: { problems: { path: string }[] } }>()
    assert.equal(body.code, 'MENU_INVALID')
    const paths = body.details.problems.map((p) => p.path)
    assert.ok(paths.includes('button'), paths.join(','))
    assert.ok(
      paths.some((p) => p.startsWith('button[1]')),
      paths.join(','),
    )
    assert.equal(menuCalls().length, calls)
  })

  it('refuses a body without a button array', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/wechat/create-menu',
      headers: admin,
      payload: { buttons: [] },
    })
    assert.equal(res.statusCode, 400)
  })

  it('answers 401 ADMIN_KEY_INVALID for a missing or wrong key', async () => {
    const calls = menuCalls().length
    for (const headers of [{}, { 'x-admin-key': 'wrong' }, { 'x-admin-key': `${ADMIN_KEY}x` }]) {
      const post = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/wechat/create-menu',
        headers,
        payload: MENU,
      })
      assert.equal(post.statusCode, 401)
      assert.equal(post.json<{ code: string }>().code, 'ADMIN_KEY_INVALID')
      const get = await t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/wechat/get-menu',
        headers,
      })
      assert.equal(get.statusCode, 401)
    }
    assert.equal(menuCalls().length, calls)
  })

  it('answers 502 when WeChat refuses the menu', async () => {
    t.sim.platform.failNext('/cgi-bin/menu/create', 40018)
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/wechat/create-menu',
      headers: admin,
      payload: MENU,
    })
    assert.equal(res.statusCode, 502)
    assert.equal(res.json<{ code: string }>().code, 'WECHAT_REJECTED')
  })
})

describe('admin menus without ADMIN_API_KEY', () => {
  let t: LoginTestApp
  before(async () => {
    t = await startLoginTestApp(dialect)
  })
  after(async () => {
    await t.close()
  })

  it('answers 403 ADMIN_DISABLED whatever key is sent', async () => {
    for (const headers of [{}, { 'x-admin-key': ADMIN_KEY }]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/wechat/create-menu',
        headers,
        payload: MENU,
      })
      assert.equal(res.statusCode, 403)
      assert.equal(res.json<{ code: string }>().code, 'ADMIN_DISABLED')
    }
  })
})
