// Pushes: signatures and the three body modes (checked by independent code proven on the vectors), retries, replies.
import assert from 'node:assert/strict'
import { createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { after, before, beforeEach, describe, it } from 'node:test'
import { createMessageCrypto, parseInbound, parseXml, renderReply, textReply } from '@wxgate/wechat'
import type { XmlRecord } from '@wxgate/wechat'
import {
  startTestSimulator,
  TEST_AES_KEY,
  TEST_APP_ID,
  TEST_TOKEN,
} from '../start-test-simulator.js'
import type { TestSimulator } from '../start-test-simulator.js'
import { startGatewayStub } from './start-gateway-stub.js'
import type { GatewayStub, ReceivedPush } from './start-gateway-stub.js'

const vectorDir = new URL('../../../../shared/wechat-protocol/vectors/', import.meta.url)
const readVectors = <T>(file: string): T[] =>
  (JSON.parse(readFileSync(new URL(file, vectorDir), 'utf8')) as { vectors: T[] }).vectors

interface SignatureVector {
  id: string
  inputs: { parts: Record<string, string> }
  expected: { sha1_hex: string }
}
interface InboundVector {
  id: string
  inputs: {
    token: string
    encoding_aes_key: string
    receive_id: string
    query: Record<string, string>
    envelope: string
  }
  expected: { random_hex: string; msg: string; fields: Record<string, string> }
}

function textOf(fields: XmlRecord, name: string): string {
  const value = fields[name]
  assert.equal(typeof value, 'string', name)
  return value as string
}

/** Independent of @wxgate/wechat: sha1 over the sorted parts (proven on the shared vectors below). */
function sha1Sorted(parts: string[]): string {
  return createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex')
}

/** Independent of @wxgate/wechat: AES-256-CBC, IV = key[0..16], 32-byte PKCS#7, trailing appId. */
function decryptIndependently(
  encrypt: string,
  encodingAesKey: string,
): { msg: string; appId: string } {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64')
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false)
  const full = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()])
  const pad = full[full.length - 1] ?? 0
  const body = full.subarray(0, full.length - pad)
  const length = body.readUInt32BE(16)
  return {
    msg: body.subarray(20, 20 + length).toString('utf8'),
    appId: body.subarray(20 + length).toString('utf8'),
  }
}

describe('independent verifiers used against the simulator', () => {
  it('reproduce every sha1 signature vector', () => {
    for (const vector of readVectors<SignatureVector>('mp_signature.json')) {
      assert.equal(
        sha1Sorted(Object.values(vector.inputs.parts)),
        vector.expected.sha1_hex,
        vector.id,
      )
    }
  })
  it('decrypt the generated inbound vector', () => {
    const vector = readVectors<InboundVector>('generated_mp.json').find(
      (candidate) => candidate.id === 'mp_decrypt_generated_xml_inbound_text',
    )
    assert.ok(vector)
    const encrypt = textOf(parseXml(vector.inputs.envelope), 'Encrypt')
    const opened = decryptIndependently(encrypt, vector.inputs.encoding_aes_key)
    assert.equal(opened.msg, vector.expected.msg)
    assert.equal(opened.appId, vector.inputs.receive_id)
  })
})

