// Tests of the v2 pay client against a local node:http server that plays WeChat Pay.
import { after, before, beforeEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer as createTcpServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { Agent } from 'undici'
import type { Dispatcher } from 'undici'
import { WeChatPayError, WeChatProtocolError, WeChatTransportError } from '../errors.js'
import type { WeChatProtocolErrorCode } from '../errors.js'
import { loadVectors } from '../test-vectors.js'
import { createPayClient } from './pay-client.js'
import type { PayClientOptions } from './pay-client.js'
import { isPaySignType, signPayParams, verifyPayParams } from './pay-sign.js'
import type { PaySignType } from './pay-sign.js'
import { dateToBeijingTime } from './pay-time.js'
import { parsePayXml } from './pay-xml.js'
import type { PayFields } from './pay-xml.js'

const API_KEY = '192006250b4c09247ec02edce69f6a2d'
const APP_ID = 'wxd930ea5d5a258f4f'
const MCH_ID = '10000100'
const TRANSACTION_ID = '4200002024010299999999999999'

interface SeenRequest {
  method: string
  path: string
  contentType: string | undefined
  body: string
  fields: PayFields
  signValid: boolean
}

interface Answer {
  status?: number
  body: string
  contentType?: string
  delayMs?: number
}

type Answerer = (request: SeenRequest) => Answer

/** Writes XML the way WeChat does: CDATA for most values, bare text for the named numeric ones. */
function wechatXml(fields: Record<string, string>, bare: readonly string[] = []): string {
  const parts = Object.entries(fields).map(([name, value]) =>
    bare.includes(name) ? `<${name}>${value}</${name}>` : `<${name}><![CDATA[${value}]]></${name}>`,
  )
  return `<xml>\n${parts.join('\n')}\n</xml>`
}

function signedAnswer(
  fields: Record<string, string>,
  signType: PaySignType,
  options: { apiKey?: string; bare?: readonly string[] } = {},
): Answer {
  const sign = signPayParams(fields, options.apiKey ?? API_KEY, signType)
  return { body: wechatXml({ ...fields, sign }, options.bare) }
}

function requestSignType(request: SeenRequest): PaySignType {
  const declared = request.fields.sign_type
  return isPaySignType(declared) ? declared : 'MD5'
}

function successBase(request: SeenRequest): Record<string, string> {
  return {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: APP_ID,
    mch_id: MCH_ID,
    nonce_str: 'srvNonce0123456789',
    result_code: 'SUCCESS',
    ...(request.fields.sign_type === undefined ? {} : { sign_type: request.fields.sign_type }),
  }
}

/** WeChat Pay as the merchant sees it: checks the request sign, answers signed XML. */
const playWeChatPay: Answerer = (request) => {
  if (!request.signValid) {
    return { body: wechatXml({ return_code: 'FAIL', return_msg: '签名错误' }) }
  }
  const signType = requestSignType(request)
  const base = successBase(request)
  switch (request.path) {
    case '/pay/unifiedorder': {
      const tradeType = request.fields.trade_type ?? ''
      const extra: Record<string, string> =
        tradeType === 'NATIVE'
          ? { code_url: 'weixin://wxpay/bizpayurl?pr=abc123' }
          : tradeType === 'MWEB'
            ? { mweb_url: 'https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1' }
            : {}
      return signedAnswer(
        {
          ...base,
          trade_type: tradeType,
          prepay_id: 'wx201410272009395522657a690389285100',
          ...extra,
        },
        signType,
      )
    }
    case '/pay/orderquery':
      return signedAnswer(
        {
          ...base,
          openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
          trade_type: 'JSAPI',
          trade_state: 'SUCCESS',
          trade_state_desc: '支付成功',
          bank_type: 'OTHERS',
          total_fee: '990',
          cash_fee: '990',
          transaction_id: TRANSACTION_ID,
          out_trade_no: request.fields.out_trade_no ?? '',
          attach: '',
          time_end: '20240102150733',
        },
        signType,
        { bare: ['total_fee', 'cash_fee', 'transaction_id'] },
      )
    case '/pay/closeorder':
      return signedAnswer(base, signType)
    default:
      return { status: 404, body: 'not found' }
  }
}

class FakeWeChatPay {
  readonly requests: SeenRequest[] = []
  answer: Answerer = playWeChatPay
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly server: Server

  constructor() {
    this.server = createServer((req, res) => {
      this.handle(req, res)
    })
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
  }

  get baseUrl(): string {
    const { port } = this.server.address() as AddressInfo
    return `http://127.0.0.1:${port}`
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer)
    this.server.closeAllConnections()
    await new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    )
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const fields = parseOrEmpty(body)
      const seen: SeenRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        body,
        fields,
        signValid: verifyPayParams(fields, API_KEY),
      }
      this.requests.push(seen)
      const answer = this.answer(seen)
      const send = (): void => {
        this.timers.delete(timer)
        if (res.destroyed) return
        res.writeHead(answer.status ?? 200, {
          'content-type': answer.contentType ?? 'text/xml; charset=utf-8',
        })
        res.end(answer.body)
      }
      const timer = setTimeout(send, answer.delayMs ?? 0)
      this.timers.add(timer)
    })
  }
}

