import { afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { buildXml, parseInbound } from '@wxgate/wechat'
import type { InboundMessage } from '@wxgate/wechat'
import type { InternalResponse } from '@wxgate/internal-api'
import { openSpool } from '../spool/spool.js'
import { createSpoolWorker } from '../spool/spool-worker.js'
import type { SpoolWorker } from '../spool/spool-worker.js'
import { isEventJob } from './app-calls.js'
import type { AppClient, EventJob } from './app-calls.js'
import { createMemoryDedupeStore } from './dedupe.js'
import type { DedupeStore } from './dedupe.js'
import { createEventDispatcher, jobForMessage, SpoolWriteError } from './dispatch.js'

const replies = { welcome: 'WELCOME', loginSuccess: 'LOGGED IN', fallback: undefined }
const log = Fastify({ logger: false }).log
const context = { requestId: 'req-1', log }

function message(fields: Record<string, string | number>): InboundMessage {
  return parseInbound(
    buildXml({
      ToUserName: 'gh_test',
      FromUserName: 'o-user',
      CreateTime: 1_700_000_000,
      ...fields,
    }),
  )
}
const follow = (eventKey?: string) =>
  message({
    MsgType: 'event',
    Event: 'subscribe',
    ...(eventKey === undefined ? {} : { EventKey: eventKey }),
  })
const scan = (eventKey: string) => message({ MsgType: 'event', Event: 'SCAN', EventKey: eventKey })

type Answer = number | 'throw'
/** A client whose answers are scripted per call name; records what it was asked. */
function scriptedClient(answers: Partial<Record<string, Answer>> = {}) {
  const calls: string[] = []
  const answer = (name: string) => (): Promise<InternalResponse> => {
    calls.push(name)
    const a = answers[name] ?? 200
    if (a === 'throw') return Promise.reject(new Error('unreachable'))
    return Promise.resolve({ status: a, body: {} })
  }
  const client: AppClient = {
    createOrUpdateUser: answer('user'),
    updateBinding: answer('update'),
    createBinding: answer('create'),
    updateOrder: answer('order'),
    ready: answer('ready'),
  }
  return { client, calls }
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function unstartedWorker(): Promise<SpoolWorker<EventJob>> {
  const dir = await mkdtemp(join(tmpdir(), 'gateway-dispatch-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const spool = await openSpool({ dir, isPayload: isEventJob })
  const worker = createSpoolWorker({ spool, deliver: () => Promise.resolve('done' as const) })
  cleanups.push(() => worker.stop())
  return worker
}

async function dispatcherWith(
  answers: Partial<Record<string, Answer>> = {},
  dedupe: DedupeStore = createMemoryDedupeStore(),
) {
  const { client, calls } = scriptedClient(answers)
  const worker = await unstartedWorker()
  const dispatcher = createEventDispatcher({ client, dedupe, worker, replies, deadlineMs: 500 })
  return { dispatcher, calls, worker }
}

describe('jobForMessage', () => {
  it('maps follows, scans and unfollows to their effect on app and ignores the rest', () => {
    assert.deepEqual(jobForMessage(follow()), {
      openId: 'o-user',
      eventTime: 1_700_000_000,
      subscribed: true,
    })
    assert.deepEqual(jobForMessage(follow('qrscene_abc'))?.binding, {
      sceneStr: 'abc',
      event: 'subscribe',
    })
    assert.deepEqual(jobForMessage(scan('abc'))?.binding, { sceneStr: 'abc', event: 'SCAN' })
    assert.equal(
      jobForMessage(message({ MsgType: 'event', Event: 'unsubscribe' }))?.subscribed,
      false,
    )
    assert.equal(jobForMessage(message({ MsgType: 'text', Content: 'hi', MsgId: '1' })), undefined)
    assert.equal(
      jobForMessage(message({ MsgType: 'event', Event: 'CLICK', EventKey: 'k' })),
      undefined,
    )
  })
})

describe('event dispatcher', () => {
  it('welcomes a plain follow after app took it', async () => {
    const { dispatcher, calls } = await dispatcherWith()
    assert.deepEqual(await dispatcher.dispatch(follow(), context), {
      outcome: 'delivered',
      replyText: 'WELCOME',
    })
    assert.deepEqual(calls, ['user'])
  })

  it('answers a login follow and a scan with the login-success text', async () => {
    const { dispatcher, calls } = await dispatcherWith()
    assert.equal((await dispatcher.dispatch(follow('qrscene_s1'), context)).replyText, 'LOGGED IN')
    assert.equal((await dispatcher.dispatch(scan('s2'), { ...context })).replyText, 'LOGGED IN')
    assert.deepEqual(calls, ['user', 'update', 'user', 'update'])
  })

  it('welcomes a follow through a channel QR that app does not know as a login scene', async () => {
    const { dispatcher, calls } = await dispatcherWith({ update: 404 })
    const result = await dispatcher.dispatch(follow('qrscene_channel'), context)
    assert.deepEqual(result, { outcome: 'delivered', replyText: 'WELCOME' })
    assert.deepEqual(calls, ['user', 'update', 'create'])
  })

  it('replies to a follow through a QR code app has not answered for by its scene: login_… is a login', async () => {
    // A WeChat retry (duplicate) and an event kept for later both have no answer from app.
    const { dispatcher } = await dispatcherWith({ user: 'throw' })
    const login = await dispatcher.dispatch(follow('qrscene_login_abc'), context)
    assert.deepEqual(login, { outcome: 'spooled', replyText: 'LOGGED IN' })
    // A follow through a channel code, then WeChat's retry of it.
    const channelFollow = message({
      MsgType: 'event',
      Event: 'subscribe',
      EventKey: 'qrscene_promo',
      FromUserName: 'o-2',
    })
    const channel = await dispatcher.dispatch(channelFollow, context)
    assert.deepEqual(channel, { outcome: 'spooled', replyText: 'WELCOME' })
    const retry = await dispatcher.dispatch(channelFollow, context)
    assert.deepEqual(retry, { outcome: 'duplicate', replyText: 'WELCOME' })
  })

  it('answers `success` to an unfollow and to messages with no effect', async () => {
    const { dispatcher, calls } = await dispatcherWith()
    const unfollow = await dispatcher.dispatch(
      message({ MsgType: 'event', Event: 'unsubscribe' }),
      context,
    )
    assert.deepEqual(unfollow, { outcome: 'delivered', replyText: undefined })
    const text = await dispatcher.dispatch(
      message({ MsgType: 'text', Content: 'hi', MsgId: '9' }),
      context,
    )
    assert.deepEqual(text, { outcome: 'ignored', replyText: undefined })
    assert.deepEqual(calls, ['user'])
  })

  it('has one effect for WeChat retries of the same event, and still replies to them', async () => {
    const { dispatcher, calls } = await dispatcherWith()
    await dispatcher.dispatch(follow(), context)
    const retry = await dispatcher.dispatch(follow(), context)
    assert.deepEqual(retry, { outcome: 'duplicate', replyText: 'WELCOME' })
    assert.deepEqual(calls, ['user'])
  })

  it('takes two scans of different codes by one user within a second as two events', async () => {
    const { dispatcher, calls } = await dispatcherWith()
    assert.equal((await dispatcher.dispatch(scan('first'), context)).outcome, 'delivered')
    assert.equal((await dispatcher.dispatch(scan('second'), context)).outcome, 'delivered')
    assert.equal((await dispatcher.dispatch(scan('second'), context)).outcome, 'duplicate')
    assert.deepEqual(calls, ['user', 'update', 'user', 'update'])
  })

  it('spools the event when app is down, and queues later events of that user behind it', async () => {
    const { dispatcher, calls, worker } = await dispatcherWith({ user: 'throw' })
    const first = await dispatcher.dispatch(follow(), context)
    assert.deepEqual(first, { outcome: 'spooled', replyText: 'WELCOME' })
    assert.equal(worker.depth(), 1)
    const later = message({ MsgType: 'event', Event: 'unsubscribe', CreateTime: 1_700_000_100 })
    assert.equal((await dispatcher.dispatch(later, context)).outcome, 'spooled')
    assert.deepEqual(calls, ['user'], 'the second event never overtook the first')
    assert.equal(worker.depth(), 2)
  })

  it('spools the event when app answers 5xx, and drops it when app refuses it for good', async () => {
    const failing = await dispatcherWith({ user: 502 })
    assert.equal((await failing.dispatcher.dispatch(follow(), context)).outcome, 'spooled')
    const refusing = await dispatcherWith({ user: 400 })
    assert.equal((await refusing.dispatcher.dispatch(follow(), context)).outcome, 'dropped')
    assert.equal(refusing.worker.depth(), 0)
  })

  it('releases the claim when the event could neither be delivered nor spooled', async () => {
    const dedupe = createMemoryDedupeStore()
    const { client } = scriptedClient({ user: 'throw' })
    const worker = await unstartedWorker()
    const broken: SpoolWorker<EventJob> = {
      ...worker,
      enqueue: () => Promise.reject(new Error('disk full')),
    }
    const dispatcher = createEventDispatcher({
      client,
      dedupe,
      worker: broken,
      replies,
      deadlineMs: 500,
    })
    await assert.rejects(dispatcher.dispatch(follow(), context), SpoolWriteError)
    const again = createEventDispatcher({ client, dedupe, worker, replies, deadlineMs: 500 })
    assert.equal(
      (await again.dispatch(follow(), context)).outcome,
      'spooled',
      'the retry is processed',
    )
  })

  it("frees the claim of a gateway that died mid-event for WeChat's retry, and holds a recorded one", async () => {
    let clock = 1_000_000
    const dedupe = createMemoryDedupeStore({ now: () => clock })
    // The first gateway: app never answers and the spool write never ends, as if the process died.
    const hanging: AppClient = {
      ...scriptedClient().client,
      createOrUpdateUser: () => new Promise<InternalResponse>(() => {}),
    }
    const worker = await unstartedWorker()
    const dying = createEventDispatcher({
      client: hanging,
      dedupe,
      worker: { ...worker, enqueue: () => new Promise<never>(() => {}) },
      replies,
      deadlineMs: 500,
    })
    void dying.dispatch(follow(), context)
    await new Promise((resolve) => setImmediate(resolve))
    // A second gateway gets WeChat's retry 5 s later: the short claim (deadline + 2 s) has lapsed.
    clock += 5_000
    const { dispatcher, calls } = await dispatcherWith({}, dedupe)
    assert.equal((await dispatcher.dispatch(follow(), context)).outcome, 'delivered')
    assert.deepEqual(calls, ['user'])
    // Once recorded, the claim is held for the hour: a later retry has no effect.
    clock += 60_000
    assert.equal((await dispatcher.dispatch(follow(), context)).outcome, 'duplicate')
    assert.deepEqual(calls, ['user'])
  })

  it('processes events when the dedupe store is unavailable', async () => {
    const down: DedupeStore = {
      claim: () => Promise.reject(new Error('redis down')),
      isHeld: () => Promise.reject(new Error('redis down')),
      hold: () => Promise.reject(new Error('redis down')),
      release: () => Promise.resolve(),
      close: () => Promise.resolve(),
    }
    const { dispatcher, calls } = await dispatcherWith({}, down)
    assert.equal((await dispatcher.dispatch(follow(), context)).outcome, 'delivered')
    assert.deepEqual(calls, ['user'])
  })
})
