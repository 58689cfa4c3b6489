// The chat module against a real roomcast server: two clients talking,
// likes gathered into frames, moderation, and reconnection that resumes
// with ?since=.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { startServer, waitFor } = require('./helpers/server')
const { createWx } = require('./helpers/wx-shim')
const { createApi } = require('../utils/api')
const { ChatClient } = require('../utils/chat')

let srv
let host
let viewer
let room
const clients = []

before(async () => {
  srv = await startServer()
  host = user('openid_chat_host')
  viewer = user('openid_chat_viewer')
  await host.api.login()
  await viewer.api.login()
  room = await host.api.createRoom({ title: 'chat room' })
})

after(async () => {
  clients.forEach(c => c.close())
  if (srv) await srv.stop()
})

function user(openid) {
  const wx = createWx({ getCode: () => srv.wechat.issueCode(openid) })
  return { wx, api: createApi({ baseURL: srv.url, wx }) }
}

// client connects a ChatClient and records everything it emits.
function client(u, opts = {}) {
  const c = new ChatClient(Object.assign({ api: u.api, wx: u.wx, roomId: room.id, backoff: { min: 50, max: 200 } }, opts))
  c.log = []
  ;['state', 'welcome', 'history', 'message', 'likes', 'presence', 'notice', 'deleted', 'muted', 'unmuted', 'kicked', 'banned', 'error', 'pong', 'ended', 'started']
    .forEach(t => c.on(t, p => c.log.push({ t, p })))
  c.events = t => c.log.filter(e => e.t === t).map(e => e.p)
  clients.push(c)
  c.connect()
  return c
}

const opened = c => waitFor(() => c.state === 'open', 5000, 'chat open')

test('two clients chat; history for a late joiner', async () => {
  const a = client(host)
  const b = client(viewer)
  await opened(a)
  await opened(b)
  assert.equal(a.canModerate, true)
  assert.equal(b.canModerate, false)
  assert.equal(b.canSend, true)
  assert.ok(a.send('大家好'))
  const got = await waitFor(() => b.events('message').find(m => m.text === '大家好'), 5000, 'message at b')
  assert.equal(got.user.id, host.api.session().user.id)
  assert.ok(got.seq > 0)
  assert.ok(b.send('  主播好  '))
  await waitFor(() => a.events('message').find(m => m.text === '主播好'), 5000, 'reply at a')
  assert.equal(a.send('   '), false)

  const late = client(viewer)
  await opened(late)
  const h = await waitFor(() => late.events('history')[0], 5000, 'history')
  assert.deepEqual(h.messages.map(m => m.text).slice(-2), ['大家好', '主播好'])
  assert.equal(h.resumed, false)
  assert.equal(late.lastSeq, got.seq + 1)
  // presence counts the three connections.
  await waitFor(() => late.online >= 3, 5000, 'online count')
  late.close()
  a.close()
  b.close()
})

test('likes are gathered into one frame and counted by the server', async () => {
  const a = client(viewer, { likeFlushMs: 200 })
  const watch = client(host)
  await opened(a)
  await opened(watch)
  const before = a.likesTotal
  const sent = []
  const orig = a.task.send.bind(a.task)
  a.task.send = o => { sent.push(JSON.parse(o.data)); orig(o) }
  for (let i = 0; i < 7; i++) a.like()
  assert.equal(a.likes, before + 7) // shown at once
  assert.equal(sent.length, 0) // not sent yet
  await waitFor(() => sent.length === 1, 2000, 'like frame')
  assert.deepEqual(sent[0], { type: 'like', count: 7 })
  await waitFor(() => watch.likesTotal === before + 7, 5000, 'likes total at the other client')
  // More than 100 taps go out as several frames of at most 100; the
  // server takes bursts of 100, so after a refill the first frame counts and
  // the second is refused as too fast.
  await new Promise(r => setTimeout(r, 500))
  a.like(150)
  a.flushLikes()
  assert.deepEqual(sent.slice(1), [{ type: 'like', count: 100 }, { type: 'like', count: 50 }])
  await waitFor(() => watch.likesTotal === before + 107, 5000, 'likes total after 107')
  const err = await waitFor(() => a.events('error').find(e => e.code === 'rate_limited'), 5000, 'rate limited')
  assert.equal(err.userMessage, '发言太快了，请稍等')
  a.close()
  watch.close()
})

