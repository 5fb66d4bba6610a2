// Parametric QR codes: cgi-bin/qrcode/create with WeChat's limits, and the showqrcode image (PNG of the code's url).
import type { FastifyInstance } from 'fastify'
import QRCode from 'qrcode'
import type { SimContext } from '../context.js'
import { SimulatorError } from '../errors.js'
import type { ApiErrorBody } from './api-error.js'
import { apiError } from './api-error.js'
import type { ApiRouteDeps } from './api-route.js'
import { firstValues, registerApiRoute } from './api-route.js'

export type QrActionName = 'QR_SCENE' | 'QR_STR_SCENE' | 'QR_LIMIT_SCENE' | 'QR_LIMIT_STR_SCENE'

export const QR_MAX_EXPIRE_S = 2_592_000
export const QR_DEFAULT_EXPIRE_S = 60
export const QR_MAX_PERMANENT = 100_000

export interface SimQrCode {
  ticket: string
  url: string
  actionName: QrActionName
  sceneId: number | undefined
  sceneStr: string | undefined
  createdAt: number
  /** undefined for permanent codes. */
  expiresAt: number | undefined
}

export interface QrCodeStore {
  create(body: unknown): SimQrCode | { errcode: number; detail?: string }
  byTicket(ticket: string): SimQrCode | undefined
  /** The newest code carrying this scene (string or id). */
  byScene(scene: string): SimQrCode | undefined
  /** The code a scan targets, refusing unknown and expired ones like the WeChat app does. */
  resolveForScan(target: { ticket?: string; sceneStr?: string; url?: string }): SimQrCode
  list(): SimQrCode[]
  /** What goes after `qrscene_` / in a SCAN EventKey. */
  sceneOf(code: SimQrCode): string
}

const ACTIONS = new Set<string>([
  'QR_SCENE',
  'QR_STR_SCENE',
  'QR_LIMIT_SCENE',
  'QR_LIMIT_STR_SCENE',
])

export function createQrCodeStore(ctx: SimContext): QrCodeStore {
  const byTicket = new Map<string, SimQrCode>()
  const permanentByScene = new Map<string, SimQrCode>()
  const sceneOf = (code: SimQrCode): string => code.sceneStr ?? String(code.sceneId)
  const store: QrCodeStore = {
    create(body) {
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        return { errcode: 47001 }
      const fields = body as Record<string, unknown>
      const action = fields.action_name
      if (typeof action !== 'string' || !ACTIONS.has(action)) {
        return { errcode: 40097, detail: 'invalid action_name' }
      }
      const actionName = action as QrActionName
      const permanent = actionName.startsWith('QR_LIMIT')
      const stringScene = actionName.endsWith('STR_SCENE')
      const info = fields.action_info
      const scene =
        info !== null && typeof info === 'object'
          ? (info as Record<string, unknown>).scene
          : undefined
      if (scene === null || typeof scene !== 'object') return { errcode: 40053 }
      const sceneFields = scene as Record<string, unknown>
      let sceneId: number | undefined
      let sceneStr: string | undefined
      if (stringScene) {
        const value = sceneFields.scene_str
        if (typeof value !== 'string' || value.length < 1 || value.length > 64) {
          return { errcode: 40053, detail: 'scene_str must be 1-64 characters' }
        }
        sceneStr = value
      } else {
        const value = sceneFields.scene_id
        const max = permanent ? QR_MAX_PERMANENT : 0xffff_ffff
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
          return { errcode: 40053, detail: `scene_id must be an integer 1-${max}` }
        }
        sceneId = value
      }
      let expireS: number | undefined
      if (!permanent) {
        const raw = fields.expire_seconds
        if (raw === undefined) expireS = QR_DEFAULT_EXPIRE_S
        else if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1) {
          return { errcode: 40097, detail: 'invalid expire_seconds' }
        }
        // WeChat caps the lifetime at 30 days and reports the capped value.
        else expireS = Math.min(raw, QR_MAX_EXPIRE_S)
      }
      const sceneKey = `${actionName === 'QR_LIMIT_SCENE' ? 'id' : 'str'}:${sceneStr ?? sceneId}`
      if (permanent) {
        const existing = permanentByScene.get(sceneKey)
        if (existing !== undefined) return existing
        if (permanentByScene.size >= QR_MAX_PERMANENT) return { errcode: 45009 }
      }
      const now = ctx.now()
      const code: SimQrCode = {
        ticket: `gQ${ctx.randomToken(72)}`,
        url: `http://weixin.qq.com/q/${ctx.randomToken(16)}`,
        actionName,
        sceneId,
        sceneStr,
        createdAt: now,
        expiresAt: expireS === undefined ? undefined : now + expireS * 1000,
      }
      byTicket.set(code.ticket, code)
      if (permanent) permanentByScene.set(sceneKey, code)
      return code
    },
    byTicket: (ticket) => byTicket.get(ticket),
    byScene(scene) {
      let found: SimQrCode | undefined
      for (const code of byTicket.values()) if (sceneOf(code) === scene) found = code
      return found
    },
    resolveForScan(target) {
      const code =
        target.ticket !== undefined
          ? byTicket.get(target.ticket)
          : target.url !== undefined
            ? [...byTicket.values()].find((candidate) => candidate.url === target.url)
            : target.sceneStr !== undefined
              ? store.byScene(target.sceneStr)
              : undefined
      if (code === undefined) throw new SimulatorError('QR_CODE_NOT_FOUND', 'no such QR code')
      if (code.expiresAt !== undefined && ctx.now() >= code.expiresAt) {
        throw new SimulatorError('QR_CODE_EXPIRED', 'the QR code has expired')
      }
      return code
    },
    list: () => [...byTicket.values()],
    sceneOf,
  }
  return store
}

export function registerQrCodeRoutes(
  app: FastifyInstance,
  deps: ApiRouteDeps & { qrcodes: QrCodeStore },
): void {
  const { ctx, qrcodes } = deps
  registerApiRoute(app, deps, {
    api: '/cgi-bin/qrcode/create',
    method: 'POST',
    token: true,
    handler: ({ body }): Record<string, unknown> | ApiErrorBody => {
      const result = qrcodes.create(body)
      if ('errcode' in result) return apiError(ctx, result.errcode, result.detail)
      const remaining =
        result.expiresAt === undefined
          ? undefined
          : Math.max(0, Math.round((result.expiresAt - ctx.now()) / 1000))
      return {
        ticket: result.ticket,
        ...(remaining === undefined ? {} : { expire_seconds: remaining }),
        url: result.url,
      }
    },
  })

  // No token: anyone holding the ticket may fetch the image. Unknown or expired tickets get no image.
  app.get('/cgi-bin/showqrcode', async (request, reply) => {
    const { ticket } = firstValues(request.query)
    const code = ticket === undefined ? undefined : qrcodes.byTicket(ticket)
    ctx.records.apiCalls.push({
      api: '/cgi-bin/showqrcode',
      method: 'GET',
      query: firstValues(request.query),
      body: undefined,
      at: ctx.now(),
      errcode: code === undefined ? 40097 : 0,
    })
    if (code === undefined || (code.expiresAt !== undefined && ctx.now() >= code.expiresAt)) {
      return reply.code(404).type('text/html').send('')
    }
    const png = await QRCode.toBuffer(code.url, { type: 'png', margin: 2, width: 258 })
    return reply.type('image/png').send(png)
  })
}
