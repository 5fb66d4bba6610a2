// QR login: creates login scenes at WeChat, records scans the gateway reports, hands the scanner a session.
import { LOGIN_SCENE_PREFIX } from '@wxgate/internal-api'
import { randomNonce, showQrCodeUrl } from '@wxgate/wechat'
import type { WeChatApiClient } from '@wxgate/wechat'
import type { FastifyBaseLogger } from 'fastify'
import type { Kysely } from 'kysely'
import type { SessionIssuer } from '../auth/session.js'
import { isUniqueViolation } from '../db/create-db.js'
import type { Database } from '../db/database.js'
import { AppErrors } from '../errors.js'
import type { UsersService } from '../users/users.service.js'
import type { UserRow } from '../users/users.table.js'
import { toWeChatHttpError } from '../wechat/wechat-errors.js'
import { createQrLoginRepository } from './qr-login.repository.js'
import type { ScanFields } from './qr-login.repository.js'
import type { QrcodeBindingRow } from './qr-login.table.js'

/** 22 characters of [A-Za-z0-9] carry ≈ 131 bits; with the prefix the scene is 28 of WeChat's 64. */
export const LOGIN_SCENE_RANDOM_LENGTH = 22
/** Events that prove the scanner follows the account (PROTOCOL.md §6). */
const FOLLOWING_EVENTS = new Set(['subscribe', 'SCAN'])

export interface LoginQrCode {
  sceneStr: string
  ticket: string
  url: string
  qrcodeUrl: string
  expireSeconds: number
  /** Unix ms. */
  expiresAt: number
}

export type SceneCheck =
  | { status: 'pending' }
  | { status: 'expired' }
  | { status: 'scanned'; token: string; expiresIn: number; user: UserRow }

export interface ScanReport {
  sceneStr: string
  openId: string
  event: string
  /** Unix seconds (WeChat's CreateTime). */
  eventTime: number
}

export interface QrLoginServiceDeps {
  db: Kysely<Database>
  wechatApi: Pick<WeChatApiClient, 'createQrCode'>
  users: Pick<UsersService, 'createOrUpdate' | 'findByOpenId'>
  sessions: Pick<SessionIssuer, 'issue'>
  mpBaseUrl: string
  /** QR_LOGIN_EXPIRE_S: lifetime of the code, and how long after a scan the login may be picked up. */
  expireS: number
  now: () => number
  randomScene?: () => string
  /** Where a failed clean-up of old scenes is said (it never fails a login). */
  logger?: Pick<FastifyBaseLogger, 'warn'>
}

/**
 * How long an expired login scene is kept: check-follow answers `expired` for it meanwhile (then 404).
 * WeChat sends no scan for an expired code, so nothing else asks about it.
 */
export const LOGIN_SCENE_KEPT_MS = 86_400_000

