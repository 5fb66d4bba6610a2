// Tests of the inbound message model: parsing each kind, unknown kinds, rendering and dedupe keys.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WeChatProtocolError, type WeChatProtocolErrorCode } from '../errors.js'
import { loadVectors } from '../test-vectors.js'
import {
  inboundDedupeKey,
  parseInbound,
  renderInbound,
  type InboundMessage,
} from './inbound-message.js'

function assertCode(fn: () => unknown, code: WeChatProtocolErrorCode): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WeChatProtocolError)
    assert.equal(error.code, code)
    return true
  })
}

const head =
  '<ToUserName><![CDATA[gh_123]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName><CreateTime>1700000000</CreateTime>'

function xml(body: string): string {
  return `<xml>${head}${body}</xml>`
}

test('parses the decrypted text messages of the shared vectors, MsgId kept exact', () => {
  const vectors = [
    ...loadVectors<Record<string, unknown>, { msg?: string; fields?: Record<string, string> }>(
      'mp_msg_crypto.json',
    ),
    ...loadVectors<Record<string, unknown>, { msg?: string; fields?: Record<string, string> }>(
      'generated_mp.json',
    ),
  ].filter((v) => v.kind === 'mp_decrypt' && v.expected.msg?.startsWith('<xml>') === true)
  assert.ok(vectors.length >= 4)
  for (const vector of vectors) {
    const msg = parseInbound(vector.expected.msg ?? '')
    assert.equal(msg.msgType, 'text', vector.id)
    if (msg.msgType !== 'text') continue
    const fields = vector.expected.fields ?? {}
    if (fields.Content !== undefined) assert.equal(msg.content, fields.Content)
    if (fields.MsgId !== undefined) assert.equal(msg.msgId, fields.MsgId)
    if (fields.FromUserName !== undefined) assert.equal(msg.fromUserName, fields.FromUserName)
    if (fields.CreateTime !== undefined) assert.equal(msg.createTime, Number(fields.CreateTime))
  }
})

test('parses a text message', () => {
  const msg = parseInbound(
    xml(
      '<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[ 你好 ]]></Content><MsgId>9223372036854775807</MsgId>',
    ),
  )
  assert.deepEqual(
    { ...msg, fields: undefined },
    {
      toUserName: 'gh_123',
      fromUserName: 'oUser1',
      createTime: 1700000000,
      msgType: 'text',
      content: ' 你好 ',
      msgId: '9223372036854775807',
      fields: undefined,
    },
  )
  assert.equal(msg.fields.MsgId, '9223372036854775807')
})

test('parses a follow through a parametric QR code with its scene', () => {
  const msg = parseInbound(
    xml(
      '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_login_42]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>',
    ),
  )
  assert.ok(msg.msgType === 'event' && msg.event === 'subscribe')
  assert.equal(msg.eventKey, 'qrscene_login_42')
  assert.equal(msg.sceneStr, 'login_42')
  assert.equal(msg.ticket, 'TICKET')
})

test('parses a plain follow with an empty EventKey', () => {
  const msg = parseInbound(
    xml('<MsgType>event</MsgType><Event>subscribe</Event><EventKey><![CDATA[]]></EventKey>'),
  )
  assert.ok(msg.msgType === 'event' && msg.event === 'subscribe')
  assert.equal(msg.eventKey, undefined)
  assert.equal(msg.sceneStr, undefined)
  assert.equal(msg.ticket, undefined)
})

test('parses unsubscribe, SCAN, CLICK and VIEW events', () => {
  const unsubscribe = parseInbound(xml('<MsgType>event</MsgType><Event>unsubscribe</Event>'))
  assert.ok(unsubscribe.msgType === 'event' && unsubscribe.event === 'unsubscribe')

  const scan = parseInbound(
    xml(
      '<MsgType>event</MsgType><Event>SCAN</Event><EventKey>login_42</EventKey><Ticket>T</Ticket>',
    ),
  )
  assert.ok(scan.msgType === 'event' && scan.event === 'SCAN')
  assert.equal(scan.eventKey, 'login_42')
  assert.equal(scan.ticket, 'T')

  const click = parseInbound(
    xml('<MsgType>event</MsgType><Event>CLICK</Event><EventKey>BUY</EventKey>'),
  )
  assert.ok(click.msgType === 'event' && click.event === 'CLICK')
  assert.equal(click.eventKey, 'BUY')

  const view = parseInbound(
    xml(
      '<MsgType>event</MsgType><Event>VIEW</Event><EventKey>https://a.example/x?y=1&amp;z=2</EventKey><MenuId>7</MenuId>',
    ),
  )
  assert.ok(view.msgType === 'event' && view.event === 'VIEW')
  assert.equal(view.eventKey, 'https://a.example/x?y=1&z=2')
  assert.equal(view.menuId, '7')
  const viewUpper = parseInbound(
    xml('<MsgType>event</MsgType><Event>VIEW</Event><EventKey>u</EventKey><MenuID>8</MenuID>'),
  )
  assert.ok(viewUpper.msgType === 'event' && viewUpper.event === 'VIEW')
  assert.equal(viewUpper.menuId, '8')
})

