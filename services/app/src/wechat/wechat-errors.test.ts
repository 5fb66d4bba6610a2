import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  WeChatApiError,
  WeChatPayError,
  WeChatProtocolError,
  WeChatTransportError,
} from '@wxgate/wechat'
import { toWeChatHttpError } from './wechat-errors.js'

describe('toWeChatHttpError', () => {
  it('maps WeChat failures to 502/504 app errors and keeps the cause', () => {
    const cases = [
      [new WeChatTransportError('/pay/orderquery', { timedOut: true }), 'WECHAT_TIMEOUT', 504],
      [new WeChatTransportError('/pay/orderquery'), 'WECHAT_UNAVAILABLE', 502],
      [new WeChatApiError('/cgi-bin/qrcode/create', 45009, 'api limit'), 'WECHAT_REJECTED', 502],
      [
        new WeChatPayError({ returnCode: 'SUCCESS', errCode: 'SYSTEMERROR' }),
        'WECHAT_REJECTED',
        502,
      ],
      [new WeChatProtocolError('SIGNATURE_MISMATCH'), 'WECHAT_BAD_ANSWER', 502],
    ] as const
    for (const [cause, code, status] of cases) {
      const mapped = toWeChatHttpError(cause) as {
        code: string
        statusCode: number
        cause: unknown
      }
      assert.equal(mapped.code, code)
      assert.equal(mapped.statusCode, status)
      assert.equal(mapped.cause, cause)
    }
  })

  it('leaves other errors alone', () => {
    const error = new TypeError('bug')
    assert.equal(toWeChatHttpError(error), error)
  })
})
