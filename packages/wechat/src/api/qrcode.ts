// The image URL of a parametric QR code ticket (no auth needed to fetch it).

export const DEFAULT_MP_BASE_URL = 'https://mp.weixin.qq.com'

/** `<mpBaseUrl>/cgi-bin/showqrcode?ticket=<urlencoded ticket>` (PROTOCOL.md §6). */
export function showQrCodeUrl(mpBaseUrl: string, ticket: string): string {
  return `${mpBaseUrl.replace(/\/+$/, '')}/cgi-bin/showqrcode?ticket=${encodeURIComponent(ticket)}`
}
