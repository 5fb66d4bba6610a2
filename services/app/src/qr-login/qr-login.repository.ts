// Queries on wechat_qrcode_bindings: login scenes we created and channel scenes first seen in a scan.
import type { Kysely } from 'kysely'
import { affectedRows } from '../db/create-db.js'
import type { Database } from '../db/database.js'
import type { QrcodeBindingRow } from './qr-login.table.js'

export interface ScanFields {
  openid: string
  event: string
  /** Unix ms of the WeChat event. */
  eventTime: number
  /** Unix ms when app recorded it. */
  scannedAt: number
}

export function createQrLoginRepository(db: Kysely<Database>) {
  return {
    findByScene(sceneStr: string): Promise<QrcodeBindingRow | undefined> {
      return db
        .selectFrom('wechat_qrcode_bindings')
        .selectAll()
        .where('scene_str', '=', sceneStr)
        .executeTakeFirst()
    },

    /** Drops login scenes that expired before `before`, scanned or not. */
    async deleteLoginScenesExpiredBefore(before: number): Promise<number> {
      const result = await db
        .deleteFrom('wechat_qrcode_bindings')
        .where('purpose', '=', 'login')
        .where('expires_at', '<', before)
        .executeTakeFirst()
      return affectedRows(result)
    },

    async insertLoginScene(fields: {
      sceneStr: string
      ticket: string
      createdAt: number
      expiresAt: number
    }): Promise<void> {
      await db
        .insertInto('wechat_qrcode_bindings')
        .values({
          scene_str: fields.sceneStr,
          ticket: fields.ticket,
          purpose: 'login',
          status: 'pending',
          openid: null,
          event: null,
          event_time: null,
          created_at: fields.createdAt,
          expires_at: fields.expiresAt,
          scanned_at: null,
        })
        .execute()
    },

    /** Records a scan of a scene we did not create; throws the driver's unique violation if it exists. */
    async insertChannelScan(sceneStr: string, scan: ScanFields): Promise<void> {
      await db
        .insertInto('wechat_qrcode_bindings')
        .values({
          scene_str: sceneStr,
          ticket: null,
          purpose: 'channel',
          status: 'scanned',
          openid: scan.openid,
          event: scan.event,
          event_time: scan.eventTime,
          created_at: scan.scannedAt,
          expires_at: null,
          scanned_at: scan.scannedAt,
        })
        .execute()
    },

    /** pending → scanned, once: false when another scan (or nothing, for an unknown id) got there first. */
    async markLoginScanned(id: number, scan: ScanFields): Promise<boolean> {
      const result = await db
        .updateTable('wechat_qrcode_bindings')
        .set({
          status: 'scanned',
          openid: scan.openid,
          event: scan.event,
          event_time: scan.eventTime,
          scanned_at: scan.scannedAt,
        })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst()
      return affectedRows(result) === 1
    },

    /** Moves a channel scene to its latest scan; an older event never overwrites a newer one. */
    async applyChannelScan(id: number, scan: ScanFields): Promise<boolean> {
      const result = await db
        .updateTable('wechat_qrcode_bindings')
        .set({
          openid: scan.openid,
          event: scan.event,
          event_time: scan.eventTime,
          scanned_at: scan.scannedAt,
        })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('event_time', 'is', null), eb('event_time', '<', scan.eventTime)]))
        .executeTakeFirst()
      return affectedRows(result) === 1
    },
  }
}

export type QrLoginRepository = ReturnType<typeof createQrLoginRepository>
