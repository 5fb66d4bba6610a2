// The wechat_qrcode_bindings table: a QR scene (login or channel) and who scanned it.
import type { Generated, Selectable } from 'kysely'

export interface WechatQrcodeBindingsTable {
  id: Generated<number>
  scene_str: string
  ticket: string | null
  /** 'login' | 'channel' */
  purpose: string
  /** 'pending' | 'scanned' */
  status: string
  openid: string | null
  event: string | null
  event_time: number | null
  created_at: number
  expires_at: number | null
  scanned_at: number | null
}

export type QrcodeBindingRow = Selectable<WechatQrcodeBindingsTable>
