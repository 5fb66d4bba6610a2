// The custom menu: menu/create validated with WeChat's errcodes, menu/get, menu/delete, get_current_selfmenu_info.
import type { FastifyInstance } from 'fastify'
import type { SimContext } from '../context.js'
import type { ApiErrorBody } from './api-error.js'
import { apiError, apiOk } from './api-error.js'
import type { ApiRouteDeps } from './api-route.js'
import { registerApiRoute } from './api-route.js'

export interface SimMenuButton {
  type?: string
  name: string
  key?: string
  url?: string
  appid?: string
  pagepath?: string
  media_id?: string
  article_id?: string
  sub_button?: SimMenuButton[]
}

export interface SimMenu {
  button: SimMenuButton[]
  menuid: number
}

const KEY_TYPES = new Set([
  'click',
  'scancode_push',
  'scancode_waitmsg',
  'pic_sysphoto',
  'pic_photo_or_album',
  'pic_weixin',
  'location_select',
])
const URL_TYPES = new Set(['view', 'miniprogram'])
const MEDIA_TYPES = new Set(['media_id', 'view_limited'])
const ARTICLE_TYPES = new Set(['article_id', 'article_view_limited'])

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8')

/** Errcodes of one level: top-level buttons and sub-buttons have their own. */
const CODES = {
  top: { type: 40017, name: 40018, key: 40019, url: 40020, domain: 40055, nameMax: 16 },
  sub: { type: 40024, name: 40025, key: 40026, url: 40027, domain: 40054, nameMax: 60 },
}

/** Validates like WeChat does: the first problem wins, answered with its errcode. */
export function validateMenuBody(body: unknown): { errcode: number } | { button: SimMenuButton[] } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { errcode: 47001 }
  const buttons = (body as Record<string, unknown>).button
  if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > 3) return { errcode: 40016 }
  const out: SimMenuButton[] = []
  for (const raw of buttons) {
    if (raw === null || typeof raw !== 'object') return { errcode: 40017 }
    const button = raw as Record<string, unknown>
    if (button.sub_button !== undefined && !Array.isArray(button.sub_button)) {
      return { errcode: 40023 }
    }
    // A button with sub-buttons is only a name (and WeChat ignores an empty sub_button list on a leaf).
    if (Array.isArray(button.sub_button) && button.sub_button.length > 0) {
      const name = checkName(button.name, CODES.top)
      if (typeof name !== 'string') return name
      if (button.sub_button.length > 5) return { errcode: 40023 }
      const subs: SimMenuButton[] = []
      for (const rawSub of button.sub_button as unknown[]) {
        if (rawSub === null || typeof rawSub !== 'object') return { errcode: 40024 }
        const leaf = checkLeaf(rawSub as Record<string, unknown>, CODES.sub)
        if ('errcode' in leaf) return leaf
        subs.push(leaf)
      }
      out.push({ name, sub_button: subs })
      continue
    }
    const leaf = checkLeaf(button, CODES.top)
    if ('errcode' in leaf) return leaf
    out.push(leaf)
  }
  return { button: out }
}

function checkName(name: unknown, codes: typeof CODES.top): string | { errcode: number } {
  if (typeof name !== 'string' || name === '' || bytes(name) > codes.nameMax) {
    return { errcode: codes.name }
  }
  return name
}

