// Tests of passive text replies: building through the codec and reading them back.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WeChatProtocolError, type WeChatProtocolErrorCode } from '../errors.js'
import { parseXml } from '../xml/codec.js'
import { parseReply, renderReply, textReply } from './reply.js'

function assertCode(fn: () => unknown, code: WeChatProtocolErrorCode): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WeChatProtocolError)
    assert.equal(error.code, code)
    return true
  })
}

test('renders a text reply in the documented shape', () => {
  const xml = renderReply(
    textReply({
      toUser: 'oUser1',
      fromUser: 'gh_123',
      content: 'hello\nworld',
      createTime: 1700000000,
    }),
  )
  assert.equal(
    xml,
    '<xml><ToUserName><![CDATA[oUser1]]></ToUserName><FromUserName><![CDATA[gh_123]]></FromUserName>' +
      '<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>' +
      '<Content><![CDATA[hello\nworld]]></Content></xml>',
  )
})

test('defaults createTime to the current Unix second', () => {
  const before = Math.floor(Date.now() / 1000)
  const reply = textReply({ toUser: 'o', fromUser: 'gh', content: 'x' })
  const after = Math.floor(Date.now() / 1000)
  assert.ok(reply.createTime >= before && reply.createTime <= after)
})

test('keeps user text containing ]]> and markup as content, never as elements', () => {
  const content = '</Content><MsgType>news</MsgType>]]><![CDATA[ 注入 ]]>'
  const xml = renderReply(textReply({ toUser: 'o', fromUser: 'gh', content, createTime: 1 }))
  const fields = parseXml(xml)
  assert.equal(fields.Content, content)
  assert.equal(fields.MsgType, 'text')
  assert.deepEqual(parseReply(xml), {
    msgType: 'text',
    toUser: 'o',
    fromUser: 'gh',
    content,
    createTime: 1,
  })
})

test('round trips random replies', () => {
  for (let i = 0; i < 50; i += 1) {
    const reply = textReply({
      toUser: `o${i}`,
      fromUser: 'gh_1',
      content: `${'中文 '.repeat(i)}]]>${i}`,
      createTime: 1_700_000_000 + i,
    })
    assert.deepEqual(parseReply(renderReply(reply)), reply)
  }
})

test('reads an empty Content as an empty string', () => {
  const xml = renderReply(textReply({ toUser: 'o', fromUser: 'gh', content: '', createTime: 5 }))
  assert.equal(parseReply(xml).content, '')
})

test('rejects replies of another type or with missing fields (MESSAGE_INVALID)', () => {
  assertCode(
    () =>
      parseReply(
        '<xml><ToUserName>o</ToUserName><FromUserName>g</FromUserName><CreateTime>1</CreateTime><MsgType>news</MsgType></xml>',
      ),
    'MESSAGE_INVALID',
  )
  assertCode(
    () =>
      parseReply(
        '<xml><FromUserName>g</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>',
      ),
    'MESSAGE_INVALID',
  )
  assertCode(
    () =>
      parseReply(
        '<xml><ToUserName>o</ToUserName><FromUserName>g</FromUserName><CreateTime>now</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>',
      ),
    'MESSAGE_INVALID',
  )
  assertCode(() => parseReply('success'), 'XML_INVALID')
})