/** What the fake sees of a body it cannot parse: no fields, so the sign check fails as WeChat's would. */
function parseOrEmpty(body: string): PayFields {
  try {
    return parsePayXml(body)
  } catch (error) {
    if (error instanceof WeChatProtocolError) return {}
    throw error
  }
}

function protocolCode(expected: WeChatProtocolErrorCode): (error: unknown) => boolean {
  return (error) => {
    assert.ok(
      error instanceof WeChatProtocolError,
      `expected WeChatProtocolError, got ${String(error)}`,
    )
    assert.equal(error.code, expected)
    return true
  }
}

describe('createPayClient', () => {
  const fake = new FakeWeChatPay()
  let nonces = 0
  const fixedNow = Date.parse('2024-01-02T07:04:05.678Z')

  function client(overrides: Partial<PayClientOptions> = {}): ReturnType<typeof createPayClient> {
    return createPayClient({
      appId: APP_ID,
      mchId: MCH_ID,
      apiKey: API_KEY,
      baseUrl: fake.baseUrl,
      nonce: () => `nonce${String((nonces += 1)).padStart(4, '0')}`,
      now: () => fixedNow,
      timeoutMs: 2000,
      ...overrides,
    })
  }

  function lastRequest(): SeenRequest {
    const last = fake.requests.at(-1)
    assert.ok(last !== undefined, 'no request reached the fake WeChat Pay')
    return last
  }

  const jsapiOrder = {
    outTradeNo: 'ORDER_0001',
    body: '腾讯充值中心-QQ会员充值',
    totalFee: 990,
    spbillCreateIp: '123.12.12.123',
    notifyUrl: 'https://example.com/api/v1/payment/notify',
    tradeType: 'JSAPI' as const,
    openId: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  }

  before(async () => {
    await fake.start()
  })
  after(async () => {
    await fake.close()
  })
  beforeEach(() => {
    fake.answer = playWeChatPay
    fake.requests.length = 0
  })

  describe('unifiedOrder', () => {
    it('posts a signed JSAPI order and returns the prepay id', async () => {
      const timeExpire = new Date(fixedNow + 30 * 60 * 1000)
      const result = await client().unifiedOrder({ ...jsapiOrder, timeExpire, attach: 'a&b=c' })
      assert.deepEqual(result, {
        tradeType: 'JSAPI',
        prepayId: 'wx201410272009395522657a690389285100',
      })
      const request = lastRequest()
      assert.equal(request.method, 'POST')
      assert.equal(request.path, '/pay/unifiedorder')
      assert.match(request.contentType ?? '', /^text\/xml/)
      assert.equal(request.signValid, true)
      assert.deepEqual(request.fields, {
        appid: APP_ID,
        mch_id: MCH_ID,
        nonce_str: request.fields.nonce_str,
        sign_type: 'MD5',
        body: '腾讯充值中心-QQ会员充值',
        attach: 'a&b=c',
        out_trade_no: 'ORDER_0001',
        total_fee: '990',
        spbill_create_ip: '123.12.12.123',
        time_expire: '20240102153405',
        notify_url: 'https://example.com/api/v1/payment/notify',
        trade_type: 'JSAPI',
        openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
        sign: request.fields.sign,
      })
      assert.match(request.fields.nonce_str ?? '', /^nonce\d{4}$/)
      assert.match(request.fields.sign ?? '', /^[0-9A-F]{32}$/)
      assert.equal(dateToBeijingTime(timeExpire), '20240102153405')
    })

    it('signs with HMAC-SHA256 and names it in sign_type when asked', async () => {
      const result = await client({ signType: 'HMAC-SHA256' }).unifiedOrder(jsapiOrder)
      assert.equal(result.prepayId, 'wx201410272009395522657a690389285100')
      const request = lastRequest()
      assert.equal(request.fields.sign_type, 'HMAC-SHA256')
      assert.match(request.fields.sign ?? '', /^[0-9A-F]{64}$/)
      assert.equal(request.signValid, true)
    })

    it('returns the code_url of a NATIVE order', async () => {
      const { openId: _unused, ...rest } = jsapiOrder
      const result = await client().unifiedOrder({ ...rest, tradeType: 'NATIVE', productId: 'P1' })
      assert.equal(result.codeUrl, 'weixin://wxpay/bizpayurl?pr=abc123')
      assert.equal(lastRequest().fields.product_id, 'P1')
      assert.equal(lastRequest().fields.openid, undefined)
    })

    it('returns the mweb_url of an MWEB order and sends scene_info as JSON', async () => {
      const { openId: _unused, ...rest } = jsapiOrder
      const sceneInfo = {
        h5_info: { type: 'Wap', wap_url: 'https://example.com', wap_name: '充值' },
      }
      const result = await client().unifiedOrder({ ...rest, tradeType: 'MWEB', sceneInfo })
      assert.equal(
        result.mwebUrl,
        'https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1',
      )
      assert.deepEqual(JSON.parse(lastRequest().fields.scene_info ?? ''), sceneInfo)
    })

    it('refuses an order WeChat would reject before sending anything', async () => {
      const pay = client()
      await assert.rejects(pay.unifiedOrder({ ...jsapiOrder, openId: undefined }), TypeError)
      await assert.rejects(pay.unifiedOrder({ ...jsapiOrder, tradeType: 'NATIVE' }), TypeError)
      await assert.rejects(pay.unifiedOrder({ ...jsapiOrder, tradeType: 'MWEB' }), TypeError)
      for (const totalFee of [0, -1, 1.5, Number.NaN]) {
        await assert.rejects(pay.unifiedOrder({ ...jsapiOrder, totalFee }), RangeError)
      }
      assert.equal(fake.requests.length, 0)
    })

    it('maps a business failure such as ORDERPAID to WeChatPayError with its err_code', async () => {
      fake.answer = (request) =>
        signedAnswer(
          {
            ...successBase(request),
            result_code: 'FAIL',
            err_code: 'ORDERPAID',
            err_code_des: '该订单已支付',
          },
          requestSignType(request),
        )
      await assert.rejects(client().unifiedOrder(jsapiOrder), (error: unknown) => {
        assert.ok(error instanceof WeChatPayError)
        assert.equal(error.returnCode, 'SUCCESS')
        assert.equal(error.errCode, 'ORDERPAID')
        assert.equal(error.errCodeDes, '该订单已支付')
        return true
      })
    })

    it('maps return_code FAIL to WeChatPayError with its message', async () => {
      fake.answer = () => ({
        body: wechatXml({ return_code: 'FAIL', return_msg: '参数格式校验错误' }),
      })
      await assert.rejects(client().unifiedOrder(jsapiOrder), (error: unknown) => {
        assert.ok(error instanceof WeChatPayError)
        assert.equal(error.returnCode, 'FAIL')
        assert.equal(error.returnMsg, '参数格式校验错误')
        assert.equal(error.errCode, undefined)
        return true
      })
    })

    it('is refused by WeChat Pay when signed with another key', async () => {
      await assert.rejects(
        client({ apiKey: 'f'.repeat(32) }).unifiedOrder(jsapiOrder),
        (error: unknown) => {
          assert.ok(error instanceof WeChatPayError)
          assert.equal(error.returnMsg, '签名错误')
          return true
        },
      )
      assert.equal(lastRequest().signValid, false)
    })

    it('rejects an answer signed with another key as SIGNATURE_MISMATCH', async () => {
      fake.answer = (request) =>
        signedAnswer(
          { ...successBase(request), trade_type: 'JSAPI', prepay_id: 'wx_forged' },
          'MD5',
          { apiKey: 'e'.repeat(32) },
        )
      await assert.rejects(client().unifiedOrder(jsapiOrder), protocolCode('SIGNATURE_MISMATCH'))
    })

    it('rejects an answer whose prepay_id was changed after signing', async () => {
      fake.answer = (request) => {
        const answer = playWeChatPay(request)
        return { ...answer, body: answer.body.replace('wx2014', 'wx2015') }
      }
      await assert.rejects(client().unifiedOrder(jsapiOrder), protocolCode('SIGNATURE_MISMATCH'))
    })

    it('rejects an unsigned success answer as SIGNATURE_MISMATCH', async () => {
      fake.answer = (request) => ({
        body: wechatXml({ ...successBase(request), trade_type: 'JSAPI', prepay_id: 'wx_x' }),
      })
      await assert.rejects(client().unifiedOrder(jsapiOrder), protocolCode('SIGNATURE_MISMATCH'))
    })

    it('rejects a signed answer for another appid or mch_id', async () => {
      fake.answer = (request) =>
        signedAnswer(
          { ...successBase(request), appid: 'wxother', trade_type: 'JSAPI', prepay_id: 'wx_x' },
          'MD5',
        )
      await assert.rejects(client().unifiedOrder(jsapiOrder), protocolCode('APPID_MISMATCH'))
      fake.answer = (request) =>
        signedAnswer(
          { ...successBase(request), mch_id: '1999', trade_type: 'JSAPI', prepay_id: 'wx_x' },
          'MD5',
        )
      await assert.rejects(client().unifiedOrder(jsapiOrder), protocolCode('MCHID_MISMATCH'))
    })

    it('rejects a signed success answer without prepay_id as MESSAGE_INVALID', async () => {
      fake.answer = (request) =>
        signedAnswer({ ...successBase(request), trade_type: 'JSAPI' }, 'MD5')
      await assert.rejects(client().unifiedOrder(jsapiOrder), protocolCode('MESSAGE_INVALID'))
    })

    it('gives up on a slow WeChat Pay with a timed-out WeChatTransportError', async () => {
      fake.answer = (request) => ({ ...playWeChatPay(request), delayMs: 3000 })
      const started = Date.now()
      await assert.rejects(
        client({ timeoutMs: 150 }).unifiedOrder(jsapiOrder),
        (error: unknown) => {
          assert.ok(error instanceof WeChatTransportError)
          assert.equal(error.timedOut, true)
          assert.equal(error.api, '/pay/unifiedorder')
          return true
        },
      )
      assert.ok(Date.now() - started < 2000, 'the timeout did not cut the call short')
    })

    it('lets one call shorten the client timeout', async () => {
      fake.answer = (request) => ({ ...playWeChatPay(request), delayMs: 3000 })
      await assert.rejects(
        client({ timeoutMs: 5000 }).unifiedOrder(jsapiOrder, { timeoutMs: 100 }),
        (error: unknown) => error instanceof WeChatTransportError && error.timedOut,
      )
    })

    it('maps a non-200 answer to WeChatTransportError with the status', async () => {
      fake.answer = () => ({
        status: 502,
        body: '<html>Bad Gateway</html>',
        contentType: 'text/html',
      })
      await assert.rejects(client().unifiedOrder(jsapiOrder), (error: unknown) => {
        assert.ok(error instanceof WeChatTransportError)
        assert.equal(error.status, 502)
        assert.equal(error.timedOut, false)
        return true
      })
    })

    it('maps a 200 answer that is not XML to WeChatTransportError keeping the cause', async () => {
      fake.answer = () => ({ body: '{"ok":true}', contentType: 'application/json' })
      await assert.rejects(client().unifiedOrder(jsapiOrder), (error: unknown) => {
        assert.ok(error instanceof WeChatTransportError)
        assert.ok(error.cause instanceof WeChatProtocolError)
        assert.equal(error.cause.code, 'XML_INVALID')
        return true
      })
    })

    it('maps XML without return_code to WeChatTransportError', async () => {
      fake.answer = () => ({ body: '<xml><hello>world</hello></xml>' })
      await assert.rejects(client().unifiedOrder(jsapiOrder), WeChatTransportError)
    })

    it('maps an oversized answer to WeChatTransportError', async () => {
      fake.answer = () => ({ body: `<xml><pad>${'x'.repeat(70_000)}</pad></xml>` })
      await assert.rejects(client().unifiedOrder(jsapiOrder), WeChatTransportError)
    })

    it('maps a refused connection to WeChatTransportError that did not time out', async () => {
      const closed = new FakeWeChatPay()
      await closed.start()
      const baseUrl = closed.baseUrl
      await closed.close()
      await assert.rejects(client({ baseUrl }).unifiedOrder(jsapiOrder), (error: unknown) => {
        assert.ok(error instanceof WeChatTransportError)
        assert.equal(error.timedOut, false)
        assert.equal(error.status, undefined)
        assert.ok(error.cause !== undefined)
        return true
      })
    })

    it('counts a connect timeout as a timeout, as the Official Account client does', async () => {
      // Accepts and never speaks: the TLS handshake never completes.
      const sockets: Socket[] = []
      const silent = createTcpServer((socket) => sockets.push(socket))
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
      const dispatcher = new Agent({ connect: { timeout: 100 } })
      try {
        const { port } = silent.address() as AddressInfo
        const https = client({ baseUrl: `https://127.0.0.1:${port}`, dispatcher })
        await assert.rejects(https.orderQuery({ outTradeNo: 'T1' }), (error: unknown) => {
          assert.ok(error instanceof WeChatTransportError)
          assert.equal(error.timedOut, true)
          return true
        })
      } finally {
        await dispatcher.close()
        for (const socket of sockets) socket.destroy()
        silent.close()
      }
    })

    it('keeps a path prefix of the base URL and drops its trailing slash', async () => {
      fake.answer = (request) =>
        request.path === '/sim/pay/unifiedorder'
          ? playWeChatPay({ ...request, path: '/pay/unifiedorder' })
          : { status: 404, body: 'no' }
      const result = await client({ baseUrl: `${fake.baseUrl}/sim/` }).unifiedOrder(jsapiOrder)
      assert.equal(result.prepayId, 'wx201410272009395522657a690389285100')
    })

    it('sends through the injected dispatcher', async () => {
      const seen: string[] = []
      const agent = new Agent()
      const dispatcher = agent.compose(
        (dispatch: Dispatcher['dispatch']): Dispatcher['dispatch'] =>
          (options, handler) => {
            seen.push(options.path)
            return dispatch(options, handler)
          },
      )
      try {
        await client({ dispatcher }).unifiedOrder(jsapiOrder)
      } finally {
        await agent.close()
      }
      assert.deepEqual(seen, ['/pay/unifiedorder'])
    })
  })

  describe('orderQuery', () => {
    it('reads a paid order, keeping the 28-digit transaction_id exact', async () => {
      const result = await client().orderQuery({ outTradeNo: 'ORDER_0001' })
      assert.equal(lastRequest().path, '/pay/orderquery')
      assert.equal(lastRequest().fields.out_trade_no, 'ORDER_0001')
      assert.equal(lastRequest().signValid, true)
      assert.equal(result.tradeState, 'SUCCESS')
      assert.equal(result.tradeStateDesc, '支付成功')
      assert.equal(result.outTradeNo, 'ORDER_0001')
      assert.equal(result.transactionId, TRANSACTION_ID)
      assert.equal(result.totalFee, 990)
      assert.equal(result.timeEnd, '20240102150733')
      assert.equal(result.paidAt?.toISOString(), '2024-01-02T07:07:33.000Z')
      assert.equal(result.openId, 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o')
      assert.equal(result.fields.bank_type, 'OTHERS')
    })

    it('reads an unpaid order without payment fields', async () => {
      fake.answer = (request) =>
        signedAnswer(
          {
            ...successBase(request),
            trade_state: 'NOTPAY',
            out_trade_no: 'ORDER_0002',
            trade_state_desc: '订单未支付',
          },
          'MD5',
        )
      const result = await client().orderQuery({ outTradeNo: 'ORDER_0002' })
      assert.equal(result.tradeState, 'NOTPAY')
      assert.equal(result.transactionId, undefined)
      assert.equal(result.totalFee, undefined)
      assert.equal(result.paidAt, undefined)
    })

    it('rejects an unknown trade_state and an answer about another order as MESSAGE_INVALID', async () => {
      fake.answer = (request) =>
        signedAnswer({ ...successBase(request), trade_state: 'MAYBE' }, 'MD5')
      await assert.rejects(
        client().orderQuery({ outTradeNo: 'O1' }),
        protocolCode('MESSAGE_INVALID'),
      )
      fake.answer = (request) =>
        signedAnswer({ ...successBase(request), trade_state: 'SUCCESS', out_trade_no: 'O2' }, 'MD5')
      await assert.rejects(
        client().orderQuery({ outTradeNo: 'O1' }),
        protocolCode('MESSAGE_INVALID'),
      )
    })

    it('maps ORDERNOTEXIST to WeChatPayError', async () => {
      fake.answer = (request) =>
        signedAnswer(
          { ...successBase(request), result_code: 'FAIL', err_code: 'ORDERNOTEXIST' },
          'MD5',
        )
      await assert.rejects(
        client().orderQuery({ outTradeNo: 'O1' }),
        (error: unknown) => error instanceof WeChatPayError && error.errCode === 'ORDERNOTEXIST',
      )
    })
  })

  describe('closeOrder', () => {
    it('closes an order with a signed request', async () => {
      await client({ signType: 'HMAC-SHA256' }).closeOrder({ outTradeNo: 'ORDER_0003' })
      const request = lastRequest()
      assert.equal(request.path, '/pay/closeorder')
      assert.equal(request.fields.out_trade_no, 'ORDER_0003')
      assert.equal(request.fields.sign_type, 'HMAC-SHA256')
      assert.equal(request.signValid, true)
    })

    it('reports an order paid in the meantime as WeChatPayError ORDERPAID', async () => {
      fake.answer = (request) =>
        signedAnswer(
          { ...successBase(request), result_code: 'FAIL', err_code: 'ORDERPAID' },
          requestSignType(request),
        )
      await assert.rejects(
        client().closeOrder({ outTradeNo: 'ORDER_0003' }),
        (error: unknown) => error instanceof WeChatPayError && error.errCode === 'ORDERPAID',
      )
    })
  })
})

describe('jsapiPayParams', () => {
  interface SignInputs {
    params: Record<string, string>
    api_key: string
    algorithm: string
  }
  const vectors = loadVectors<SignInputs, { sign: string }>('generated_pay_v2.json').filter(
    (vector) => vector.id.startsWith('v2_jsapi_paysign_generated'),
  )

  it('finds the two generated JSAPI paySign vectors', () => {
    assert.equal(vectors.length, 2)
  })

  for (const vector of vectors) {
    it(`produces the parameters of ${vector.id}`, () => {
      const { params, api_key: apiKey, algorithm } = vector.inputs
      assert.ok(isPaySignType(algorithm))
      const pay = createPayClient({
        appId: params.appId ?? '',
        mchId: MCH_ID,
        apiKey,
        baseUrl: 'http://127.0.0.1:9',
        signType: algorithm,
      })
      const prepayId = (params.package ?? '').replace(/^prepay_id=/, '')
      const result = pay.jsapiPayParams(prepayId, {
        now: new Date(Number(params.timeStamp) * 1000 + 999),
        nonce: params.nonceStr ?? '',
      })
      assert.deepEqual(result, { ...params, paySign: vector.expected.sign })
    })
  }

  it('uses the client clock and nonce by default, and the paySign verifies', () => {
    const pay = createPayClient({
      appId: APP_ID,
      mchId: MCH_ID,
      apiKey: API_KEY,
      baseUrl: 'http://127.0.0.1:9',
      nonce: () => 'fixedNonce',
      now: () => 1_704_179_045_500,
    })
    const result = pay.jsapiPayParams('wx0201')
    assert.equal(result.timeStamp, '1704179045')
    assert.equal(result.nonceStr, 'fixedNonce')
    assert.equal(result.package, 'prepay_id=wx0201')
    assert.equal(result.signType, 'MD5')
    const { paySign, ...signed } = result
    assert.equal(verifyPayParams({ ...signed, sign: paySign }, API_KEY), true)
    assert.equal(verifyPayParams({ ...signed, nonceStr: 'other', sign: paySign }, API_KEY), false)
  })

  it('refuses an empty prepay id and an invalid time', () => {
    const pay = createPayClient({
      appId: APP_ID,
      mchId: MCH_ID,
      apiKey: API_KEY,
      baseUrl: 'http://127.0.0.1:9',
    })
    assert.throws(() => pay.jsapiPayParams(''), TypeError)
    assert.throws(() => pay.jsapiPayParams('wx1', { now: new Date(Number.NaN) }), RangeError)
  })

  it('draws a fresh 32-character nonce per call without an injected one', () => {
    const pay = createPayClient({
      appId: APP_ID,
      mchId: MCH_ID,
      apiKey: API_KEY,
      baseUrl: 'http://127.0.0.1:9',
    })
    const first = pay.jsapiPayParams('wx1').nonceStr
    const second = pay.jsapiPayParams('wx1').nonceStr
    assert.match(first, /^[A-Za-z0-9]{32}$/)
    assert.notEqual(first, second)
  })
})