function checkUrl(url: unknown, codes: typeof CODES.top): string | { errcode: number } {
  if (typeof url !== 'string' || url === '' || bytes(url) > 1024) return { errcode: codes.url }
  if (!/^https?:\/\/[^/?#\s]+/i.test(url)) return { errcode: codes.domain }
  return url
}

function checkLeaf(
  button: Record<string, unknown>,
  codes: typeof CODES.top,
): SimMenuButton | { errcode: number } {
  const type = button.type
  const typeOk =
    typeof type === 'string' &&
    (KEY_TYPES.has(type) || URL_TYPES.has(type) || MEDIA_TYPES.has(type) || ARTICLE_TYPES.has(type))
  if (!typeOk) return { errcode: codes.type }
  const name = checkName(button.name, codes)
  if (typeof name !== 'string') return name
  if (KEY_TYPES.has(type)) {
    const key = button.key
    if (typeof key !== 'string' || key === '' || bytes(key) > 128) return { errcode: codes.key }
    return { type, name, key }
  }
  if (URL_TYPES.has(type)) {
    const url = checkUrl(button.url, codes)
    if (typeof url !== 'string') return url
    if (type === 'view') return { type, name, url }
    const { appid, pagepath } = button
    if (typeof appid !== 'string' || !/^wx[0-9a-f]{16}$/.test(appid)) return { errcode: 40097 }
    if (typeof pagepath !== 'string' || pagepath === '') return { errcode: 40097 }
    return { type, name, url, appid, pagepath }
  }
  if (MEDIA_TYPES.has(type)) {
    const mediaId = button.media_id
    if (typeof mediaId !== 'string' || mediaId === '') return { errcode: 40007 }
    return { type, name, media_id: mediaId }
  }
  const articleId = button.article_id
  if (typeof articleId !== 'string' || articleId === '') return { errcode: 40097 }
  return { type, name, article_id: articleId }
}

export interface MenuStore {
  current(): SimMenu | undefined
  set(button: SimMenuButton[]): SimMenu
  remove(): void
  /** Every key of a click-like button (the phone can only click what exists). */
  hasKey(key: string): boolean
  hasView(url: string): boolean
}

export function createMenuStore(ctx: SimContext): MenuStore {
  let menu: SimMenu | undefined
  const leaves = (): SimMenuButton[] =>
    menu === undefined ? [] : menu.button.flatMap((button) => button.sub_button ?? [button])
  return {
    current: () => menu,
    set(button) {
      menu = { button, menuid: 400_000_000 + Number(ctx.randomDigits(8)) }
      return menu
    },
    remove() {
      menu = undefined
    },
    hasKey: (key) => leaves().some((button) => button.key === key && button.type !== undefined),
    hasView: (url) => leaves().some((button) => button.type === 'view' && button.url === url),
  }
}

/** menu/get shape: leaves carry an empty `sub_button` array, as WeChat answers. */
function menuGetShape(menu: SimMenu): Record<string, unknown> {
  const leaf = (button: SimMenuButton): Record<string, unknown> => ({ ...button, sub_button: [] })
  return {
    menu: {
      button: menu.button.map((button) =>
        button.sub_button === undefined
          ? leaf(button)
          : { name: button.name, sub_button: button.sub_button.map(leaf) },
      ),
      menuid: menu.menuid,
    },
  }
}

/** get_current_selfmenu_info shape: sub-menus are `{ list: [...] }`, not arrays. */
function selfMenuShape(menu: SimMenu | undefined): Record<string, unknown> {
  if (menu === undefined) return { is_menu_open: 0 }
  return {
    is_menu_open: 1,
    selfmenu_info: {
      button: menu.button.map((button) =>
        button.sub_button === undefined
          ? { ...button }
          : {
              name: button.name,
              sub_button: { list: button.sub_button.map((sub) => ({ ...sub })) },
            },
      ),
    },
  }
}

export function registerMenuRoutes(
  app: FastifyInstance,
  deps: ApiRouteDeps & { menus: MenuStore },
): void {
  const { ctx, menus } = deps
  registerApiRoute(app, deps, {
    api: '/cgi-bin/menu/create',
    method: 'POST',
    token: true,
    handler: ({ body }): ApiErrorBody => {
      const result = validateMenuBody(body)
      if ('errcode' in result) return apiError(ctx, result.errcode)
      menus.set(result.button)
      return apiOk()
    },
  })
  registerApiRoute(app, deps, {
    api: '/cgi-bin/menu/get',
    method: 'GET',
    token: true,
    handler: () => {
      const menu = menus.current()
      return menu === undefined ? apiError(ctx, 46003) : menuGetShape(menu)
    },
  })
  registerApiRoute(app, deps, {
    api: '/cgi-bin/menu/delete',
    method: 'GET',
    token: true,
    handler: () => {
      menus.remove()
      return apiOk()
    },
  })
  registerApiRoute(app, deps, {
    api: '/cgi-bin/get_current_selfmenu_info',
    method: 'GET',
    token: true,
    handler: () => selfMenuShape(menus.current()),
  })
}
