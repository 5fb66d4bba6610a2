// WeChat Pay v2: signatures both ways, error codes, prepay reuse — the shared unifiedorder vectors included.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import {
  buildXml,
  createPayClient,
  parseXml,
  signPayParams,
  verifyPayParams,
  WeChatPayError,
} from '@wxgate/wechat'
import type { PaySignType } from '@wxgate/wechat'
import {
  startTestSimulator,
  TEST_APP_ID,
  TEST_MCH_ID,
  TEST_PAY_KEY,
} from '../start-test-simulator.js'
import type { TestSimulator } from '../start-test-simulator.js'

interface SignVector {
  id: string
  inputs: { params: Record<string, string>; api_key: string; algorithm: PaySignType }
  expected: { sign: string; request_xml?: string }
}
const payVectors = (
  JSON.parse(
    readFileSync(
      new URL('../../../../shared/wechat-protocol/vectors/generated_pay_v2.json', import.meta.url),
      'utf8',
    ),
  ) as { vectors: SignVector[] }
).vectors.filter((vector) => vector.id.startsWith('v2_unifiedorder_generated'))

const order = (outTradeNo: string, extra: Record<string, unknown> = {}) => ({
  outTradeNo,
  body: 'wxgate-100 credits',
  totalFee: 990,
  spbillCreateIp: '203.0.113.7',
  notifyUrl: 'https://pay.example.com/api/v1/payment/notify',
  tradeType: 'JSAPI' as const,
  openId: 'oPayer',
  ...extra,
})