describe('pushes to the gateway', () => {
  let gateway: GatewayStub
  let sim: TestSimulator
  before(async () => {
    gateway = await startGatewayStub()
    sim = await startTestSimulator({
      pushUrl: gateway.url,
      encodingAesKey: TEST_AES_KEY,
      pushTimeoutMs: 300,
    })
    sim.platform.addUser({ openId: 'oFan', subscribed: true })
  })
  after(async () => {
    await sim.close()
    await gateway.close()
  })
  beforeEach(() => {
    gateway.received.length = 0
    gateway.respond = () => ({ body: 'success' })
    sim.settings.pushMode = 'plaintext'
  })

  const checkQuerySignature = (push: ReceivedPush) => {
    const { signature, timestamp, nonce } = push.query
    assert.ok(signature && timestamp && nonce)
    assert.equal(signature, sha1Sorted([TEST_TOKEN, timestamp, nonce]))
    assert.match(timestamp, /^\d{10}$/)
    assert.ok(Math.abs(Number(timestamp) - Math.floor(Date.now() / 1000)) <= 2)
  }

  it('sends plaintext pushes with a valid signature, timestamp, nonce and openid, body unencrypted', async () => {
    const result = await sim.phone.sendText('oFan', 'hello ]]> & <b>')
    assert.equal(result.ok, true)
    assert.equal(result.attempts, 1)
    const push = gateway.received[0]
    assert.ok(push)
    checkQuerySignature(push)
    assert.equal(push.query.openid, 'oFan')
    assert.equal(push.query.encrypt_type, undefined)
    assert.equal(push.query.msg_signature, undefined)
    const message = parseInbound(push.body)
    assert.equal(message.msgType, 'text')
    assert.equal(message.msgType === 'text' ? message.content : '', 'hello ]]> & <b>')
    assert.equal(message.fromUserName, 'oFan')
    assert.equal(message.toUserName, sim.settings.originalId)
    assert.match(message.msgType === 'text' ? message.msgId : '', /^\d{19}$/)
  })

  it('sends compatible pushes: plain fields and Encrypt, encrypt_type=aes and a msg_signature', async () => {
    sim.settings.pushMode = 'compatible'
    await sim.phone.sendText('oFan', 'compat')
    const push = gateway.received[0]
    assert.ok(push)
    checkQuerySignature(push)
    const fields = parseXml(push.body)
    assert.equal(fields.Content, 'compat')
    const encrypt = textOf(fields, 'Encrypt')
    assert.equal(push.query.encrypt_type, 'aes')
    assert.equal(
      push.query.msg_signature,
      sha1Sorted([TEST_TOKEN, push.query.timestamp ?? '', push.query.nonce ?? '', encrypt]),
    )
    const opened = decryptIndependently(encrypt, TEST_AES_KEY)
    assert.equal(opened.appId, TEST_APP_ID)
    assert.equal(parseXml(opened.msg).Content, 'compat')
  })

  it('sends safe pushes: only ToUserName and Encrypt', async () => {
    sim.settings.pushMode = 'safe'
    await sim.phone.sendText('oFan', 'safe')
    const push = gateway.received[0]
    assert.ok(push)
    const fields = parseXml(push.body)
    assert.deepEqual(Object.keys(fields), ['ToUserName', 'Encrypt'])
    const encrypt = textOf(fields, 'Encrypt')
    assert.equal(
      push.query.msg_signature,
      sha1Sorted([TEST_TOKEN, push.query.timestamp ?? '', push.query.nonce ?? '', encrypt]),
    )
    assert.equal(parseXml(decryptIndependently(encrypt, TEST_AES_KEY).msg).Content, 'safe')
  })

  it('reproduces the shared safe-mode inbound vector byte for byte', async () => {
    const vector = readVectors<InboundVector>('generated_mp.json').find(
      (candidate) => candidate.id === 'mp_decrypt_generated_xml_inbound_text',
    )
    assert.ok(vector)
    const queued: Buffer[] = []
    const vectorGateway = await startGatewayStub()
    const vectorSim = await startTestSimulator({
      appId: vector.inputs.receive_id,
      token: vector.inputs.token,
      encodingAesKey: vector.inputs.encoding_aes_key,
      originalId: 'gh_7f083739789a',
      pushMode: 'safe',
      pushUrl: vectorGateway.url,
      now: () => Number(vector.inputs.query.timestamp) * 1000,
      randomBytes: (size) => queued.shift() ?? randomBytes(size),
    })
    try {
      const openId = vector.inputs.query.openid ?? ''
      vectorSim.platform.addUser({ openId, subscribed: true })
      const content = textOf(parseXml(vector.expected.msg), 'Content')
      const msgId = textOf(parseXml(vector.expected.msg), 'MsgId')
      // The nonce is nine random decimal digits plus one; then the 16 random bytes of the encryption.
      const nonce = String(Number(vector.inputs.query.nonce) - 1)
      queued.push(
        Buffer.from([...nonce].map(Number)),
        Buffer.from(vector.expected.random_hex, 'hex'),
      )
      await vectorSim.phone.sendText(openId, content, { msgId })
      const push = vectorGateway.received[0]
      assert.ok(push)
      assert.equal(push.body, vector.inputs.envelope)
      assert.deepEqual({ ...push.query }, vector.inputs.query)
    } finally {
      await vectorSim.close()
      await vectorGateway.close()
    }
  })

  it('tries three times when the gateway does not answer within the timeout, with the same message', async () => {
    gateway.respond = async () => {
      await new Promise((resolve) => setTimeout(resolve, 600))
      return { body: 'success' }
    }
    const result = await sim.phone.sendText('oFan', 'slow')
    assert.equal(result.ok, false)
    assert.equal(result.problem, 'NO_ANSWER')
    assert.equal(result.attempts, 3)
    assert.equal(
      result.record.attempts.every((attempt) => attempt.timedOut),
      true,
    )
    assert.equal(gateway.received.length, 3)
    const ids = gateway.received.map((push) => parseXml(push.body).MsgId)
    assert.equal(new Set(ids).size, 1)
  })

  it('accepts an empty answer and a valid plaintext text reply with the users swapped', async () => {
    gateway.respond = () => ({ body: '' })
    assert.equal((await sim.phone.sendText('oFan', 'a')).ok, true)
    gateway.respond = (push) => {
      const inbound = parseInbound(push.body)
      return {
        body: renderReply(
          textReply({
            toUser: inbound.fromUserName,
            fromUser: inbound.toUserName,
            content: 'hi back',
          }),
        ),
      }
    }
    const result = await sim.phone.sendText('oFan', 'b')
    assert.equal(result.ok, true)
    assert.equal(result.reply?.content, 'hi back')
    assert.equal(result.reply?.encrypted, false)
  })

  it('refuses replies with unswapped users, an unknown MsgType, a non-200 status or bad XML', async () => {
    const cases: [() => { status?: number; body: string }, string][] = [
      [
        () => ({
          body: renderReply(
            textReply({ toUser: sim.settings.originalId, fromUser: 'oFan', content: 'x' }),
          ),
        }),
        'REPLY_USERS_NOT_SWAPPED',
      ],
      [
        () => ({
          body: `<xml><ToUserName>oFan</ToUserName><FromUserName>${sim.settings.originalId}</FromUserName><CreateTime>1</CreateTime><MsgType>card</MsgType></xml>`,
        }),
        'REPLY_MESSAGE_INVALID',
      ],
      [() => ({ status: 500, body: 'success' }), 'HTTP_STATUS'],
      [() => ({ body: '<xml><oops>' }), 'REPLY_XML_INVALID'],
      [() => ({ body: '{"ok":true}' }), 'REPLY_XML_INVALID'],
    ]
    for (const [respond, problem] of cases) {
      gateway.respond = respond
      const result = await sim.phone.sendText('oFan', 'c')
      assert.equal(result.ok, false)
      assert.equal(result.problem, problem)
      assert.equal(result.attempts, 1)
    }
  })

  it('in safe mode requires an encrypted reply whose MsgSignature verifies, and accepts success', async () => {
    sim.settings.pushMode = 'safe'
    const crypto = createMessageCrypto({
      token: TEST_TOKEN,
      encodingAesKey: TEST_AES_KEY,
      appId: TEST_APP_ID,
    })
    const plain = renderReply(
      textReply({ toUser: 'oFan', fromUser: sim.settings.originalId, content: 'enc' }),
    )
    gateway.respond = () => ({
      body: crypto.encryptReply(plain, { timestamp: '1700000000', nonce: '42' }),
    })
    const good = await sim.phone.sendText('oFan', 'x')
    assert.equal(good.ok, true)
    assert.equal(good.reply?.encrypted, true)
    assert.equal(good.reply?.content, 'enc')
    gateway.respond = () => ({ body: plain })
    assert.equal((await sim.phone.sendText('oFan', 'y')).problem, 'REPLY_NOT_ENCRYPTED')
    gateway.respond = () => ({
      body: crypto
        .encryptReply(plain, { timestamp: '1700000000', nonce: '42' })
        .replace(/<Nonce>.*<\/Nonce>/, '<Nonce><![CDATA[43]]></Nonce>'),
    })
    assert.equal((await sim.phone.sendText('oFan', 'z')).problem, 'REPLY_SIGNATURE_MISMATCH')
    const other = createMessageCrypto({
      token: TEST_TOKEN,
      encodingAesKey: TEST_AES_KEY,
      appId: 'wx0000000000000000',
    })
    gateway.respond = () => ({
      body: other.encryptReply(plain, { timestamp: '1700000000', nonce: '42' }),
    })
    assert.equal((await sim.phone.sendText('oFan', 'w')).problem, 'REPLY_APPID_MISMATCH')
    gateway.respond = () => ({ body: 'success' })
    assert.equal((await sim.phone.sendText('oFan', 'v')).ok, true)
  })

  it('refuses an encrypted reply in plaintext mode', async () => {
    const crypto = createMessageCrypto({
      token: TEST_TOKEN,
      encodingAesKey: TEST_AES_KEY,
      appId: TEST_APP_ID,
    })
    const plain = renderReply(
      textReply({ toUser: 'oFan', fromUser: sim.settings.originalId, content: 'enc' }),
    )
    gateway.respond = () => ({ body: crypto.encryptReply(plain, { timestamp: '1', nonce: '2' }) })
    assert.equal(
      (await sim.phone.sendText('oFan', 'x')).problem,
      'REPLY_ENCRYPTED_IN_PLAINTEXT_MODE',
    )
  })

  it('redelivers a recorded push with the same CreateTime and MsgId', async () => {
    const first = await sim.phone.sendText('oFan', 'again')
    const second = await sim.phone.redeliver(first.record)
    assert.equal(second.ok, true)
    const [a, b] = gateway.received.map((push) => parseXml(push.body))
    assert.equal(a?.MsgId, b?.MsgId)
    assert.equal(a?.CreateTime, b?.CreateTime)
    assert.equal(sim.records.pushes.at(-1)?.plainXml, first.record.plainXml)
  })

  it('refuses to push without a push URL or, in safe mode, without an EncodingAESKey', async () => {
    const bare = await startTestSimulator()
    try {
      bare.platform.addUser({ openId: 'oFan', subscribed: true })
      await assert.rejects(bare.phone.sendText('oFan', 'x'), { code: 'PUSH_URL_MISSING' })
      bare.settings.pushUrl = gateway.url
      bare.settings.pushMode = 'safe'
      await assert.rejects(bare.phone.sendText('oFan', 'x'), { code: 'ENCODING_AES_KEY_MISSING' })
    } finally {
      await bare.close()
    }
  })
})
