import { after, before, beforeEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createInternalClient } from '@wxgate/internal-api'
import type { InternalClient } from '@wxgate/internal-api'
import { startFakeApp } from '../testing/fake-app.js'
import type { FakeApp } from '../testing/fake-app.js'
import { isEventJob, isRetryableStatus, runEventJob } from './app-calls.js'
import type { EventJob } from './app-calls.js'

const SECRET = 'an-internal-secret-of-at-least-32-chars!'
const USER = '/api/v1/internal/user/create-or-update'
const UPDATE = '/api/v1/internal/binding/update'
const CREATE = '/api/v1/internal/binding/create'

const scan: EventJob = {
  openId: 'o-user-1',
  eventTime: 1_700_000_000,
  subscribed: true,
  binding: { sceneStr: 'scene-1', event: 'SCAN' },
}

describe('runEventJob', () => {
  let fake: FakeApp
  let client: InternalClient
  before(async () => {
    fake = await startFakeApp({ secret: SECRET })
    client = createInternalClient({ baseUrl: fake.url, secret: SECRET, timeoutMs: 2000 })
  })
  after(async () => {
    await client.close()
    await fake.close()
  })
  beforeEach(() => {
    fake.calls.length = 0
    fake.onAny({ status: 200, body: {} })
    fake.on(USER, { status: 200, body: {} })
    fake.on(UPDATE, { status: 200, body: {} })
    fake.on(CREATE, { status: 200, body: {} })
  })
  const run = (job: EventJob, ms = 1000) =>
    runEventJob(client, job, { requestId: 'req-1', signal: AbortSignal.timeout(ms) })

  it('updates the user, then the binding, with signed calls carrying the request id', async () => {
    const result = await run(scan)
    assert.deepEqual(result, { outcome: 'accepted', binding: 'updated' })
    assert.deepEqual(
      fake.calls.map((c) => `${c.method} ${c.path}`),
      [`POST ${USER}`, `PUT ${UPDATE}`],
    )
    assert.ok(fake.calls.every((c) => c.signed && c.headers['x-request-id'] === 'req-1'))
    assert.deepEqual(fake.calls[0]?.body, {
      openid: 'o-user-1',
      subscribed: true,
      event_time: 1_700_000_000,
    })
    assert.deepEqual(fake.calls[1]?.body, {
      scene_str: 'scene-1',
      openid: 'o-user-1',
      event: 'SCAN',
      event_time: 1_700_000_000,
    })
  })

  it('falls back to binding/create when app does not know the scene', async () => {
    fake.on(UPDATE, { status: 404, body: { code: 'SCENE_NOT_FOUND' } })
    assert.deepEqual(await run(scan), { outcome: 'accepted', binding: 'created' })
    assert.equal(fake.callsTo(CREATE).length, 1)
  })

  it('reports a binding refused for good (410 expired) as accepted without a binding', async () => {
    fake.on(UPDATE, { status: 410 })
    assert.deepEqual(await run(scan), {
      outcome: 'accepted',
      binding: 'refused',
      bindingStatus: 410,
    })
    assert.equal(fake.callsTo(CREATE).length, 0)
  })

  it('reports 404 after the binding/create fallback as refused for good', async () => {
    fake.on(UPDATE, { status: 404 })
    fake.on(CREATE, { status: 404 })
    assert.deepEqual(await run(scan), {
      outcome: 'accepted',
      binding: 'refused',
      bindingStatus: 404,
    })
  })

  it('asks for a retry when app answers 5xx', async () => {
    fake.on(UPDATE, { status: 503 })
    assert.deepEqual(await run(scan), { outcome: 'retry', call: 'binding/update', status: 503 })
  })

  it('asks for a retry when app drops the connection', async () => {
    fake.on(USER, 'reset')
    assert.deepEqual(await run(scan), {
      outcome: 'retry',
      call: 'user/create-or-update',
      status: 'unreachable',
    })
  })

  it('gives up at the deadline when app is slow', async () => {
    fake.on(USER, { status: 200, delayMs: 2000 })
    const started = Date.now()
    const result = await run(scan, 150)
    assert.deepEqual(result, {
      outcome: 'retry',
      call: 'user/create-or-update',
      status: 'unreachable',
    })
    assert.ok(Date.now() - started < 1000, 'answered near the deadline')
  })

  it('reports a 4xx on the user call as refused for good', async () => {
    fake.on(USER, { status: 400 })
    assert.deepEqual(await run(scan), {
      outcome: 'refused',
      call: 'user/create-or-update',
      status: 400,
    })
    assert.equal(fake.callsTo(UPDATE).length, 0)
  })

  it('sends only the user update for an unsubscribe', async () => {
    const result = await run({ openId: 'o2', eventTime: 5, subscribed: false })
    assert.deepEqual(result, { outcome: 'accepted', binding: 'none' })
    assert.deepEqual(
      fake.calls.map((c) => c.body),
      [{ openid: 'o2', subscribed: false, event_time: 5 }],
    )
  })
})

describe('isRetryableStatus', () => {
  it('retries app trouble and fixable auth problems, not requests that can never succeed', () => {
    assert.deepEqual([500, 502, 503, 429, 401, 403, 408].map(isRetryableStatus), [
      true,
      true,
      true,
      true,
      true,
      true,
      true,
    ])
    assert.deepEqual([400, 404, 409, 410, 422].map(isRetryableStatus), [
      false,
      false,
      false,
      false,
      false,
    ])
  })
})

describe('isEventJob', () => {
  it('accepts jobs as the spool stores them and refuses other shapes', () => {
    assert.equal(isEventJob(JSON.parse(JSON.stringify(scan))), true)
    assert.equal(isEventJob({ openId: 'o', eventTime: 1, subscribed: true }), true)
    assert.equal(isEventJob({ openId: 'o', eventTime: '1', subscribed: true }), false)
    assert.equal(isEventJob({ ...scan, binding: { sceneStr: 's', event: 'CLICK' } }), false)
    assert.equal(isEventJob(null), false)
  })
})
