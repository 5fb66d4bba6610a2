// The Official Account's custom menu: checked against WeChat's rules locally, then created or read.
import { validateMenu } from '@wxgate/wechat'
import type { Menu, MenuProblem, WeChatApiClient } from '@wxgate/wechat'
import { AppErrors } from '../errors.js'
import { toWeChatHttpError } from '../wechat/wechat-errors.js'

export interface MenusServiceDeps {
  wechatApi: Pick<WeChatApiClient, 'createMenu' | 'getMenu'>
}

/** MENU_INVALID carrying the broken rules as `details` (the error handler passes 4xx details on). */
export function menuInvalid(problems: readonly MenuProblem[]): Error {
  return Object.assign(new AppErrors.MENU_INVALID(), { details: { problems } })
}

export function createMenusService(deps: MenusServiceDeps) {
  /** Replaces the menu; an invalid one is refused here and WeChat is never called. */
  async function createMenu(input: unknown): Promise<void> {
    const problems = validateMenu(input)
    if (problems.length > 0) throw menuInvalid(problems)
    try {
      await deps.wechatApi.createMenu(input as Menu)
    } catch (error) {
      throw toWeChatHttpError(error)
    }
  }

  /** The menu created through the API, or null when the account has none (WeChat 46003). */
  async function getMenu(): Promise<Menu | null> {
    try {
      return (await deps.wechatApi.getMenu()).menu
    } catch (error) {
      throw toWeChatHttpError(error)
    }
  }

  return { createMenu, getMenu }
}

export type MenusService = ReturnType<typeof createMenusService>
