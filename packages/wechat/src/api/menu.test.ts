import assert from 'node:assert/strict'
import { test } from 'node:test'
import { normalizeMenu, validateMenu } from './menu.js'
import type { Menu } from './menu.js'

const VALID: Menu = {
  button: [
    { type: 'click', name: '我的订单', key: 'MENU_MY_ORDERS' },
    {
      name: '更多',
      sub_button: [
        { type: 'view', name: '官网', url: 'https://www.example.com/' },
        {
          type: 'miniprogram',
          name: 'wxa',
          url: 'https://www.example.com/fallback',
          appid: 'wx0000000000000000',
          pagepath: 'pages/index/index',
        },
        { type: 'click', name: '联系客服', key: 'MENU_SUPPORT' },
      ],
    },
    { type: 'media_id', name: '图片', media_id: 'MEDIA_ID1' },
  ],
}

const click = (name: string, key = 'K'): Record<string, unknown> => ({ type: 'click', name, key })

test('accepts the documented example menu', () => {
  assert.deepEqual(validateMenu(VALID), [])
})

test('accepts every button type with the fields it needs', () => {
  const leaves = [
    { type: 'scancode_push', name: 'a', key: 'k' },
    { type: 'scancode_waitmsg', name: 'a', key: 'k' },
    { type: 'pic_sysphoto', name: 'a', key: 'k' },
    { type: 'pic_photo_or_album', name: 'a', key: 'k' },
    { type: 'pic_weixin', name: 'a', key: 'k' },
  ]
  const more = [
    { type: 'location_select', name: 'a', key: 'k' },
    { type: 'view_limited', name: 'a', media_id: 'm' },
    { type: 'article_id', name: 'a', article_id: 'x' },
    { type: 'article_view_limited', name: 'a', article_id: 'x' },
  ]
  const menu = {
    button: [
      { name: 'one', sub_button: leaves },
      { name: 'two', sub_button: more },
      { type: 'view', name: 'v', url: 'http://example.com' },
    ],
  }
  assert.deepEqual(validateMenu(menu), [])
})

test('accepts names exactly at the byte limits (16 top, 60 sub; UTF-8 bytes)', () => {
  const menu = {
    button: [
      click('一二三四五'.slice(0, 5) + 'a'),
      { name: 'x', sub_button: [click('中'.repeat(20))] },
    ],
  }
  assert.equal(Buffer.byteLength('一二三四五a'), 16)
  assert.deepEqual(validateMenu(menu), [])
})