test('maps other message types and events to unknown instead of failing', () => {
  const image = parseInbound(xml('<MsgType>image</MsgType><PicUrl>u</PicUrl><MsgId>5</MsgId>'))
  assert.ok(image.msgType === 'unknown')
  assert.equal(image.rawMsgType, 'image')
  assert.equal(image.rawEvent, undefined)
  const location = parseInbound(xml('<MsgType>event</MsgType><Event>LOCATION</Event>'))
  assert.ok(location.msgType === 'unknown')
  assert.equal(location.rawMsgType, 'event')
  assert.equal(location.rawEvent, 'LOCATION')
  const noEvent = parseInbound(xml('<MsgType>event</MsgType>'))
  assert.ok(noEvent.msgType === 'unknown' && noEvent.rawEvent === undefined)
})

test('rejects a message missing a common field (MESSAGE_INVALID)', () => {
  const full: Record<string, string> = {
    ToUserName: 'gh',
    FromUserName: 'o',
    CreateTime: '1',
    MsgType: 'event',
  }
  for (const missing of Object.keys(full)) {
    const body = Object.entries(full)
      .filter(([name]) => name !== missing)
      .map(([name, value]) => `<${name}>${value}</${name}>`)
      .join('')
    assertCode(
      () => parseInbound(`<xml>${body}<Event>unsubscribe</Event></xml>`),
      'MESSAGE_INVALID',
    )
  }
  assertCode(
    () =>
      parseInbound(
        '<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>soon</CreateTime><MsgType>text</MsgType></xml>',
      ),
    'MESSAGE_INVALID',
  )
})

test('rejects a known kind missing its own fields (MESSAGE_INVALID)', () => {
  assertCode(
    () => parseInbound(xml('<MsgType>text</MsgType><Content>hi</Content>')),
    'MESSAGE_INVALID',
  )
  assertCode(() => parseInbound(xml('<MsgType>text</MsgType><MsgId>1</MsgId>')), 'MESSAGE_INVALID')
  assertCode(
    () => parseInbound(xml('<MsgType>event</MsgType><Event>SCAN</Event>')),
    'MESSAGE_INVALID',
  )
  assertCode(
    () => parseInbound(xml('<MsgType>event</MsgType><Event>CLICK</Event>')),
    'MESSAGE_INVALID',
  )
  assertCode(
    () => parseInbound(xml('<MsgType>event</MsgType><Event>VIEW</Event>')),
    'MESSAGE_INVALID',
  )
})

test('passes codec errors through', () => {
  assertCode(() => parseInbound('<xml><A>1</A><A>2</A></xml>'), 'XML_INVALID')
})

test('renders every kind so that parsing gives the same message back', () => {
  const base = { toUserName: 'gh_123', fromUserName: 'oUser1', createTime: 1700000000, fields: {} }
  const messages: InboundMessage[] = [
    { ...base, msgType: 'text', content: 'a]]>b 你好 ', msgId: '18446744073709551615' },
    {
      ...base,
      msgType: 'event',
      event: 'subscribe',
      eventKey: 'qrscene_s1',
      ticket: 'T',
      sceneStr: 's1',
    },
    {
      ...base,
      msgType: 'event',
      event: 'subscribe',
      eventKey: undefined,
      ticket: undefined,
      sceneStr: undefined,
    },
    { ...base, msgType: 'event', event: 'unsubscribe' },
    { ...base, msgType: 'event', event: 'SCAN', eventKey: 's1', ticket: 'T' },
    { ...base, msgType: 'event', event: 'CLICK', eventKey: 'BUY' },
    {
      ...base,
      msgType: 'event',
      event: 'VIEW',
      eventKey: 'https://x.example/?a=1&b=2',
      menuId: '3',
    },
    { ...base, msgType: 'unknown', rawMsgType: 'image', rawEvent: undefined },
    { ...base, msgType: 'unknown', rawMsgType: 'event', rawEvent: 'LOCATION' },
  ]
  for (const message of messages) {
    const parsed = parseInbound(renderInbound(message))
    assert.deepEqual({ ...parsed, fields: {} }, message)
  }
})

test('renders extra fields of an unknown message too', () => {
  const msg = parseInbound(
    xml('<MsgType>image</MsgType><PicUrl>http://p</PicUrl><MsgId>77</MsgId>'),
  )
  const again = parseInbound(renderInbound(msg))
  assert.deepEqual(again.fields, msg.fields)
  assert.equal(again.fields.PicUrl, 'http://p')
})

test('dedupes messages by MsgId and events by FromUserName and CreateTime', () => {
  const text = parseInbound(xml('<MsgType>text</MsgType><Content>x</Content><MsgId>123</MsgId>'))
  assert.equal(inboundDedupeKey(text), 'msg:123')
  const image = parseInbound(xml('<MsgType>image</MsgType><MsgId>456</MsgId>'))
  assert.equal(inboundDedupeKey(image), 'msg:456')
  const event = parseInbound(xml('<MsgType>event</MsgType><Event>unsubscribe</Event>'))
  assert.equal(inboundDedupeKey(event), 'evt:oUser1:1700000000')
})