test('a guest reads but cannot send', async () => {
  const wx = createWx({ getCode: () => { throw new Error('guest does not log in') } })
  const guest = { wx, api: createApi({ baseURL: srv.url, wx }) }
  const g = client(guest)
  await opened(g)
  assert.equal(g.user, null)
  assert.equal(g.canSend, false)
  assert.equal(g.send('hi'), false)
  g.close()
})

test('reconnection resumes with since and misses nothing', async () => {
  const b = client(viewer, { backoff: { min: 400, max: 400, jitter: 0 } })
  const a = client(host)
  await opened(b)
  await opened(a)
  a.send('before the drop')
  await waitFor(() => b.events('message').find(m => m.text === 'before the drop'), 5000, 'first message')
  const seqBefore = b.lastSeq
  // The network drops: the socket dies without a close frame.
  b.task.ws.terminate()
  await waitFor(() => b.events('state').some(e => e.state === 'reconnecting' && e.delay === 400), 2000, 'reconnecting')
  a.send('while away 1')
  a.send('while away 2')
  await waitFor(() => b.state === 'open' && b.connects === 2, 5000, 'reconnected')
  const last = viewer.wx.sockets[viewer.wx.sockets.length - 1]
  assert.match(last.url, new RegExp(`since=${seqBefore}(&|$)`))
  await waitFor(() => b.events('history').length === 2, 5000, 'resumed history')
  const h = b.events('history')[1]
  assert.equal(h.resumed, true)
  const away = h.messages.map(m => m.text)
  // Messages sent while away come in the resumed history (or live after it), each once.
  await waitFor(() => {
    const all = away.concat(b.events('message').map(m => m.text))
    return all.filter(t => t === 'while away 1').length === 1 && all.filter(t => t === 'while away 2').length === 1
  }, 5000, 'missed messages')
  const all = h.messages.concat(b.events('message'))
  assert.equal(all.filter(m => m.text === 'before the drop').length, 1)
  a.close()
  b.close()
})

test('a dead connection is noticed by the ping and replaced', async () => {
  const b = client(viewer, { pingInterval: 100, pongTimeout: 300 })
  await opened(b)
  // Stop the server's answers reaching the client, as on a dead network.
  b.task.ws.pause()
  await waitFor(() => b.connects === 2 && b.state === 'open', 5000, 'reconnect after pong timeout')
  b.close()
})

test('moderation: the host mutes and kicks; a kicked viewer does not reconnect', async () => {
  const a = client(host)
  const b = client(viewer)
  await opened(a)
  await opened(b)
  const viewerId = viewer.api.session().user.id
  assert.ok(a.moderate('mute', { user_id: viewerId, seconds: 60 }))
  await waitFor(() => b.events('muted').length === 1, 5000, 'muted')
  assert.equal(b.canSend, false)
  a.moderate('unmute', { user_id: viewerId })
  await waitFor(() => b.events('unmuted').length === 1, 5000, 'unmuted')
  assert.equal(b.canSend, true)

  b.send('to be deleted')
  const m = await waitFor(() => a.events('message').find(x => x.text === 'to be deleted'), 5000, 'message')
  a.moderate('delete', { message_id: m.id })
  await waitFor(() => b.events('deleted').find(d => d.id === m.id), 5000, 'deleted')

  a.moderate('pin', { text: '八点抽奖' })
  await waitFor(() => b.pinned === '八点抽奖', 5000, 'pinned')

  // A viewer cannot moderate.
  b.moderate('unpin')
  const err = await waitFor(() => b.events('error').find(e => e.code === 'forbidden'), 5000, 'forbidden')
  assert.equal(err.userMessage, '只有主播和管理员可以管理直播间')
  assert.throws(() => b.moderate('explode'), /unknown moderation action/)

  a.moderate('kick', { user_id: viewerId, seconds: 60 })
  await waitFor(() => b.state === 'closed', 5000, 'kicked closed')
  assert.equal(b.events('kicked').length, 1)
  const connects = b.connects
  await new Promise(r => setTimeout(r, 400))
  assert.equal(b.connects, connects, 'no reconnect after a kick')
  a.moderate('unban', { user_id: viewerId })
  a.close()
})

test('a room that is gone stops the reconnecting', async () => {
  const r = await host.api.createRoom({ title: 'short lived' })
  await host.api.deleteRoom(r.id)
  const c = new ChatClient({ api: viewer.api, wx: viewer.wx, roomId: r.id, backoff: { min: 50, max: 100 } })
  clients.push(c)
  const states = []
  c.on('state', s => states.push(s))
  c.connect()
  await waitFor(() => c.state === 'closed', 5000, 'closed')
  assert.equal(states[states.length - 1].reason, 'not_found')
  assert.equal(c.connects, 1)
})