const cases: [string, unknown, { path: string; includes?: string }[]][] = [
  ['a non-object', 'menu', [{ path: '(root)' }]],
  ['no button array', {}, [{ path: 'button' }]],
  ['zero buttons', { button: [] }, [{ path: 'button', includes: '1..3' }]],
  [
    'four buttons',
    { button: [click('a'), click('b'), click('c'), click('d')] },
    [{ path: 'button' }],
  ],
  ['an unknown key at the root', { button: [click('a')], menuid: 1 }, [{ path: 'menuid' }]],
  [
    'a top-level name of 17 bytes',
    { button: [click('一二三四五ab')] },
    [{ path: 'button[0].name' }],
  ],
  ['an empty name', { button: [click('')] }, [{ path: 'button[0].name' }]],
  ['a missing name', { button: [{ type: 'click', key: 'k' }] }, [{ path: 'button[0].name' }]],
  [
    'a sub-button name of 61 bytes',
    { button: [{ name: 'x', sub_button: [click('中'.repeat(20) + 'a')] }] },
    [{ path: 'button[0].sub_button[0].name' }],
  ],
  [
    'six sub-buttons',
    { button: [{ name: 'x', sub_button: Array.from({ length: 6 }, (_, i) => click(`s${i}`)) }] },
    [{ path: 'button[0].sub_button', includes: '1..5' }],
  ],
  [
    'an empty sub_button list',
    { button: [{ name: 'x', sub_button: [] }] },
    [{ path: 'button[0].sub_button' }],
  ],
  [
    'a parent button with a type and key',
    { button: [{ name: 'x', type: 'click', key: 'k', sub_button: [click('a')] }] },
    [{ path: 'button[0].type' }, { path: 'button[0].key' }],
  ],
  [
    'a third menu level',
    { button: [{ name: 'x', sub_button: [{ name: 'y', sub_button: [click('z')] }] }] },
    [{ path: 'button[0].sub_button[0].sub_button' }],
  ],
  [
    'an unknown type',
    { button: [{ type: 'text', name: 'a' }] },
    [{ path: 'button[0].type', includes: 'text' }],
  ],
  ['a missing type', { button: [{ name: 'a', key: 'k' }] }, [{ path: 'button[0].type' }]],
  ['a click without key', { button: [{ type: 'click', name: 'a' }] }, [{ path: 'button[0].key' }]],
  [
    'a location_select without key',
    { button: [{ type: 'location_select', name: 'a' }] },
    [{ path: 'button[0].key' }],
  ],
  ['a key of 129 bytes', { button: [click('a', 'k'.repeat(129))] }, [{ path: 'button[0].key' }]],
  ['a view without url', { button: [{ type: 'view', name: 'a' }] }, [{ path: 'button[0].url' }]],
  [
    'a url of 1025 bytes',
    { button: [{ type: 'view', name: 'a', url: `https://e.com/${'a'.repeat(1011)}` }] },
    [{ path: 'button[0].url' }],
  ],
  [
    'a url that is not http(s)',
    { button: [{ type: 'view', name: 'a', url: 'javascript:alert(1)' }] },
    [{ path: 'button[0].url', includes: 'http' }],
  ],
  [
    'a miniprogram without appid and pagepath',
    { button: [{ type: 'miniprogram', name: 'a', url: 'https://e.com/' }] },
    [{ path: 'button[0].appid' }, { path: 'button[0].pagepath' }],
  ],
  [
    'a media_id button without media_id',
    { button: [{ type: 'media_id', name: 'a' }] },
    [{ path: 'button[0].media_id' }],
  ],
  [
    'an article_id button without article_id',
    { button: [{ type: 'article_id', name: 'a' }] },
    [{ path: 'button[0].article_id' }],
  ],
  [
    'a key that is not a string',
    { button: [click('a', 7 as unknown as string)] },
    [{ path: 'button[0].key' }],
  ],
  ['a button that is not an object', { button: ['click'] }, [{ path: 'button[0]' }]],
  [
    'problems in several buttons at once',
    {
      button: [
        click('a'),
        { name: 'x', sub_button: [click('b'), { type: 'view', name: 'c' }] },
        { type: 'nope', name: 'd' },
      ],
    },
    [{ path: 'button[1].sub_button[1].url' }, { path: 'button[2].type' }],
  ],
]

for (const [what, menu, expected] of cases) {
  test(`rejects a menu with ${what}`, () => {
    const problems = validateMenu(menu)
    assert.deepEqual(
      problems.map((p) => p.path),
      expected.map((e) => e.path),
    )
    for (const [index, e] of expected.entries()) {
      if (e.includes !== undefined) assert.ok(problems[index]?.problem.includes(e.includes))
    }
  })
}

test('accepts what WeChat ignores: a field the type does not use, the empty sub_button of a leaf', () => {
  // A menu as menu/get returns it (every leaf with `sub_button: []`), sent back as it came.
  const fetched = {
    button: [
      { type: 'click', name: 'a', key: 'k', sub_button: [] },
      {
        name: 'p',
        sub_button: [{ type: 'view', name: 'v', url: 'https://e.com/', sub_button: [] }],
      },
      { type: 'view', name: 'w', url: 'https://e.com/', key: 'unused' },
    ],
  }
  assert.deepEqual(validateMenu(fetched), [])
})

test('normalizeMenu drops menuid and the empty sub_button lists of menu/get', () => {
  const raw = {
    button: [
      { type: 'click', name: 'a', key: 'k', sub_button: [] },
      {
        name: 'p',
        sub_button: [{ type: 'view', name: 'v', url: 'https://e.com/', sub_button: [] }],
      },
    ],
    menuid: 1,
  }
  const menu = normalizeMenu(raw)
  assert.deepEqual(menu, {
    button: [
      { type: 'click', name: 'a', key: 'k' },
      { name: 'p', sub_button: [{ type: 'view', name: 'v', url: 'https://e.com/' }] },
    ],
  })
  assert.deepEqual(validateMenu(menu), [])
})

test('normalizeMenu turns a shapeless answer into an empty menu', () => {
  assert.deepEqual(normalizeMenu(null), { button: [] })
})
