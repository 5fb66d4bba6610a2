// The control API under /_sim/ (JSON): drives the phone and the platform for the demo page and e2e suites.
import type { FastifyError, FastifyInstance } from 'fastify'
import type { SimContext } from '../context.js'
import { SimulatorError } from '../errors.js'
import type { SimPhone } from '../phone/phone.js'
import type { PushResult } from '../phone/push.js'
import type { SimPlatform, PlatformState } from '../platform/platform.js'

export interface ControlDeps {
  ctx: SimContext
  state: PlatformState
  platform: SimPlatform
  phone: SimPhone
}

type Body = Record<string, unknown>

function asBody(raw: unknown): Body {
  if (raw === undefined || raw === null) return {}
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SimulatorError('INVALID_REQUEST', 'the body must be a JSON object')
  }
  return raw as Body
}

function text(body: Body, name: string): string {
  const value = body[name]
  if (typeof value !== 'string' || value === '') {
    throw new SimulatorError('INVALID_REQUEST', `${name} is required (a string)`)
  }
  return value
}

function optionalText(body: Body, name: string): string | undefined {
  const value = body[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string')
    throw new SimulatorError('INVALID_REQUEST', `${name} must be a string`)
  return value
}

function optionalInt(body: Body, name: string): number | undefined {
  const value = body[name]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new SimulatorError('INVALID_REQUEST', `${name} must be an integer`)
  }
  return value
}

/** A push result without its record (which repeats the attempts). */
function pushJson(result: PushResult): Omit<PushResult, 'record'> {
  const { record: _record, ...rest } = result
  return rest
}

