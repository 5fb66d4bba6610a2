// WeChat users of the simulated world: who they are and whether (and how) they follow the account.
import type { FastifyInstance } from 'fastify'
import type { SimContext } from '../context.js'
import { apiError } from './api-error.js'
import type { ApiRouteDeps } from './api-route.js'
import { registerApiRoute } from './api-route.js'
import { SimulatorError } from '../errors.js'

export type SubscribeScene = 'ADD_SCENE_QR_CODE' | 'ADD_SCENE_SEARCH' | 'ADD_SCENE_OTHERS'

export interface SimUser {
  openId: string
  unionId: string | undefined
  nickname: string
  headImgUrl: string
  sex: 0 | 1 | 2
  subscribed: boolean
  /** Unix seconds of the last follow. */
  subscribeTime: number | undefined
  subscribeScene: SubscribeScene | undefined
  qrScene: number
  qrSceneStr: string
  /** A Moments "snapshot page" virtual account (is_snapshotuser = 1 in OAuth). */
  snapshotUser: boolean
}

export interface AddUserInput {
  openId?: string
  unionId?: string
  nickname?: string
  headImgUrl?: string
  sex?: 0 | 1 | 2
  subscribed?: boolean
  snapshotUser?: boolean
}

export interface UserStore {
  add(input?: AddUserInput): SimUser
  get(openId: string): SimUser | undefined
  /** The user, created on first use (a phone action by someone WeChat has not seen yet). */
  ensure(openId: string): SimUser
  require(openId: string): SimUser
  list(): SimUser[]
  subscribe(
    user: SimUser,
    scene: SubscribeScene,
    qr?: { sceneId?: number; sceneStr?: string },
  ): void
  unsubscribe(user: SimUser): void
}

const OPENID = /^[A-Za-z0-9_-]{1,64}$/

export function createUserStore(ctx: SimContext): UserStore {
  const users = new Map<string, SimUser>()
  const store: UserStore = {
    add(input = {}) {
      const openId = input.openId ?? `o${ctx.randomToken(20).slice(0, 27)}`
      if (!OPENID.test(openId)) {
        throw new SimulatorError('INVALID_REQUEST', 'openId must be 1-64 characters [A-Za-z0-9_-]')
      }
      if (users.has(openId)) throw new SimulatorError('USER_EXISTS', `user ${openId} exists`)
      const subscribed = input.subscribed ?? false
      const user: SimUser = {
        openId,
        unionId: input.unionId,
        nickname: input.nickname ?? `User ${openId.slice(-4)}`,
        headImgUrl:
          input.headImgUrl ?? `https://thirdwx.qlogo.cn/mmopen/vi_32/${ctx.randomHex(16)}/132`,
        sex: input.sex ?? 0,
        subscribed,
        subscribeTime: subscribed ? ctx.nowS() : undefined,
        subscribeScene: subscribed ? 'ADD_SCENE_SEARCH' : undefined,
        qrScene: 0,
        qrSceneStr: '',
        snapshotUser: input.snapshotUser ?? false,
      }
      users.set(openId, user)
      return user
    },
    get: (openId) => users.get(openId),
    ensure: (openId) => users.get(openId) ?? store.add({ openId }),
    require(openId) {
      const user = users.get(openId)
      if (user === undefined) throw new SimulatorError('USER_NOT_FOUND', `no user ${openId}`)
      return user
    },
    list: () => [...users.values()],
    subscribe(user, scene, qr) {
      user.subscribed = true
      user.subscribeTime = ctx.nowS()
      user.subscribeScene = scene
      user.qrScene = qr?.sceneId ?? 0
      user.qrSceneStr = qr?.sceneStr ?? ''
    },
    unsubscribe(user) {
      user.subscribed = false
    },
  }
  return store
}

/** The `cgi-bin/user/info` answer for a user (nickname/avatar are no longer returned since 2021-12-27). */
export function userInfoAnswer(user: SimUser): Record<string, unknown> {
  if (!user.subscribed) {
    return {
      subscribe: 0,
      openid: user.openId,
      ...(user.unionId === undefined ? {} : { unionid: user.unionId }),
    }
  }
  return {
    subscribe: 1,
    openid: user.openId,
    language: 'zh_CN',
    subscribe_time: user.subscribeTime,
    ...(user.unionId === undefined ? {} : { unionid: user.unionId }),
    remark: '',
    groupid: 0,
    tagid_list: [],
    subscribe_scene: user.subscribeScene,
    qr_scene: user.qrScene,
    qr_scene_str: user.qrSceneStr,
  }
}

export function registerUserRoutes(
  app: FastifyInstance,
  deps: ApiRouteDeps & { users: UserStore },
): void {
  const { ctx, users } = deps
  registerApiRoute(app, deps, {
    api: '/cgi-bin/user/info',
    method: 'GET',
    token: true,
    handler: ({ query }) => {
      if (query.lang !== undefined && !['zh_CN', 'zh_TW', 'en'].includes(query.lang)) {
        return apiError(ctx, 40097, 'invalid lang')
      }
      const user = query.openid === undefined ? undefined : users.get(query.openid)
      return user === undefined ? apiError(ctx, 40003) : userInfoAnswer(user)
    },
  })
}
