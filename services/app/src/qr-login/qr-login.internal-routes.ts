// Internal (gateway): POST /binding/create and PUT /binding/update, a QR scan reported by WeChat's push.
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox'
import { INTERNAL_ROUTES, BindingBody, BindingResponse } from '@wxgate/internal-api'
import type { FeatureOptions } from '../app-context.js'
import type { ScanReport } from './qr-login.service.js'
import type { QrcodeBindingRow } from './qr-login.table.js'

export const qrLoginInternalRoutes: FastifyPluginCallbackTypebox<FeatureOptions> = (
  app,
  { ctx },
  done,
) => {
  const { qrLogin } = ctx

  app.post(
    INTERNAL_ROUTES.createBinding.path,
    {
      schema: {
        tags: ['internal'],
        summary: 'Record a scan of any scene (also one app never created, e.g. a channel code)',
        body: BindingBody,
        response: { 200: BindingResponse },
      },
    },
    async (request) => ({
      binding: presentBinding(await qrLogin.recordScan(toScanReport(request.body), 'create')),
    }),
  )

  app.put(
    INTERNAL_ROUTES.updateBinding.path,
    {
      schema: {
        tags: ['internal'],
        summary: 'Record a scan of a known scene: 404 unknown, 410 expired, 409 scanned by another',
        body: BindingBody,
        response: { 200: BindingResponse },
      },
    },
    async (request) => ({
      binding: presentBinding(await qrLogin.recordScan(toScanReport(request.body), 'update')),
    }),
  )
  done()
}

function toScanReport(body: BindingBody): ScanReport {
  return {
    sceneStr: body.scene_str,
    openId: body.openid,
    event: body.event,
    eventTime: body.event_time,
  }
}

/** The internal API's `binding` (a recorded scan always has its openid and event time). */
function presentBinding(row: QrcodeBindingRow) {
  return {
    scene_str: row.scene_str,
    openid: row.openid ?? '',
    status: row.status,
    event_time: row.event_time === null ? 0 : Math.floor(row.event_time / 1000),
  }
}
