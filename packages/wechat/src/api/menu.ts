// Custom menu types and the local check of WeChat's menu rules (PROTOCOL.md §7), before menu/create.
import type { WeChatRequestProblem } from './invalid-request-error.js'

export type MenuButtonType =
  | 'click'
  | 'view'
  | 'miniprogram'
  | 'scancode_push'
  | 'scancode_waitmsg'
  | 'pic_sysphoto'
  | 'pic_photo_or_album'
  | 'pic_weixin'
  | 'location_select'
  | 'media_id'
  | 'view_limited'
  | 'article_id'
  | 'article_view_limited'

/** A button that does something; WeChat's snake_case field names, sent as they are. */
export interface MenuLeafButton {
  type: MenuButtonType
  name: string
  key?: string
  url?: string
  appid?: string
  pagepath?: string
  media_id?: string
  article_id?: string
}

/** A top-level button that only opens its sub-menu. */
export interface MenuParentButton {
  name: string
  sub_button: MenuLeafButton[]
}

export type MenuButton = MenuLeafButton | MenuParentButton

export interface Menu {
  button: MenuButton[]
}

export type MenuProblem = WeChatRequestProblem

const MAX_BUTTONS = 3
const MAX_SUB_BUTTONS = 5
const MAX_TOP_NAME_BYTES = 16
const MAX_SUB_NAME_BYTES = 60
const MAX_KEY_BYTES = 128
const MAX_URL_BYTES = 1024
const MAX_ID_BYTES = 128

type LeafField = 'key' | 'url' | 'appid' | 'pagepath' | 'media_id' | 'article_id'

const EVENT_FIELDS: readonly LeafField[] = ['key']
/** The fields each type requires; any other field on a leaf is rejected. */
const REQUIRED_FIELDS: Record<MenuButtonType, readonly LeafField[]> = {
  click: EVENT_FIELDS,
  scancode_push: EVENT_FIELDS,
  scancode_waitmsg: EVENT_FIELDS,
  pic_sysphoto: EVENT_FIELDS,
  pic_photo_or_album: EVENT_FIELDS,
  pic_weixin: EVENT_FIELDS,
  location_select: EVENT_FIELDS,
  view: ['url'],
  miniprogram: ['url', 'appid', 'pagepath'],
  media_id: ['media_id'],
  view_limited: ['media_id'],
  article_id: ['article_id'],
  article_view_limited: ['article_id'],
}

const FIELD_MAX_BYTES: Record<LeafField, number> = {
  key: MAX_KEY_BYTES,
  url: MAX_URL_BYTES,
  appid: MAX_ID_BYTES,
  pagepath: MAX_URL_BYTES,
  media_id: MAX_ID_BYTES,
  article_id: MAX_ID_BYTES,
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isButtonType(value: unknown): value is MenuButtonType {
  return typeof value === 'string' && Object.hasOwn(REQUIRED_FIELDS, value)
}

/** Every broken rule of `menu`, each with its path (`button[1].sub_button[0].name`); empty = valid. */
export function validateMenu(menu: unknown): MenuProblem[] {
  const problems: MenuProblem[] = []
  if (!isRecord(menu)) {
    problems.push({ path: '(root)', problem: 'must be an object with a button array' })
    return problems
  }
  for (const name of Object.keys(menu)) {
    if (name !== 'button') problems.push({ path: name, problem: 'is not allowed' })
  }
  const buttons = menu.button
  if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > MAX_BUTTONS) {
    problems.push({ path: 'button', problem: `must be an array of 1..${MAX_BUTTONS} buttons` })
    if (!Array.isArray(buttons)) return problems
  }
  buttons.forEach((button: unknown, index) => {
    const path = `button[${index}]`
    if (isRecord(button) && hasSubButtons(button)) {
      checkParent(button, path, problems)
    } else {
      checkLeaf(button, path, MAX_TOP_NAME_BYTES, problems)
    }
  })
  return problems
}