test('deleting the room closes its chat for good: notice room_deleted, no reconnect', async () => {
  const r = await host.api.createRoom({ title: 'deleted while watched' })
  const c = client(viewer, { roomId: r.id })
  await opened(c)
  await host.api.deleteRoom(r.id)
  await waitFor(() => c.state === 'closed', 5000, 'closed')
  assert.ok(c.events('notice').find(n => n.kind === 'room_deleted'), 'room_deleted notice')
  const closed = c.events('state').pop()
  assert.equal(closed.code, 1000)
  assert.equal(closed.reason, 'room_deleted')
  await new Promise(res => setTimeout(res, 300))
  assert.equal(c.connects, 1, 'no reconnect after the room was deleted')
})

test('a skipped notice: the gap is fetched from the server and put in its place', async () => {
  const { bindChat } = require('../utils/chat-view')
  const a = client(host)
  const b = client(viewer, { gapDelay: () => 20 })
  ;['skipped', 'missed'].forEach(t => b.on(t, p => b.log.push({ t, p })))
  const page = { data: {}, setData(d) { Object.assign(this.data, d) } }
  const unbind = bindChat(page, b)
  await opened(a)
  await opened(b)
  // b falls behind as the server sees it: gap 2 and gap 3 never reach it,
  // a skipped notice comes before gap 4 instead.
  const dropped = []
  const handle = b.handleFrame.bind(b)
  b.handleFrame = f => {
    if (f.type === 'chat' && (f.text === 'gap 2' || f.text === 'gap 3')) return void dropped.push(f.seq)
    if (f.type === 'chat' && f.text === 'gap 4') handle({ type: 'notice', kind: 'skipped', count: 2, last_seq: dropped[1] })
    handle(f)
  }
  const texts = ['gap 1', 'gap 2', 'gap 3', 'gap 4']
  texts.forEach(t => assert.ok(a.send(t)))
  await waitFor(() => b.events('message').find(m => m.text === 'gap 4'), 5000, 'the messages at b')
  assert.deepEqual(b.events('message').filter(m => texts.includes(m.text)).map(m => m.text), ['gap 1', 'gap 4'])
  assert.deepEqual(b.events('skipped'), [{ count: 2, lastSeq: dropped[1] }])
  const missed = await waitFor(() => b.events('missed')[0], 5000, 'the fetched gap')
  assert.deepEqual(missed.messages.map(m => m.text), ['gap 2', 'gap 3'])
  // On the page they are back in seq order, each once.
  await waitFor(() => page.data.messages.filter(m => texts.includes(m.text)).length === 4, 2000, 'the page filled')
  assert.deepEqual(page.data.messages.filter(m => texts.includes(m.text)).map(m => m.text), texts)
  unbind()
  a.close()
  b.close()
})

test('a skipped notice: close gaps are fetched once; a failed fetch is reported', async () => {
  const fetched = []
  let fail = false
  const api = {
    chatURL: () => 'ws://127.0.0.1:1/never',
    messages: (roomId, params) => {
      fetched.push(params)
      return fail ? Promise.reject(new Error('offline')) : Promise.resolve({ messages: [] })
    },
  }
  const c = new ChatClient({ api, roomId: 'room_x', wx: {}, gapDelay: () => 10 })
  c.stopped = false
  const errors = []
  c.on('error', e => errors.push(e.code))
  c.handleData(JSON.stringify({ type: 'notice', kind: 'skipped', count: 3, last_seq: 10 }))
  c.handleData(JSON.stringify({ type: 'notice', kind: 'skipped', count: 900, last_seq: 1000 }))
  c.handleData(JSON.stringify({ type: 'notice', kind: 'skipped', count: 'x' }))
  await waitFor(() => fetched.length === 1, 2000, 'one fetch')
  assert.deepEqual(fetched[0], { before: 1001, limit: 500 })
  assert.equal(c.lastSeq, 1000)
  fail = true
  c.handleData(JSON.stringify({ type: 'notice', kind: 'skipped', count: 1, last_seq: 1001 }))
  await waitFor(() => errors.length === 1, 2000, 'the failure reported')
  assert.deepEqual(errors, ['skipped_fetch_failed'])
  c.handleData(JSON.stringify({ type: 'notice', kind: 'skipped', count: 1, last_seq: 1002 }))
  c.close()
  await new Promise(r => setTimeout(r, 50))
  assert.equal(fetched.length, 2, 'no fetch after close')
})
