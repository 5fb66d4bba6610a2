// Tests of the v2 payment notification: the shared vector, tampering, appid/mch_id checks and the answer XML.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { WeChatProtocolError } from '../errors.js'
import type { WeChatProtocolErrorCode } from '../errors.js'
import { loadVectors } from '../test-vectors.js'
import {
  buildPayNotification,
  parsePayNotification,
  parsePayNotifyAnswer,
  renderPayNotifyAnswer,
} from './notification.js'
import { signPayParams } from './pay-sign.js'

interface NotifyInputs {
  api_key: string
  notify_xml: string
  order_total_fee: number
}
interface NotifyExpected {
  sign_valid: boolean
  sign_type: string
  sign: string
  fields: Record<string, string>
  success_response: string
}

const notifyVectors = loadVectors<NotifyInputs, NotifyExpected>('generated_pay_v2.json').filter(
  (vector) => vector.kind === 'v2_notify',
)

const API_KEY = '192006250b4c09247ec02edce69f6a2d'
const APP_ID = 'wxd930ea5d5a258f4f'
const MCH_ID = '10000100'
const CHECK = { apiKey: API_KEY, appId: APP_ID, mchId: MCH_ID }

function paidFields(): Record<string, string | number> {
  return {
    return_code: 'SUCCESS',
    appid: APP_ID,
    mch_id: MCH_ID,
    nonce_str: 'n0nce',
    result_code: 'SUCCESS',
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    trade_type: 'JSAPI',
    bank_type: 'OTHERS',
    total_fee: 990,
    cash_fee: 990,
    transaction_id: '4200002024010212345678901234',
    out_trade_no: 'ORDER_0001',
    attach: '',
    time_end: '20240102150733',
  }
}

function code(expected: WeChatProtocolErrorCode): (error: unknown) => boolean {
  return (error) => {
    assert.ok(
      error instanceof WeChatProtocolError,
      `expected WeChatProtocolError, got ${String(error)}`,
    )
    assert.equal(error.code, expected)
    return true
  }
}

describe('payment notification vectors', () => {
  it('finds the notification vector in the shared folder', () => {
    assert.equal(notifyVectors.length, 1)
  })

  for (const vector of notifyVectors) {
    it(`accepts ${vector.id} and reads its fields exactly`, () => {
      assert.equal(vector.expected.sign_valid, true)
      const notification = parsePayNotification(vector.inputs.notify_xml, {
        apiKey: vector.inputs.api_key,
        appId: APP_ID,
        mchId: MCH_ID,
      })
      for (const [name, value] of Object.entries(vector.expected.fields)) {
        assert.equal(notification.fields[name], value, name)
      }
      assert.equal(notification.fields.sign, vector.expected.sign)
      assert.equal(notification.outTradeNo, vector.expected.fields.out_trade_no)
      assert.equal(notification.transactionId, vector.expected.fields.transaction_id)
      assert.equal(notification.totalFee, vector.inputs.order_total_fee)
      assert.equal(notification.resultCode, vector.expected.fields.result_code)
      assert.equal(notification.paidAt.toISOString(), '2024-01-02T07:07:33.000Z')
    })

    it(`rejects ${vector.id} with its amount changed`, () => {
      const tampered = vector.inputs.notify_xml.replace(
        '<total_fee>1</total_fee>',
        '<total_fee>100</total_fee>',
      )
      assert.notEqual(tampered, vector.inputs.notify_xml)
      assert.throws(
        () => parsePayNotification(tampered, { ...CHECK, apiKey: vector.inputs.api_key }),
        code('SIGNATURE_MISMATCH'),
      )
    })

    it(`rejects ${vector.id} under another API key`, () => {
      assert.throws(
        () => parsePayNotification(vector.inputs.notify_xml, { ...CHECK, apiKey: 'x'.repeat(32) }),
        code('SIGNATURE_MISMATCH'),
      )
    })

    it(`answers ${vector.id} with the expected success XML`, () => {
      assert.equal(renderPayNotifyAnswer(true), vector.expected.success_response)
    })
  }
})

