// WeChat Pay's H5 cashier (the MWEB mweb_url) as a page: shows the order and pays it when the user confirms.
import type { FastifyInstance } from 'fastify'
import type { SimContext } from '../context.js'
import { SimulatorError } from '../errors.js'
import type { PlatformState } from '../platform/platform.js'
import { firstValues } from '../platform/api-route.js'
import type { SimPhone } from './phone.js'

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

function page(title: string, body: string): string {
  return (
    `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>${escapeHtml(title)}</title><style>body{font-family:sans-serif;max-width:32em;margin:2em auto}</style>` +
    `</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`
  )
}

/**
 * GET shows the order behind `prepay_id`; POST (the "Pay" button) pays it and, like WeChat, sends the
 * browser to the `redirect_url` the merchant appended. An mweb_url lives 5 minutes.
 */
export function registerCashierRoutes(
  app: FastifyInstance,
  deps: { ctx: SimContext; state: PlatformState; phone: SimPhone },
): void {
  const { state, phone } = deps
  const path = '/cgi-bin/mmpayweb-bin/checkmweb'
  app.get(path, (request, reply) => {
    const query = firstValues(request.query)
    const order = state.orders.findByPayLink({ prepayId: query.prepay_id ?? '' })
    if (order === undefined || order.tradeType !== 'MWEB') {
      return reply
        .code(404)
        .type('text/html; charset=utf-8')
        .send(page('WeChat Pay', '<p>订单不存在</p>'))
    }
    const action = `${path}?${new URLSearchParams(query).toString()}`
    const body =
      `<p>${escapeHtml(order.body)}</p><p>¥${(order.totalFee / 100).toFixed(2)} (${order.tradeState})</p>` +
      `<form method="post" action="${escapeHtml(action)}"><button type="submit">Pay 支付</button></form>`
    return reply.type('text/html; charset=utf-8').send(page('WeChat Pay', body))
  })
  app.post(path, async (request, reply) => {
    const query = firstValues(request.query)
    try {
      const order = state.orders.findByPayLink({ prepayId: query.prepay_id ?? '' })
      // Each link lives 5 minutes from when it was given, whatever newer ones were given since.
      const links = order?.mwebLinks
      const pkg = query.package ?? ''
      if (order === undefined || links === undefined || !Object.hasOwn(links, pkg)) {
        throw new SimulatorError('ORDER_NOT_FOUND', 'no order behind this mweb_url')
      }
      if (deps.ctx.now() >= (links[pkg] ?? 0)) {
        throw new SimulatorError('ORDER_NOT_PAYABLE', 'the mweb_url has expired')
      }
      await phone.pay(order.outTradeNo)
    } catch (error) {
      if (!(error instanceof SimulatorError)) throw error
      return reply
        .code(error.statusCode)
        .type('text/html; charset=utf-8')
        .send(page('WeChat Pay', `<p>${escapeHtml(error.message)}</p>`))
    }
    if (query.redirect_url !== undefined && /^https?:\/\//i.test(query.redirect_url)) {
      return reply.redirect(query.redirect_url, 302)
    }
    return reply.type('text/html; charset=utf-8').send(page('WeChat Pay', '<p>支付成功 Paid.</p>'))
  })
}