function checkParent(button: Record<string, unknown>, path: string, problems: MenuProblem[]): void {
  checkName(button.name, `${path}.name`, MAX_TOP_NAME_BYTES, problems)
  for (const name of Object.keys(button)) {
    if (name !== 'name' && name !== 'sub_button') {
      problems.push({
        path: `${path}.${name}`,
        problem: 'is not allowed on a button with sub_button',
      })
    }
  }
  const subs = button.sub_button
  if (!Array.isArray(subs) || subs.length < 1 || subs.length > MAX_SUB_BUTTONS) {
    problems.push({
      path: `${path}.sub_button`,
      problem: `must be an array of 1..${MAX_SUB_BUTTONS} buttons`,
    })
    if (!Array.isArray(subs)) return
  }
  subs.forEach((sub: unknown, index) => {
    const subPath = `${path}.sub_button[${index}]`
    if (isRecord(sub) && hasSubButtons(sub)) {
      problems.push({ path: `${subPath}.sub_button`, problem: 'menus nest only two levels deep' })
      return
    }
    checkLeaf(sub, subPath, MAX_SUB_NAME_BYTES, problems)
  })
}

function checkLeaf(
  button: unknown,
  path: string,
  maxNameBytes: number,
  problems: MenuProblem[],
): void {
  if (!isRecord(button)) {
    problems.push({ path, problem: 'must be an object' })
    return
  }
  checkName(button.name, `${path}.name`, maxNameBytes, problems)
  const type = button.type
  if (!isButtonType(type)) {
    problems.push({
      path: `${path}.type`,
      problem:
        type === undefined ? 'is required' : `is not a menu button type: ${JSON.stringify(type)}`,
    })
    return
  }
  const required = REQUIRED_FIELDS[type]
  for (const field of required) {
    const value = button[field]
    const fieldPath = `${path}.${field}`
    const max = FIELD_MAX_BYTES[field]
    if (value === undefined) {
      problems.push({ path: fieldPath, problem: `is required for type ${type}` })
    } else if (typeof value !== 'string' || value === '' || byteLength(value) > max) {
      problems.push({ path: fieldPath, problem: `must be a string of 1..${max} bytes` })
    } else if (field === 'url' && !/^https?:\/\//i.test(value)) {
      problems.push({ path: fieldPath, problem: 'must be an http(s) URL' })
    }
  }
  // Other fields (a `key` on a view button, menu/get's own `sub_button: []`) are ignored by WeChat, as here.
}

/**
 * A parent button: one with a `sub_button` that is not WeChat's empty list on a leaf (menu/get adds
 * `sub_button: []` to every leaf, and a fetched menu must be accepted back as it came).
 */
function hasSubButtons(button: Record<string, unknown>): boolean {
  const subs = button.sub_button
  if (subs === undefined) return false
  return !(Array.isArray(subs) && subs.length === 0 && button.type !== undefined)
}

function checkName(name: unknown, path: string, maxBytes: number, problems: MenuProblem[]): void {
  if (name === undefined) {
    problems.push({ path, problem: 'is required' })
  } else if (typeof name !== 'string' || name === '' || byteLength(name) > maxBytes) {
    problems.push({ path, problem: `must be a string of 1..${maxBytes} bytes (UTF-8)` })
  }
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/**
 * The `menu` of a menu/get answer as a `Menu`: drops `menuid` and the empty `sub_button: []` that
 * WeChat adds to every leaf, so the result can be sent back to menu/create unchanged.
 */
export function normalizeMenu(raw: unknown): Menu {
  const buttons = isRecord(raw) && Array.isArray(raw.button) ? (raw.button as unknown[]) : []
  return { button: buttons.filter(isRecord).map((button) => normalizeButton(button, true)) }
}

function normalizeButton(button: Record<string, unknown>, top: boolean): MenuButton {
  const { sub_button: subs, ...rest } = button
  if (top && Array.isArray(subs) && subs.length > 0) {
    return {
      name: typeof rest.name === 'string' ? rest.name : '',
      sub_button: subs.filter(isRecord).map((sub) => normalizeButton(sub, false) as MenuLeafButton),
    }
  }
  return rest as unknown as MenuLeafButton
}
