// The custom menu: WeChat's errcodes for each refusal and the two answer shapes.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createWeChatApiClient } from '@wxgate/wechat'
import { startTestSimulator, TEST_APP_ID, TEST_SECRET } from '../start-test-simulator.js'
import type { TestSimulator } from '../start-test-simulator.js'

const click = (name: string, key = 'K') => ({ type: 'click', name, key })

describe('custom menu', () => {
  let sim: TestSimulator
  let token: string
  before(async () => {
    sim = await startTestSimulator()
    token = await sim.accessToken()
  })
  after(async () => {
    await sim.close()
  })
  const call = (api: string, body?: unknown) =>
    sim.json(
      `/cgi-bin/${api}?access_token=${encodeURIComponent(token)}`,
      body === undefined ? {} : { body },
    )

  it('answers 46003 from menu/get and is_menu_open 0 before any menu exists', async () => {
    assert.equal((await call('menu/get')).errcode, 46003)
    assert.deepEqual(await call('get_current_selfmenu_info'), { is_menu_open: 0 })
  })

  it('refuses menus WeChat refuses, each with its errcode', async () => {
    const cases: [unknown, number][] = [
      [{ button: [] }, 40016],
      [{ button: [click('a'), click('b'), click('c'), click('d')] }, 40016],
      [{ button: [{ type: 'tap', name: 'a', key: 'k' }] }, 40017],
      [{ button: [click('')] }, 40018],
      [{ button: [click('一二三四五六')] }, 40018],
      [{ button: [click('a', 'k'.repeat(129))] }, 40019],
      [{ button: [{ type: 'view', name: 'a', url: `https://e.com/${'x'.repeat(1024)}` }] }, 40020],
      [{ button: [{ type: 'view', name: 'a', url: 'ftp://e.com/' }] }, 40055],
      [
        { button: [{ name: 'm', sub_button: [1, 2, 3, 4, 5, 6].map((n) => click(`s${n}`)) }] },
        40023,
      ],
      [{ button: [{ name: 'm', sub_button: [{ type: 'nope', name: 's' }] }] }, 40024],
      [{ button: [{ name: 'm', sub_button: [click('x'.repeat(61))] }] }, 40025],
      [{ button: [{ name: 'm', sub_button: [click('s', '')] }] }, 40026],
      [{ button: [{ name: 'm', sub_button: [{ type: 'view', name: 's' }] }] }, 40027],
      [{ button: [{ type: 'miniprogram', name: 'm', url: 'https://e.com/' }] }, 40097],
    ]
    for (const [body, errcode] of cases) {
      assert.equal((await call('menu/create', body)).errcode, errcode, JSON.stringify(body))
    }
    assert.equal((await call('menu/create', '{oops')).errcode, 47001)
    assert.equal((await call('menu/create')).errcode, 43002)
    assert.equal(sim.platform.menu(), undefined)
  })

  it('counts name limits in UTF-8 bytes: 16 at the top, 60 in sub-menus', async () => {
    assert.equal((await call('menu/create', { button: [click('一二三四五')] })).errcode, 0)
    assert.equal((await call('menu/create', { button: [click('一二三四五六')] })).errcode, 40018)
    const subName = '一'.repeat(20)
    assert.equal(
      (await call('menu/create', { button: [{ name: '菜单', sub_button: [click(subName)] }] }))
        .errcode,
      0,
    )
  })

  it('stores a valid menu and answers menu/get and get_current_selfmenu_info in their own shapes', async () => {
    const menu = {
      button: [
        click('订单', 'MENU_ORDERS'),
        {
          name: '更多',
          sub_button: [
            { type: 'view', name: '官网', url: 'https://www.example.com/' },
            click('客服', 'MENU_SUPPORT'),
          ],
        },
      ],
    }
    const client = createWeChatApiClient({
      appId: TEST_APP_ID,
      secret: TEST_SECRET,
      baseUrl: sim.baseUrl,
    })
    await client.createMenu(menu as Parameters<typeof client.createMenu>[0])
    const got = await call('menu/get')
    const button = (got.menu as { button: Record<string, unknown>[] }).button
    assert.deepEqual(button[0], { type: 'click', name: '订单', key: 'MENU_ORDERS', sub_button: [] })
    assert.ok(Array.isArray(button[1]?.sub_button))
    assert.equal(typeof (got.menu as { menuid: unknown }).menuid, 'number')
    const self = await call('get_current_selfmenu_info')
    assert.equal(self.is_menu_open, 1)
    const selfButtons = (self.selfmenu_info as { button: Record<string, unknown>[] }).button
    assert.deepEqual(selfButtons[0], { type: 'click', name: '订单', key: 'MENU_ORDERS' })
    assert.deepEqual(selfButtons[1]?.sub_button, {
      list: [
        { type: 'view', name: '官网', url: 'https://www.example.com/' },
        { type: 'click', name: '客服', key: 'MENU_SUPPORT' },
      ],
    })
    const read = await client.getMenu()
    assert.equal(read.menu?.button.length, 2)
  })

  it('deletes the menu', async () => {
    assert.equal((await call('menu/delete')).errcode, 0)
    assert.equal((await call('menu/get')).errcode, 46003)
  })
})
