// The phone: a WeChat user scanning, following, chatting, clicking, logging in and paying (`sim.phone`).
import type { SimContext } from '../context.js'
import type { PushRecord } from '../context.js'
import { SimulatorError } from '../errors.js'
import type { OAuthScope } from '../platform/oauth.js'
import type { SimOrder } from '../platform/pay.js'
import type { PlatformState } from '../platform/platform.js'
import { createPayNotifier } from './pay-notifier.js'
import type { NotifyOutcome } from './pay-notifier.js'
import { createPusher } from './push.js'
import type { PushResult } from './push.js'

export interface PayResult {
  outTradeNo: string
  transactionId: string
  timeEnd: string
  openId: string
  totalFee: number
  /** After the first try (undefined when `deliver: false`: the notification is lost). */
  notification: NotifyOutcome | undefined
}

export interface SimPhone {
  /** Scans a parametric QR code (by ticket, by its url — the QR content — or by scene): `subscribe` with `qrscene_` when not following, `SCAN` when following. */
  scan(input: {
    openId: string
    ticket?: string
    url?: string
    sceneStr?: string
  }): Promise<PushResult>
  follow(openId: string): Promise<PushResult>
  unfollow(openId: string): Promise<PushResult>
  /** `msgId` defaults to a fresh 64-bit id. */
  sendText(openId: string, text: string, options?: { msgId?: string }): Promise<PushResult>
  clickMenu(openId: string, key: string): Promise<PushResult>
  viewMenu(openId: string, url: string): Promise<PushResult>
  /** Sends an earlier push again unchanged (same CreateTime/MsgId), as WeChat's retries do. */
  redeliver(push: PushRecord): Promise<PushResult>
  /** The user consents on the authorize page: the redirect URL with a fresh code and the state. */
  authorize(input: {
    openId: string
    redirectUri: string
    scope: OAuthScope
    state?: string
  }): string
  /** Opens a full authorize URL (as app built it), checked like WeChat's page, and consents as `openId`. */
  authorizeUrl(url: string, openId: string): string
  /** Pays an order and sends the notification (unless `deliver: false`: lost, orderquery still says SUCCESS). */
  pay(outTradeNo: string, options?: { openId?: string; deliver?: boolean }): Promise<PayResult>
  /** The user scans a NATIVE `code_url` (or opens an MWEB/JSAPI `prepay_id`) and pays that order. */
  payByLink(
    link: { codeUrl?: string; prepayId?: string },
    options?: { openId?: string; deliver?: boolean },
  ): Promise<PayResult>
  /** Resolves when the order's notification was accepted or its 24 h schedule ran out. */
  notificationSettled(outTradeNo: string): Promise<NotifyOutcome>
  stop(): void
}

export function createPhone(ctx: SimContext, state: PlatformState): SimPhone {
  const pusher = createPusher(ctx)
  const notifier = createPayNotifier(ctx, state.users)
  const following = (openId: string) => {
    const user = state.users.ensure(openId)
    if (!user.subscribed)
      throw new SimulatorError('NOT_FOLLOWING', `${openId} does not follow the account`)
    return user
  }
  const phone: SimPhone = {
    async scan(input) {
      const target: { ticket?: string; sceneStr?: string; url?: string } = {}
      if (input.ticket !== undefined) target.ticket = input.ticket
      else if (input.url !== undefined) target.url = input.url
      else if (input.sceneStr !== undefined) target.sceneStr = input.sceneStr
      else throw new SimulatorError('INVALID_REQUEST', 'scan needs a ticket, a url or a sceneStr')
      const code = state.qrcodes.resolveForScan(target)
      const user = state.users.ensure(input.openId)
      const scene = state.qrcodes.sceneOf(code)
      if (!user.subscribed) {
        state.users.subscribe(user, 'ADD_SCENE_QR_CODE', {
          sceneId: code.sceneId,
          sceneStr: code.sceneStr,
        })
        return pusher.push('subscribe', user.openId, {
          Event: 'subscribe',
          EventKey: `qrscene_${scene}`,
          Ticket: code.ticket,
        })
      }
      return pusher.push('SCAN', user.openId, {
        Event: 'SCAN',
        EventKey: scene,
        Ticket: code.ticket,
      })
    },
    async follow(openId) {
      const user = state.users.ensure(openId)
      if (user.subscribed)
        throw new SimulatorError('ALREADY_FOLLOWING', `${openId} already follows`)
      state.users.subscribe(user, 'ADD_SCENE_SEARCH')
      return pusher.push('subscribe', openId, { Event: 'subscribe', EventKey: '' })
    },
    async unfollow(openId) {
      const user = following(openId)
      state.users.unsubscribe(user)
      return pusher.push('unsubscribe', openId, { Event: 'unsubscribe', EventKey: '' })
    },
    async sendText(openId, text, options = {}) {
      following(openId)
      if (text === '')
        throw new SimulatorError('INVALID_REQUEST', 'an empty message cannot be sent')
      // MsgId is a 64-bit id beyond 2^53: receivers must keep it a string.
      const msgId = options.msgId ?? `24${ctx.randomDigits(17)}`
      return pusher.push('text', openId, { Content: text }, { MsgId: msgId })
    },
    async clickMenu(openId, key) {
      following(openId)
      if (!state.menus.hasKey(key))
        throw new SimulatorError('MENU_KEY_NOT_FOUND', `no menu button with key ${key}`)
      return pusher.push('CLICK', openId, { Event: 'CLICK', EventKey: key })
    },
    async viewMenu(openId, url) {
      following(openId)
      const menu = state.menus.current()
      if (menu === undefined || !state.menus.hasView(url)) {
        throw new SimulatorError('MENU_KEY_NOT_FOUND', `no view button with url ${url}`)
      }
      return pusher.push('VIEW', openId, {
        Event: 'VIEW',
        EventKey: url,
        MenuId: menu.menuid,
      })
    },
    redeliver: (push) => pusher.redeliver(push),
    authorize: (input) => state.oauth.grant(input),
    authorizeUrl: (url, openId) => state.oauth.authorizeUrl(url, openId),
    async pay(outTradeNo, options = {}) {
      const order: SimOrder = state.orders.markPaid(outTradeNo, options.openId)
      const notification = options.deliver === false ? undefined : await notifier.start(order)
      return {
        outTradeNo,
        transactionId: order.transactionId ?? '',
        timeEnd: order.timeEnd ?? '',
        openId: order.payerOpenId ?? '',
        totalFee: order.totalFee,
        notification,
      }
    },
    payByLink(link, options) {
      const order = state.orders.findByPayLink(link)
      if (order === undefined) {
        return Promise.reject(
          new SimulatorError('ORDER_NOT_FOUND', 'no order behind this code_url or prepay_id'),
        )
      }
      return phone.pay(order.outTradeNo, options)
    },
    notificationSettled(outTradeNo) {
      const settled = notifier.settled(outTradeNo)
      if (settled === undefined) {
        return Promise.reject(
          new SimulatorError('ORDER_NOT_FOUND', `no notification for ${outTradeNo}`),
        )
      }
      return settled
    },
    stop: () => notifier.stop(),
  }
  return phone
}
