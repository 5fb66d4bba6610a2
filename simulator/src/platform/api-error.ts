// WeChat's JSON error answers (HTTP 200, `{errcode, errmsg}` with a trailing ` rid: …`), spelled as WeChat spells them.
import type { SimContext } from '../context.js'

const ERRMSG: Record<number, string> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40007: 'invalid media_id',
  40013: 'invalid appid',
  40014: 'invalid access_token',
  40016: 'invalid button size',
  40017: 'invalid button type',
  40018: 'invalid button name size',
  40019: 'invalid button key size',
  40020: 'invalid button url size',
  40023: 'invalid sub button size',
  40024: 'invalid sub button type',
  40025: 'invalid sub button name size',
  40026: 'invalid sub button key size',
  40027: 'invalid sub button url size',
  40029: 'invalid code',
  40030: 'invalid refresh_token',
  40053: 'invalid action info',
  40054: 'invalid sub button url domain',
  40055: 'invalid button url domain',
  40097: 'invalid args',
  40125: 'invalid appsecret',
  40163: 'code been used',
  41001: 'access_token missing',
  41002: 'appid missing',
  41004: 'appsecret missing',
  41008: 'missing code',
  41009: 'missing openid',
  42001: 'access_token expired',
  42002: 'refresh_token expired',
  43001: 'require GET method',
  43002: 'require POST method',
  44002: 'empty post data',
  45009: 'reach max api daily quota limit',
  45011: 'api minute-quota reach limit  mustslower  retry next minute',
  46003: 'menu no exist',
  47001: 'data format error',
  48001: 'api unauthorized',
}

export interface ApiErrorBody {
  errcode: number
  errmsg: string
}

export function apiError(ctx: SimContext, errcode: number, detail?: string): ApiErrorBody {
  const text = ERRMSG[errcode] ?? 'error'
  const rid = `${ctx.randomHex(4)}-${ctx.randomHex(4)}-${ctx.randomHex(4)}`
  return { errcode, errmsg: `${text}${detail === undefined ? '' : ` ${detail}`} rid: ${rid}` }
}

export function apiOk(): ApiErrorBody {
  return { errcode: 0, errmsg: 'ok' }
}