export function createQrLoginService(deps: QrLoginServiceDeps) {
  const bindings = createQrLoginRepository(deps.db)
  const randomScene =
    deps.randomScene ?? (() => LOGIN_SCENE_PREFIX + randomNonce(LOGIN_SCENE_RANDOM_LENGTH))

  async function createLoginQrCode(): Promise<LoginQrCode> {
    const sceneStr = randomScene()
    // Taken before the call, so our expiry is never later than WeChat's.
    const createdAt = deps.now()
    let qr
    try {
      qr = await deps.wechatApi.createQrCode({
        actionName: 'QR_STR_SCENE',
        sceneStr,
        expireSeconds: deps.expireS,
      })
    } catch (error) {
      throw toWeChatHttpError(error)
    }
    const expireSeconds = Math.min(qr.expireSeconds ?? deps.expireS, deps.expireS)
    const expiresAt = createdAt + expireSeconds * 1000
    await bindings.insertLoginScene({ sceneStr, ticket: qr.ticket, createdAt, expiresAt })
    // Every anonymous POST …/qrcode adds a row: the old ones go here, a day after they expired. Best
    // effort: two of these at once may deadlock on MySQL, and the code just made is good either way.
    try {
      await bindings.deleteLoginScenesExpiredBefore(createdAt - LOGIN_SCENE_KEPT_MS)
    } catch (error) {
      deps.logger?.warn({ err: error }, 'expired login scenes not deleted')
    }
    return {
      sceneStr,
      ticket: qr.ticket,
      url: qr.url,
      qrcodeUrl: showQrCodeUrl(deps.mpBaseUrl, qr.ticket),
      expireSeconds,
      expiresAt,
    }
  }

  /** What the browser polling `check-follow?scene_str=` learns; a scanned scene yields a session. */
  async function checkScene(sceneStr: string): Promise<SceneCheck> {
    const row = await bindings.findByScene(sceneStr)
    if (row?.purpose !== 'login') throw new AppErrors.QR_SCENE_NOT_FOUND()
    // `expired` from expires_at on, scanned or not: until then any poll may pick up the login.
    if (row.expires_at !== null && deps.now() >= row.expires_at) return { status: 'expired' }
    if (row.status !== 'scanned' || row.openid === null) return { status: 'pending' }
    const user = await scannerOf(row.openid)
    const session = await deps.sessions.issue({ userId: user.id, openId: user.openid })
    return { status: 'scanned', token: session.token, expiresIn: session.expiresIn, user }
  }

  /**
   * A scan reported by the gateway. `update` is for the login scenes app created (404 for any other, so
   * the gateway records it with `create` and welcomes the follower); `create` also records a scene it
   * has never seen (a permanent channel code). Re-deliveries are no-ops.
   */
  async function recordScan(
    report: ScanReport,
    mode: 'create' | 'update',
  ): Promise<QrcodeBindingRow> {
    const scan: ScanFields = {
      openid: report.openId,
      event: report.event,
      eventTime: report.eventTime * 1000,
      scannedAt: deps.now(),
    }
    let row = await bindings.findByScene(report.sceneStr)
    if (mode === 'update' && row?.purpose !== 'login') throw new AppErrors.QR_SCENE_NOT_FOUND()
    if (row === undefined) {
      await applyScanner(report.openId, report.event, report.eventTime * 1000)
      try {
        await bindings.insertChannelScan(report.sceneStr, scan)
      } catch (error) {
        // A concurrent delivery recorded the scene first: continue as an update of that row.
        if (!isUniqueViolation(error)) throw error
      }
      row = await requireScene(report.sceneStr)
      if (sameScan(row, scan)) return row
    }
    return row.purpose === 'login' ? recordLoginScan(row, scan) : recordChannelScan(row, scan)
  }

  async function recordLoginScan(
    row: QrcodeBindingRow,
    scan: ScanFields,
  ): Promise<QrcodeBindingRow> {
    for (;;) {
      if (row.status === 'scanned') {
        // The same person again (a WeChat retry, or a second scan) changes nothing; anyone else is refused.
        if (row.openid === scan.openid) return row
        throw new AppErrors.QR_SCENE_ALREADY_SCANNED()
      }
      if (row.expires_at !== null && scan.scannedAt >= row.expires_at) {
        throw new AppErrors.QR_SCENE_EXPIRED()
      }
      // The user must exist before the scene says "scanned": the poll that sees it issues a session.
      await applyScanner(scan.openid, scan.event, scan.eventTime)
      if (await bindings.markLoginScanned(row.id, scan)) return requireScene(row.scene_str)
      row = await requireScene(row.scene_str)
    }
  }

  async function recordChannelScan(
    row: QrcodeBindingRow,
    scan: ScanFields,
  ): Promise<QrcodeBindingRow> {
    if (sameScan(row, scan)) return row
    await applyScanner(scan.openid, scan.event, scan.eventTime)
    await bindings.applyChannelScan(row.id, scan)
    return requireScene(row.scene_str)
  }

  async function requireScene(sceneStr: string): Promise<QrcodeBindingRow> {
    const row = await bindings.findByScene(sceneStr)
    if (row === undefined) throw new AppErrors.QR_SCENE_NOT_FOUND()
    return row
  }

  /**
   * The scanner as a user. The gateway calls create-or-update before the binding, but delivery order is
   * not guaranteed: a scan event proves the user follows, so it is applied here too (ordered by event
   * time, so a repeat or an older event changes nothing).
   */
  async function applyScanner(
    openId: string,
    event: string,
    eventTimeMs: number | undefined,
  ): Promise<UserRow> {
    const following = FOLLOWING_EVENTS.has(event)
    const { user } = await deps.users.createOrUpdate({
      openId,
      ...(following ? { subscribed: true } : {}),
      ...(following && eventTimeMs !== undefined
        ? { eventTime: Math.floor(eventTimeMs / 1000) }
        : {}),
    })
    return user
  }

  /** The user a recorded scan points at (created bare if it vanished, so a session can be issued). */
  async function scannerOf(openId: string): Promise<UserRow> {
    return (
      (await deps.users.findByOpenId(openId)) ?? (await deps.users.createOrUpdate({ openId })).user
    )
  }

  return { createLoginQrCode, checkScene, recordScan }
}

export type QrLoginService = ReturnType<typeof createQrLoginService>

function sameScan(row: QrcodeBindingRow, scan: ScanFields): boolean {
  return row.openid === scan.openid && row.event_time === scan.eventTime
}
