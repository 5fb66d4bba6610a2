// The app's error registry: stable codes, one message, one HTTP status each (docs/errors.md lists them).
import { defineError } from '@wxgate/service-kit'

export const AppErrors = {
  UNAUTHENTICATED: defineError('UNAUTHENTICATED', 'A valid session token is required', 401),
  INTERNAL_AUTH_FAILED: defineError(
    'INTERNAL_AUTH_FAILED',
    'The internal request is not signed correctly',
    401,
  ),
  INTERNAL_REPLAY_CHECK_UNAVAILABLE: defineError(
    'INTERNAL_REPLAY_CHECK_UNAVAILABLE',
    'The replay check of internal calls is unavailable (Redis); retry later',
    503,
  ),
  INTERNAL_FORBIDDEN: defineError(
    'INTERNAL_FORBIDDEN',
    'The caller is not allowed to use the internal API',
    403,
  ),
  PRODUCT_NOT_FOUND: defineError('PRODUCT_NOT_FOUND', 'No product has this id', 400),
  ORDER_NOT_FOUND: defineError('ORDER_NOT_FOUND', 'No such order', 404),
  ORDER_ALREADY_PAID: defineError('ORDER_ALREADY_PAID', 'The order is already paid', 409),
  ORDER_CLOSED: defineError('ORDER_CLOSED', 'The order is closed and can no longer be paid', 409),
  ORDER_TRADE_TYPE_MISMATCH: defineError(
    'ORDER_TRADE_TYPE_MISMATCH',
    'The order was already prepared for another trade type; create a new order to pay another way',
    409,
  ),
  ORDER_AMOUNT_MISMATCH: defineError(
    'ORDER_AMOUNT_MISMATCH',
    'The paid amount does not match the order',
    409,
  ),
  USER_NOT_FOUND: defineError('USER_NOT_FOUND', 'No user has this openid', 404),
  INSUFFICIENT_CREDITS: defineError(
    'INSUFFICIENT_CREDITS',
    'The user does not have enough credits',
    409,
  ),
  DATABASE_UNAVAILABLE: defineError(
    'DATABASE_UNAVAILABLE',
    'The database is unavailable; retry later',
    503,
  ),
  WECHAT_UNAVAILABLE: defineError('WECHAT_UNAVAILABLE', 'WeChat could not be reached', 502),
  WECHAT_TIMEOUT: defineError('WECHAT_TIMEOUT', 'WeChat did not answer in time', 504),
  WECHAT_REJECTED: defineError('WECHAT_REJECTED', 'WeChat refused the request', 502),
  WECHAT_BAD_ANSWER: defineError(
    'WECHAT_BAD_ANSWER',
    'WeChat answered, but the answer could not be verified or read; nothing was changed',
    502,
  ),
  PAY_NOT_CONFIGURED: defineError(
    'PAY_NOT_CONFIGURED',
    'WeChat Pay is not configured on this server (WECHAT_PAY_* unset)',
    503,
  ),
  // Login (oauth/, qr-login/, menus/)
  REDIRECT_URI_INVALID: defineError(
    'REDIRECT_URI_INVALID',
    'redirect_uri must be an absolute http(s) URL',
    400,
  ),
  OAUTH_STATE_INVALID: defineError(
    'OAUTH_STATE_INVALID',
    'The state is unknown, already used or expired; start the login again',
    400,
  ),
  OAUTH_CODE_INVALID: defineError(
    'OAUTH_CODE_INVALID',
    'WeChat refused the code: it is wrong, expired or already used; start the login again',
    400,
  ),
  OAUTH_SNAPSHOT_USER: defineError(
    'OAUTH_SNAPSHOT_USER',
    'This is a WeChat snapshot-page visitor; open the full page to log in',
    403,
  ),
  QR_SCENE_NOT_FOUND: defineError('QR_SCENE_NOT_FOUND', 'No QR login has this scene', 404),
  QR_SCENE_EXPIRED: defineError('QR_SCENE_EXPIRED', 'The QR code has expired', 410),
  QR_SCENE_ALREADY_SCANNED: defineError(
    'QR_SCENE_ALREADY_SCANNED',
    'The login QR code was already scanned by someone else',
    409,
  ),
  ADMIN_DISABLED: defineError(
    'ADMIN_DISABLED',
    'Admin endpoints are disabled (ADMIN_API_KEY is not set)',
    403,
  ),
  ADMIN_KEY_INVALID: defineError(
    'ADMIN_KEY_INVALID',
    'A valid X-Admin-Key header is required',
    401,
  ),
  MENU_INVALID: defineError('MENU_INVALID', 'The menu breaks WeChat menu rules', 400),
} as const
