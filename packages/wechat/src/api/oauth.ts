// Web-page OAuth (网页授权) step 1: the authorize URL the user's WeChat browser is sent to.

export const DEFAULT_OPEN_BASE_URL = 'https://open.weixin.qq.com'

export type OAuthScope = 'snsapi_base' | 'snsapi_userinfo'

export interface AuthorizeUrlInput {
  appId: string
  redirectUri: string
  scope: OAuthScope
  state: string
  openBaseUrl?: string
}

/**
 * https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
 * Parameters in the documented order, redirect_uri percent-encoded, `#wechat_redirect` last: WeChat
 * refuses the page otherwise.
 */
export function buildAuthorizeUrl(input: AuthorizeUrlInput): string {
  const base = (input.openBaseUrl ?? DEFAULT_OPEN_BASE_URL).replace(/\/+$/, '')
  return (
    `${base}/connect/oauth2/authorize` +
    `?appid=${encodeURIComponent(input.appId)}` +
    `&redirect_uri=${encodeURIComponent(input.redirectUri)}` +
    `&response_type=code` +
    `&scope=${encodeURIComponent(input.scope)}` +
    `&state=${encodeURIComponent(input.state)}` +
    `#wechat_redirect`
  )
}
