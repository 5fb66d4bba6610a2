// Tests of the safe-mode envelope and encrypted-reply XML.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WeChatProtocolError, type WeChatProtocolErrorCode } from '../errors.js'
import { loadVectors } from '../test-vectors.js'
import { buildEncryptedReply, buildEnvelope, readEncryptedReply, readEnvelope } from './envelope.js'

function assertCode(fn: () => unknown, code: WeChatProtocolErrorCode): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WeChatProtocolError)
    assert.equal(error.code, code)
    return true
  })
}

interface EnvelopeInputs {
  envelope?: string
  encrypt?: string
}
interface ReplyExpected {
  encrypt?: string
  msg_signature?: string
  reply_xml?: string
}

test('reads the XML envelopes of the shared vectors', () => {
  const vectors = [
    ...loadVectors<EnvelopeInputs, ReplyExpected>('mp_msg_crypto.json'),
    ...loadVectors<EnvelopeInputs, ReplyExpected>('generated_mp.json'),
  ].filter((v) => v.inputs.envelope?.startsWith('<') === true)
  assert.ok(vectors.length >= 2)
  for (const vector of vectors) {
    const envelope = readEnvelope(vector.inputs.envelope ?? '')
    assert.equal(envelope.encrypt, vector.inputs.encrypt, vector.id)
    assert.equal(typeof envelope.toUserName, 'string')
  }
})

test('reads the encrypted replies of the shared vectors', () => {
  const vectors = [
    ...loadVectors<EnvelopeInputs, ReplyExpected>('mp_msg_crypto.json'),
    ...loadVectors<EnvelopeInputs, ReplyExpected>('generated_mp.json'),
  ].filter((v) => v.expected.reply_xml !== undefined)
  assert.ok(vectors.length >= 2)
  for (const vector of vectors) {
    const reply = readEncryptedReply(vector.expected.reply_xml ?? '')
    assert.equal(reply.encrypt, vector.expected.encrypt)
    assert.equal(reply.msgSignature, vector.expected.msg_signature)
    assert.match(reply.timestamp, /^[0-9]+$/)
    assert.ok(reply.nonce.length > 0)
  }
})

test('builds an encrypted reply exactly like the generated vector', () => {
  const [vector] = loadVectors<
    EnvelopeInputs & { timestamp: string; nonce: string },
    ReplyExpected
  >('generated_mp.json').filter((v) => v.kind === 'mp_encrypt')
  assert.ok(vector)
  const xml = buildEncryptedReply({
    encrypt: vector.expected.encrypt ?? '',
    msgSignature: vector.expected.msg_signature ?? '',
    timestamp: vector.inputs.timestamp,
    nonce: vector.inputs.nonce,
  })
  assert.equal(xml, vector.expected.reply_xml)
})

test('keeps a non-canonical timestamp as text so its signature still holds', () => {
  const reply = { encrypt: 'abc=', msgSignature: 'sig', timestamp: '0123', nonce: 'n' }
  assert.equal(readEncryptedReply(buildEncryptedReply(reply)).timestamp, '0123')
})

test('round trips a built envelope', () => {
  const xml = buildEnvelope({ toUserName: 'gh_123', encrypt: 'a+b/c==' })
  assert.deepEqual(readEnvelope(xml), { toUserName: 'gh_123', encrypt: 'a+b/c==' })
})

test('accepts an envelope without ToUserName', () => {
  assert.deepEqual(readEnvelope('<xml><Encrypt>abc</Encrypt></xml>'), {
    toUserName: undefined,
    encrypt: 'abc',
  })
})

test('rejects an envelope without or with an empty Encrypt (MESSAGE_INVALID)', () => {
  assertCode(() => readEnvelope('<xml><ToUserName>gh</ToUserName></xml>'), 'MESSAGE_INVALID')
  assertCode(() => readEnvelope('<xml><Encrypt></Encrypt></xml>'), 'MESSAGE_INVALID')
  assertCode(() => readEnvelope('<xml><Encrypt><A>1</A></Encrypt></xml>'), 'MESSAGE_INVALID')
})

test('rejects an encrypted reply missing any of its four fields (MESSAGE_INVALID)', () => {
  const full = { Encrypt: 'e', MsgSignature: 's', TimeStamp: '1', Nonce: 'n' }
  for (const missing of Object.keys(full)) {
    const parts = Object.entries(full)
      .filter(([name]) => name !== missing)
      .map(([name, value]) => `<${name}>${value}</${name}>`)
      .join('')
    assertCode(() => readEncryptedReply(`<xml>${parts}</xml>`), 'MESSAGE_INVALID')
  }
})

test('passes XML errors of the codec through', () => {
  assertCode(() => readEnvelope('not xml'), 'XML_INVALID')
  assertCode(
    () => readEnvelope(`<xml><Encrypt>${'a'.repeat(70_000)}</Encrypt></xml>`),
    'XML_TOO_LARGE',
  )
})
