// Public surface of api/ (re-exported by ../index.ts).
export { createWeChatDispatcher, DEFAULT_CONNECT_TIMEOUT_MS } from './dispatcher.js'
export type { WeChatDispatcherOptions } from './dispatcher.js'
export { createWeChatTransport, DEFAULT_WECHAT_TIMEOUT_MS } from './transport.js'
export type {
  WeChatQuery,
  WeChatRequest,
  WeChatTransport,
  WeChatTransportOptions,
} from './transport.js'
export { WeChatInvalidRequestError } from './invalid-request-error.js'
export type { WeChatRequestProblem } from './invalid-request-error.js'
export {
  createAccessTokenProvider,
  DEFAULT_REFRESH_AHEAD_MS,
  STABLE_TOKEN_API,
} from './access-token.js'
export type { AccessTokenProvider, AccessTokenProviderOptions } from './access-token.js'
export {
  createWeChatApiClient,
  DEFAULT_BUSY_BACKOFF_MS,
  DEFAULT_BUSY_RETRIES,
  DEFAULT_QR_EXPIRE_SECONDS,
  MAX_QR_EXPIRE_SECONDS,
} from './api-client.js'
export type {
  CreateQrCodeInput,
  OAuthToken,
  OAuthUserInfo,
  QrActionName,
  QrCode,
  WeChatApiClient,
  WeChatApiClientOptions,
  WeChatCallOptions,
  WeChatUserInfo,
} from './api-client.js'
export { buildAuthorizeUrl, DEFAULT_OPEN_BASE_URL } from './oauth.js'
export type { AuthorizeUrlInput, OAuthScope } from './oauth.js'
export { showQrCodeUrl, DEFAULT_MP_BASE_URL } from './qrcode.js'
export { normalizeMenu, validateMenu } from './menu.js'
export type {
  Menu,
  MenuButton,
  MenuButtonType,
  MenuLeafButton,
  MenuParentButton,
  MenuProblem,
} from './menu.js'
