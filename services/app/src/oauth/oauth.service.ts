// Web-page OAuth login: hands out one-time states, exchanges a code once, upserts the user, issues a session.
import { buildAuthorizeUrl, randomNonce, WeChatApiError } from '@wxgate/wechat'
import type { OAuthScope, WeChatApiClient } from '@wxgate/wechat'
import type { Kysely } from 'kysely'
import type { SessionIssuer } from '../auth/session.js'
import type { Database } from '../db/database.js'
import { AppErrors } from '../errors.js'
import type { UsersService } from '../users/users.service.js'
import type { UserRow } from '../users/users.table.js'
import { toWeChatHttpError } from '../wechat/wechat-errors.js'
import { createOAuthStatesRepository } from './oauth.repository.js'

/** How long an authorize-url `state` may be brought back. */
export const OAUTH_STATE_TTL_MS = 10 * 60_000
/** 22 characters of [A-Za-z0-9] carry 22·log2(62) ≈ 131 bits. */
export const OAUTH_STATE_LENGTH = 22
/** WeChat's answers for a code that is wrong/expired (40029) or already used (40163). */
const CODE_ERRCODES = new Set([40029, 40163])

export interface OAuthLogger {
  warn(obj: object, msg: string): void
}

export interface OAuthServiceDeps {
  db: Kysely<Database>
  wechatApi: Pick<WeChatApiClient, 'exchangeOAuthCode' | 'getOAuthUserInfo'>
  users: Pick<UsersService, 'createOrUpdate'>
  sessions: Pick<SessionIssuer, 'issue'>
  appId: string
  openBaseUrl: string
  now: () => number
  logger: OAuthLogger
  /** Source of state values; CSPRNG by default (injectable for tests). */
  randomState?: () => string
}

export interface OAuthLogin {
  token: string
  expiresIn: number
  user: UserRow
}

export function createOAuthService(deps: OAuthServiceDeps) {
  const states = createOAuthStatesRepository(deps.db)
  const randomState = deps.randomState ?? (() => randomNonce(OAUTH_STATE_LENGTH))

  async function createAuthorizeUrl(input: {
    redirectUri: string
    scope: OAuthScope
  }): Promise<{ url: string; state: string }> {
    if (!isAbsoluteHttpUrl(input.redirectUri)) throw new AppErrors.REDIRECT_URI_INVALID()
    const at = deps.now()
    // Expired states can never be consumed; dropping them here keeps the table at ~10 minutes of traffic.
    // Best effort: two of these at once may deadlock on MySQL, and the new state is good either way.
    try {
      await states.deleteExpired(at)
    } catch (error) {
      deps.logger.warn({ err: error }, 'expired OAuth states not deleted')
    }
    const state = randomState()
    await states.insert({
      state,
      redirect_uri: input.redirectUri,
      scope: input.scope,
      created_at: at,
      expires_at: at + OAUTH_STATE_TTL_MS,
      used_at: null,
    })
    const url = buildAuthorizeUrl({
      appId: deps.appId,
      redirectUri: input.redirectUri,
      scope: input.scope,
      state,
      openBaseUrl: deps.openBaseUrl,
    })
    return { url, state }
  }

  async function login(input: { code: string; state?: string | undefined }): Promise<OAuthLogin> {
    // The state is spent before WeChat is asked, so a replayed callback can never log in twice; a
    // login that then fails gives it back, because a failed request changes nothing (the browser may
    // come back with a new code: WeChat's own code can only be exchanged once anyway).
    const { state } = input
    const spentAt = deps.now()
    if (state !== undefined && !(await states.consume(state, spentAt))) {
      throw new AppErrors.OAUTH_STATE_INVALID()
    }
    try {
      return await loginWithCode(input.code)
    } catch (error) {
      if (state !== undefined) {
        await states.release(state, spentAt).catch((releaseError: unknown) => {
          deps.logger.warn({ err: releaseError }, 'oauth state not released after a failed login')
        })
      }
      throw error
    }
  }

  async function loginWithCode(code: string): Promise<OAuthLogin> {
    let grant
    try {
      grant = await deps.wechatApi.exchangeOAuthCode(code)
    } catch (error) {
      if (error instanceof WeChatApiError && CODE_ERRCODES.has(error.errcode)) {
        throw new AppErrors.OAUTH_CODE_INVALID({ cause: error })
      }
      throw toWeChatHttpError(error)
    }
    if (grant.isSnapshotUser) throw new AppErrors.OAUTH_SNAPSHOT_USER()

    let profile: { nickname?: string; avatarUrl?: string; unionId?: string } = {}
    if (grant.scope.split(',').includes('snsapi_userinfo')) {
      try {
        const info = await deps.wechatApi.getOAuthUserInfo(grant.accessToken, grant.openId)
        const nickname = within(info.nickname, PROFILE_MAX_LENGTH.nickname)
        const avatarUrl = within(info.headImgUrl, PROFILE_MAX_LENGTH.avatarUrl)
        const unionId = within(info.unionId, PROFILE_MAX_LENGTH.unionId)
        profile = {
          ...(nickname === undefined ? {} : { nickname }),
          ...(avatarUrl === undefined ? {} : { avatarUrl }),
          ...(unionId === undefined ? {} : { unionId }),
        }
      } catch (error) {
        // The openid is already proven; a missing nickname must not cost the user the login.
        deps.logger.warn({ err: error, openId: grant.openId }, 'oauth userinfo failed')
      }
    }

    const { user } = await deps.users.createOrUpdate({
      openId: grant.openId,
      unionId: profile.unionId ?? within(grant.unionId, PROFILE_MAX_LENGTH.unionId),
      nickname: profile.nickname,
      avatarUrl: profile.avatarUrl,
    })
    const session = await deps.sessions.issue({ userId: user.id, openId: user.openid })
    return { token: session.token, expiresIn: session.expiresIn, user }
  }

  return { createAuthorizeUrl, login }
}

export type OAuthService = ReturnType<typeof createOAuthService>

/**
 * The widths of wechat_users' profile columns. A longer value from WeChat is left out rather than stored: on
 * MySQL it failed the insert ("Data too long"), and the profile must not cost the user the login.
 */
const PROFILE_MAX_LENGTH = { nickname: 128, avatarUrl: 512, unionId: 64 } as const

/** `value` if it fits `maxLength` (UTF-16 units, never fewer than the column's characters). */
function within(value: string | undefined, maxLength: number): string | undefined {
  return value !== undefined && value.length <= maxLength ? value : undefined
}

/** An absolute http(s) URL with a host: what WeChat can redirect a browser to. */
export function isAbsoluteHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false
  const url = new URL(value)
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
}