export function registerControlRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const { ctx, state, platform, phone } = deps

  app.setErrorHandler((error: FastifyError | SimulatorError | Error, _request, reply) => {
    if (error instanceof SimulatorError) {
      return reply.code(error.statusCode).send({ code: error.code, message: error.message })
    }
    if (error instanceof TypeError) {
      return reply.code(400).send({ code: 'INVALID_REQUEST', message: error.message })
    }
    const status =
      'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500
    return reply
      .code(status)
      .send({ code: status >= 500 ? 'INTERNAL_ERROR' : 'INVALID_REQUEST', message: error.message })
  })

  app.get('/state', () => ({
    baseUrl: ctx.baseUrl(),
    settings: {
      appId: ctx.settings.appId,
      mchId: ctx.settings.mchId,
      pushUrl: ctx.settings.pushUrl ?? null,
      pushMode: ctx.settings.pushMode,
      originalId: ctx.settings.originalId,
      timeScale: ctx.settings.timeScale,
    },
    now: ctx.now(),
    users: platform.users(),
    orders: platform.orders(),
    qrCodes: platform.qrCodes(),
    menu: platform.menu() ?? null,
  }))

  app.put('/settings', (request) => {
    const body = asBody(request.body)
    const pushUrl = optionalText(body, 'pushUrl')
    const pushMode = optionalText(body, 'pushMode')
    const originalId = optionalText(body, 'originalId')
    if (pushMode !== undefined && !['plaintext', 'compatible', 'safe'].includes(pushMode)) {
      throw new SimulatorError('INVALID_REQUEST', 'pushMode must be plaintext, compatible or safe')
    }
    if (
      pushMode !== undefined &&
      pushMode !== 'plaintext' &&
      ctx.settings.encodingAesKey === undefined
    ) {
      throw new SimulatorError(
        'ENCODING_AES_KEY_MISSING',
        'compatible and safe modes need encodingAesKey',
      )
    }
    if (pushUrl !== undefined) ctx.settings.pushUrl = pushUrl === '' ? undefined : pushUrl
    if (pushMode !== undefined) ctx.settings.pushMode = pushMode as typeof ctx.settings.pushMode
    if (originalId !== undefined) ctx.settings.originalId = originalId
    return {
      pushUrl: ctx.settings.pushUrl ?? null,
      pushMode: ctx.settings.pushMode,
      originalId: ctx.settings.originalId,
    }
  })

  app.post('/clock/advance', (request) => {
    const seconds = optionalInt(asBody(request.body), 'seconds')
    if (seconds === undefined || seconds < 0) {
      throw new SimulatorError('INVALID_REQUEST', 'seconds is required (a non-negative integer)')
    }
    ctx.advanceClock(seconds * 1000)
    return { now: ctx.now() }
  })

  // Platform: state and faults.
  app.post('/platform/access-tokens/invalidate', () => {
    platform.invalidateAccessTokens()
    return { ok: true }
  })
  app.post('/platform/access-tokens/expire', () => {
    platform.expireAccessTokens()
    return { ok: true }
  })
  app.post('/platform/faults', (request) => {
    const body = asBody(request.body)
    const errcode = body.errcode
    if (typeof errcode !== 'number' && typeof errcode !== 'string') {
      throw new SimulatorError(
        'INVALID_REQUEST',
        'errcode is required (a number or a pay err_code)',
      )
    }
    platform.failNext(text(body, 'api'), errcode, optionalInt(body, 'times') ?? 1)
    return { ok: true }
  })
  app.post('/platform/busy', (request) => {
    const body = asBody(request.body)
    platform.setBusy(text(body, 'api'), optionalInt(body, 'times') ?? 1)
    return { ok: true }
  })
  app.get('/platform/users', () => ({ users: platform.users() }))
  app.post('/platform/users', async (request, reply) => {
    const body = asBody(request.body)
    const sex = optionalInt(body, 'sex')
    if (sex !== undefined && sex !== 0 && sex !== 1 && sex !== 2) {
      throw new SimulatorError('INVALID_REQUEST', 'sex must be 0, 1 or 2')
    }
    const subscribed = body.subscribed
    if (subscribed !== undefined && typeof subscribed !== 'boolean') {
      throw new SimulatorError('INVALID_REQUEST', 'subscribed must be a boolean')
    }
    const user = platform.addUser({
      openId: optionalText(body, 'openId'),
      unionId: optionalText(body, 'unionId'),
      nickname: optionalText(body, 'nickname'),
      headImgUrl: optionalText(body, 'headImgUrl'),
      sex,
      subscribed,
      snapshotUser: body.snapshotUser === true,
    })
    return reply.code(201).send(user)
  })
  app.get<{ Params: { openId: string } }>('/platform/users/:openId', (request) =>
    state.users.require(request.params.openId),
  )
  app.get('/platform/orders', () => ({ orders: platform.orders() }))
  app.get<{ Params: { outTradeNo: string } }>('/platform/orders/:outTradeNo', (request) => {
    const order = platform.order(request.params.outTradeNo)
    if (order === undefined) throw new SimulatorError('ORDER_NOT_FOUND', 'no such order')
    return order
  })
  app.get('/platform/menu', () => ({ menu: platform.menu() ?? null }))
  app.get('/platform/qrcodes', () => ({ qrCodes: platform.qrCodes() }))
  app.get<{ Params: { ticketOrScene: string } }>('/platform/qrcodes/:ticketOrScene', (request) => {
    const code = platform.qrCode(request.params.ticketOrScene)
    if (code === undefined) throw new SimulatorError('QR_CODE_NOT_FOUND', 'no such QR code')
    return code
  })

  // Phone: what a WeChat user does.
  app.post('/phone/scan', async (request) => {
    const body = asBody(request.body)
    const input: { openId: string; ticket?: string; url?: string; sceneStr?: string } = {
      openId: text(body, 'openId'),
    }
    const ticket = optionalText(body, 'ticket')
    const sceneStr = optionalText(body, 'sceneStr')
    const url = optionalText(body, 'url')
    if (url !== undefined) input.url = url
    if (ticket !== undefined) input.ticket = ticket
    if (sceneStr !== undefined) input.sceneStr = sceneStr
    return pushJson(await phone.scan(input))
  })
  app.post('/phone/follow', async (request) =>
    pushJson(await phone.follow(text(asBody(request.body), 'openId'))),
  )
  app.post('/phone/unfollow', async (request) =>
    pushJson(await phone.unfollow(text(asBody(request.body), 'openId'))),
  )
  app.post('/phone/text', async (request) => {
    const body = asBody(request.body)
    const msgId = optionalText(body, 'msgId')
    return pushJson(
      await phone.sendText(
        text(body, 'openId'),
        text(body, 'text'),
        msgId === undefined ? {} : { msgId },
      ),
    )
  })
  app.post('/phone/click', async (request) => {
    const body = asBody(request.body)
    return pushJson(await phone.clickMenu(text(body, 'openId'), text(body, 'key')))
  })
  app.post('/phone/view', async (request) => {
    const body = asBody(request.body)
    return pushJson(await phone.viewMenu(text(body, 'openId'), text(body, 'url')))
  })
  app.post('/phone/redeliver', async (request) => {
    const index = optionalInt(asBody(request.body), 'index')
    const record = index === undefined ? ctx.records.pushes.at(-1) : ctx.records.pushes[index]
    if (record === undefined) throw new SimulatorError('INVALID_REQUEST', 'no such push')
    return pushJson(await phone.redeliver(record))
  })
  app.post('/phone/authorize', (request) => {
    const body = asBody(request.body)
    const openId = text(body, 'openId')
    const url = optionalText(body, 'url')
    if (url !== undefined) return { url: phone.authorizeUrl(url, openId) }
    const scope = text(body, 'scope')
    if (scope !== 'snsapi_base' && scope !== 'snsapi_userinfo') {
      throw new SimulatorError('INVALID_REQUEST', 'scope must be snsapi_base or snsapi_userinfo')
    }
    const state = optionalText(body, 'state')
    return {
      url: phone.authorize({
        openId,
        redirectUri: text(body, 'redirectUri'),
        scope,
        ...(state === undefined ? {} : { state }),
      }),
    }
  })
  app.post('/phone/pay', (request) => {
    const body = asBody(request.body)
    const deliver = body.deliver
    if (deliver !== undefined && typeof deliver !== 'boolean') {
      throw new SimulatorError('INVALID_REQUEST', 'deliver must be a boolean')
    }
    const openId = optionalText(body, 'openId')
    const options = {
      ...(openId === undefined ? {} : { openId }),
      ...(deliver === undefined ? {} : { deliver }),
    }
    // The order by its out_trade_no, or as the user meets it: a NATIVE code_url or a prepay_id.
    const codeUrl = optionalText(body, 'codeUrl')
    const prepayId = optionalText(body, 'prepayId')
    if (codeUrl !== undefined) return phone.payByLink({ codeUrl }, options)
    if (prepayId !== undefined) return phone.payByLink({ prepayId }, options)
    return phone.pay(text(body, 'outTradeNo'), options)
  })

  // Records: what the system sent WeChat.
  app.get('/records', () => ({
    apiCalls: ctx.records.apiCalls,
    tokenRequests: ctx.records.tokenRequests,
    pushes: ctx.records.pushes,
    notifications: ctx.records.notifications,
  }))
  app.delete('/records', () => {
    ctx.records.clear()
    return { ok: true }
  })
}