describe('parsePayNotification', () => {
  it('reads a notification it built, with both algorithms', () => {
    for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
      const xml = buildPayNotification(paidFields(), API_KEY, signType)
      const notification = parsePayNotification(xml, CHECK)
      assert.equal(notification.totalFee, 990)
      assert.equal(notification.openId, 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o')
      assert.equal(notification.tradeType, 'JSAPI')
      assert.equal(notification.fields.attach, '')
    }
  })

  it('follows sign_type when the notification names it', () => {
    const xml = buildPayNotification({ ...paidFields(), sign_type: 'HMAC-SHA256' }, API_KEY)
    assert.match(xml, /<sign><!\[CDATA\[[0-9A-F]{64}\]\]><\/sign>/)
    assert.equal(parsePayNotification(xml, CHECK).outTradeNo, 'ORDER_0001')
  })

  it('uses the ordered algorithm as a hint only when sign_type is absent', () => {
    const md5 = buildPayNotification(paidFields(), API_KEY, 'MD5')
    assert.throws(
      () => parsePayNotification(md5, { ...CHECK, signType: 'HMAC-SHA256' }),
      code('SIGNATURE_MISMATCH'),
    )
    const hmac = buildPayNotification(paidFields(), API_KEY, 'HMAC-SHA256')
    assert.equal(parsePayNotification(hmac, { ...CHECK, signType: 'HMAC-SHA256' }).totalFee, 990)
  })

  it('keeps a 28-digit transaction_id exact, bare or in CDATA', () => {
    const id = '4200002024010299999999999999'
    const fields = { ...paidFields(), transaction_id: id }
    const sign = signPayParams(fields, API_KEY)
    const bare =
      '<xml>' +
      Object.entries(fields)
        .map(([name, value]) => `<${name}>${value}</${name}>`)
        .join('\n') +
      `<sign>${sign}</sign></xml>`
    assert.equal(parsePayNotification(bare, CHECK).transactionId, id)
    assert.equal(
      parsePayNotification(buildPayNotification(fields, API_KEY), CHECK).transactionId,
      id,
    )
  })

  it('rejects every changed field, and an added one', () => {
    const fields = paidFields()
    const xml = buildPayNotification(fields, API_KEY)
    for (const name of ['out_trade_no', 'transaction_id', 'total_fee', 'openid', 'time_end']) {
      const value = String(fields[name])
      const changed = xml.replace(`<${name}>`, `<${name}>9`)
      assert.notEqual(changed, xml, name)
      assert.ok(changed.includes(`9${value}`) || changed.includes('9<![CDATA['), name)
      assert.throws(() => parsePayNotification(changed, CHECK), code('SIGNATURE_MISMATCH'), name)
    }
    const added = xml.replace('</xml>', '<coupon_fee>1</coupon_fee></xml>')
    assert.throws(() => parsePayNotification(added, CHECK), code('SIGNATURE_MISMATCH'))
  })

  it('rejects a notification without a sign', () => {
    const fields = paidFields()
    const xml = buildPayNotification(fields, API_KEY).replace(/<sign>.*<\/sign>/, '')
    assert.doesNotMatch(xml, /<sign>/)
    assert.throws(() => parsePayNotification(xml, CHECK), code('SIGNATURE_MISMATCH'))
  })

  it('rejects a correctly signed notification for another appid with APPID_MISMATCH', () => {
    const xml = buildPayNotification({ ...paidFields(), appid: 'wx0000000000000000' }, API_KEY)
    assert.throws(() => parsePayNotification(xml, CHECK), code('APPID_MISMATCH'))
    assert.throws(
      () =>
        parsePayNotification(buildPayNotification(paidFields(), API_KEY), {
          ...CHECK,
          appId: 'wxother',
        }),
      code('APPID_MISMATCH'),
    )
  })

  it('rejects a correctly signed notification for another mch_id with MCHID_MISMATCH', () => {
    const xml = buildPayNotification({ ...paidFields(), mch_id: '19999999' }, API_KEY)
    assert.throws(() => parsePayNotification(xml, CHECK), code('MCHID_MISMATCH'))
    const { mch_id: _dropped, ...withoutMchId } = paidFields()
    assert.throws(
      () => parsePayNotification(buildPayNotification(withoutMchId, API_KEY), CHECK),
      code('MCHID_MISMATCH'),
    )
  })

  it('returns a business failure as resultCode FAIL with its error code', () => {
    const xml = buildPayNotification(
      { ...paidFields(), result_code: 'FAIL', err_code: 'NOTENOUGH', err_code_des: '余额不足' },
      API_KEY,
    )
    const notification = parsePayNotification(xml, CHECK)
    assert.equal(notification.resultCode, 'FAIL')
    assert.equal(notification.errCode, 'NOTENOUGH')
    assert.equal(notification.errCodeDes, '余额不足')
  })

  it('rejects return_code FAIL and an unknown result_code with MESSAGE_INVALID', () => {
    const changes: Record<string, string>[] = [
      { return_code: 'FAIL' },
      { result_code: 'MAYBE' },
      { result_code: '' },
    ]
    for (const change of changes) {
      const xml = buildPayNotification({ ...paidFields(), ...change }, API_KEY)
      assert.throws(() => parsePayNotification(xml, CHECK), code('MESSAGE_INVALID'))
    }
  })

  for (const fee of ['0', '-1', '1.00', '01', '1e3', ' 1', '99999999999999999', 'abc']) {
    it(`rejects a signed total_fee of ${JSON.stringify(fee)} with MESSAGE_INVALID`, () => {
      const xml = buildPayNotification({ ...paidFields(), total_fee: fee }, API_KEY)
      assert.throws(() => parsePayNotification(xml, CHECK), code('MESSAGE_INVALID'))
    })
  }

  for (const name of ['out_trade_no', 'transaction_id', 'total_fee', 'time_end']) {
    it(`rejects a signed notification without ${name} with MESSAGE_INVALID`, () => {
      const fields = { ...paidFields() }
      delete fields[name]
      const xml = buildPayNotification(fields, API_KEY)
      assert.throws(() => parsePayNotification(xml, CHECK), code('MESSAGE_INVALID'))
    })
  }

  it('rejects a signed time_end that is not yyyyMMddHHmmss', () => {
    const xml = buildPayNotification({ ...paidFields(), time_end: '2024-01-02 15:07:33' }, API_KEY)
    assert.throws(() => parsePayNotification(xml, CHECK), code('MESSAGE_INVALID'))
  })

  it('rejects a DOCTYPE before looking at the sign', () => {
    const xml = `<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>${buildPayNotification(paidFields(), API_KEY)}`
    assert.throws(() => parsePayNotification(xml, CHECK), code('XML_INVALID'))
  })

  it('rejects a nested element with MESSAGE_INVALID', () => {
    const xml = buildPayNotification(paidFields(), API_KEY).replace(
      '</xml>',
      '<detail><a>1</a></detail></xml>',
    )
    assert.throws(() => parsePayNotification(xml, CHECK), code('MESSAGE_INVALID'))
  })
})

describe('notify answers', () => {
  it('renders and reads a success answer', () => {
    assert.deepEqual(parsePayNotifyAnswer(renderPayNotifyAnswer(true)), { ok: true, message: 'OK' })
  })

  it('renders and reads a failure answer with its message', () => {
    const xml = renderPayNotifyAnswer(false, 'sign <bad> ]]> here')
    assert.match(xml, /<return_code><!\[CDATA\[FAIL\]\]><\/return_code>/)
    assert.deepEqual(parsePayNotifyAnswer(xml), { ok: false, message: 'sign <bad> ]]> here' })
  })

  it('reads an answer without CDATA and without a message', () => {
    assert.deepEqual(parsePayNotifyAnswer('<xml><return_code>SUCCESS</return_code></xml>'), {
      ok: true,
      message: undefined,
    })
  })

  it('rejects an answer whose return_code is neither SUCCESS nor FAIL', () => {
    assert.throws(
      () => parsePayNotifyAnswer('<xml><return_code>success</return_code></xml>'),
      code('MESSAGE_INVALID'),
    )
    assert.throws(() => parsePayNotifyAnswer('success'), code('XML_INVALID'))
  })
})