describe('WeChat Pay v2', () => {
  let sim: TestSimulator
  before(async () => {
    sim = await startTestSimulator()
    sim.platform.addUser({ openId: 'oPayer' })
  })
  after(async () => {
    await sim.close()
  })
  const client = (signType: PaySignType = 'MD5', apiKey = TEST_PAY_KEY, appId = TEST_APP_ID) =>
    createPayClient({ appId, mchId: TEST_MCH_ID, apiKey, baseUrl: sim.baseUrl, signType })
  const raw = async (api: string, fields: Record<string, string>, key = TEST_PAY_KEY) => {
    const signed = { ...fields, sign: fields.sign ?? signPayParams(fields, key) }
    const response = await fetch(`${sim.baseUrl}${api}`, { method: 'POST', body: buildXml(signed) })
    return parseXml(await response.text()) as Record<string, string>
  }
  const base = { appid: TEST_APP_ID, mch_id: TEST_MCH_ID, nonce_str: 'n0nce' }

  it('answers a JSAPI unifiedorder with a signed prepay_id, in MD5 and HMAC-SHA256', async () => {
    for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
      const result = await client(signType).unifiedOrder(order(`jsapi-${signType}`))
      assert.equal(result.tradeType, 'JSAPI')
      assert.match(result.prepayId, /^wx\d{14}[0-9a-f]{20}$/)
    }
    const answer = await raw('/pay/orderquery', { ...base, out_trade_no: 'jsapi-MD5' })
    assert.equal(answer.result_code, 'SUCCESS')
    assert.ok(verifyPayParams(answer, TEST_PAY_KEY))
    assert.equal(answer.trade_state, 'NOTPAY')
  })

  it('answers code_url for NATIVE and mweb_url for MWEB', async () => {
    const native = await client().unifiedOrder(
      order('native-1', { tradeType: 'NATIVE', openId: undefined, productId: 'credits_100' }),
    )
    assert.match(native.codeUrl ?? '', /^weixin:\/\/wxpay\/bizpayurl\?pr=/)
    const mweb = await client().unifiedOrder(
      order('mweb-0001', {
        tradeType: 'MWEB',
        openId: undefined,
        sceneInfo: {
          h5_info: { type: 'Wap', wap_url: 'https://shop.example.com', wap_name: 'shop' },
        },
      }),
    )
    assert.ok(
      (mweb.mwebUrl ?? '').startsWith(`${sim.baseUrl}/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx`),
    )
  })

  it('accepts the shared unifiedorder vectors byte for byte and refuses them once tampered (SIGNERROR)', async () => {
    for (const vector of payVectors) {
      const params = vector.inputs.params
      const vectorSim = await startTestSimulator({
        appId: params.appid,
        mchId: params.mch_id,
        payApiKey: vector.inputs.api_key,
        // 2024-01-02 15:04:05 Beijing: the vector's time_expire is 30 minutes later.
        now: () => Date.UTC(2024, 0, 2, 7, 4, 5),
      })
      try {
        vectorSim.platform.addUser({ openId: params.openid })
        const post = async (xml: string) =>
          parseXml(
            await (
              await fetch(`${vectorSim.baseUrl}/pay/unifiedorder`, { method: 'POST', body: xml })
            ).text(),
          ) as Record<string, string>
        const xml = vector.expected.request_xml ?? ''
        const tampered = await post(
          xml.replace('<total_fee><![CDATA[1]]>', '<total_fee><![CDATA[2]]>'),
        )
        assert.equal(tampered.err_code, 'SIGNERROR', vector.id)
        const answer = await post(xml)
        assert.equal(answer.result_code, 'SUCCESS', `${vector.id}: ${JSON.stringify(answer)}`)
        assert.ok(verifyPayParams(answer, vector.inputs.api_key, vector.inputs.algorithm))
        assert.equal(answer.sign?.length, vector.inputs.algorithm === 'MD5' ? 32 : 64)
      } finally {
        await vectorSim.close()
      }
    }
  })

  it('refuses a wrong key (SIGNERROR), a missing field (LACK_PARAMS), a foreign appid and an unknown mch_id', async () => {
    const fields = {
      ...base,
      body: 'b',
      out_trade_no: 'refused-1',
      total_fee: '1',
      spbill_create_ip: '1.2.3.4',
      notify_url: 'https://e.com/n',
      trade_type: 'NATIVE',
      product_id: 'p',
    }
    assert.equal((await raw('/pay/unifiedorder', fields, 'wrong-key')).err_code, 'SIGNERROR')
    // An HMAC-SHA256 sign without sign_type is checked as MD5 (WeChat's default) and refused.
    const hmacWithoutType = { ...fields, sign: signPayParams(fields, TEST_PAY_KEY, 'HMAC-SHA256') }
    assert.equal((await raw('/pay/unifiedorder', hmacWithoutType)).err_code, 'SIGNERROR')
    const { spbill_create_ip: _ip, ...missing } = fields
    const lack = await raw('/pay/unifiedorder', missing)
    assert.equal(lack.err_code, 'LACK_PARAMS')
    assert.match(lack.err_code_des ?? '', /spbill_create_ip/)
    assert.equal(
      (await raw('/pay/unifiedorder', { ...fields, appid: 'wx0000000000000000' })).err_code,
      'APPID_MCHID_NOT_MATCH',
    )
    const unknownMch = await raw('/pay/unifiedorder', { ...fields, mch_id: '1' })
    assert.equal(unknownMch.return_code, 'FAIL')
    assert.equal(unknownMch.sign, undefined)
    const badXml = await fetch(`${sim.baseUrl}/pay/unifiedorder`, {
      method: 'POST',
      body: '<xml><a>',
    })
    assert.equal(parseXml(await badXml.text()).return_code, 'FAIL')
    await assert.rejects(client('MD5', 'wrong-key').orderQuery({ outTradeNo: 'jsapi-MD5' }))
    assert.equal(sim.platform.order('refused-1'), undefined)
  })

  it('refuses parameters WeChat refuses: openid for JSAPI, notify_url with a query, short time_expire', async () => {
    const fields = {
      ...base,
      body: 'b',
      out_trade_no: 'param-case',
      total_fee: '1',
      spbill_create_ip: '1.2.3.4',
      notify_url: 'https://e.com/n',
      trade_type: 'JSAPI',
      openid: 'oPayer',
    }
    const { openid: _openid, ...withoutOpenId } = fields
    const cases: [Record<string, string>, string][] = [
      [withoutOpenId, 'PARAM_ERROR'],
      [{ ...fields, openid: 'oStranger' }, 'PARAM_ERROR'],
      [{ ...fields, notify_url: 'https://e.com/n?x=1' }, 'PARAM_ERROR'],
      [{ ...fields, total_fee: '0' }, 'PARAM_ERROR'],
      [{ ...fields, total_fee: '9.9' }, 'PARAM_ERROR'],
      [{ ...fields, spbill_create_ip: 'localhost' }, 'PARAM_ERROR'],
      [{ ...fields, body: '商'.repeat(43) }, 'PARAM_ERROR'],
      [{ ...fields, out_trade_no: 'abc' }, 'PARAM_ERROR'],
      [{ ...fields, trade_type: 'NATIVE' }, 'PARAM_ERROR'],
      [{ ...fields, trade_type: 'MWEB' }, 'PARAM_ERROR'],
      [{ ...fields, trade_type: 'CARD' }, 'PARAM_ERROR'],
      [{ ...fields, time_expire: '20241301000000' }, 'PARAM_ERROR'],
    ]
    for (const [request, errCode] of cases) {
      const answer = await raw('/pay/unifiedorder', request)
      assert.equal(answer.err_code, errCode, JSON.stringify(request))
      assert.ok(verifyPayParams(answer, TEST_PAY_KEY))
    }
    await assert.rejects(
      client().unifiedOrder(order('param-case', { timeExpire: new Date(sim.now() + 60_000) })),
      (error: unknown) => error instanceof WeChatPayError && error.errCode === 'INVALID_TIME',
    )
    assert.equal(sim.platform.order('param-case'), undefined)
  })

  it('reuses the prepay_id for a repeat with the same parameters, renews it after 2 h, refuses other parameters', async () => {
    const first = await client().unifiedOrder(order('repeat-01'))
    const again = await client('HMAC-SHA256').unifiedOrder(order('repeat-01'))
    assert.equal(again.prepayId, first.prepayId)
    await assert.rejects(client().unifiedOrder(order('repeat-01', { totalFee: 991 })), {
      errCode: 'OUT_TRADE_NO_USED',
    })
    await assert.rejects(
      client().unifiedOrder(order('repeat-01', { tradeType: 'NATIVE', productId: 'p' })),
      {
        errCode: 'OUT_TRADE_NO_USED',
      },
    )
    sim.advanceClock(2 * 3600_000)
    const renewed = await client().unifiedOrder(order('repeat-01'))
    assert.notEqual(renewed.prepayId, first.prepayId)
  })

  it('answers ORDERPAID and ORDERCLOSED, closes unpaid orders, and reports each trade_state', async () => {
    await client().unifiedOrder(order('state-paid'))
    await client().unifiedOrder(order('state-closed'))
    await sim.phone.pay('state-paid', { deliver: false })
    const paid = await client().orderQuery({ outTradeNo: 'state-paid' })
    assert.equal(paid.tradeState, 'SUCCESS')
    assert.match(paid.transactionId ?? '', /^\d{28}$/)
    assert.equal(paid.totalFee, 990)
    await assert.rejects(client().unifiedOrder(order('state-paid')), { errCode: 'ORDERPAID' })
    await assert.rejects(client().closeOrder({ outTradeNo: 'state-paid' }), {
      errCode: 'ORDERPAID',
    })
    await client().closeOrder({ outTradeNo: 'state-closed' })
    assert.equal((await client().orderQuery({ outTradeNo: 'state-closed' })).tradeState, 'CLOSED')
    await assert.rejects(client().closeOrder({ outTradeNo: 'state-closed' }), {
      errCode: 'ORDERCLOSED',
    })
    await assert.rejects(client().unifiedOrder(order('state-closed')), { errCode: 'ORDERCLOSED' })
    await assert.rejects(client().orderQuery({ outTradeNo: 'never-made' }), {
      errCode: 'ORDERNOTEXIST',
    })
    await assert.rejects(sim.phone.pay('state-closed'), { code: 'ORDER_NOT_PAYABLE' })
  })

  it('answers a queued SYSTEMERROR without changing anything', async () => {
    sim.platform.failNext('/pay/unifiedorder', 'SYSTEMERROR')
    await assert.rejects(client().unifiedOrder(order('fault-001')), { errCode: 'SYSTEMERROR' })
    assert.equal(sim.platform.order('fault-001'), undefined)
    await client().unifiedOrder(order('fault-001'))
    assert.equal(sim.platform.order('fault-001')?.tradeState, 'NOTPAY')
  })

  it('records each pay call with its fields and outcome', () => {
    const refused = sim.records.apiCalls.filter((call) => call.payErrCode === 'SIGNERROR')
    assert.ok(refused.length >= 1)
    const created = sim.records.apiCalls.find(
      (call) =>
        call.api === '/pay/unifiedorder' &&
        (call.body as Record<string, string>).out_trade_no === 'native-1',
    )
    assert.equal((created?.body as Record<string, string>).product_id, 'credits_100')
  })
})
