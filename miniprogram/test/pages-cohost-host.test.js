// The host's side of co-hosting (连麦) under miniprogram-simulate against a
// real roomcast server: a viewer's request shows on the host page with
// accept and reject, an accepted co-host's live stream shows as a
// <live-player mode="RTC"> tile, and removing it ends its push (ffmpeg
// publishes as the co-host's <live-pusher> would).

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const P = require('./helpers/page')
const { startServer, startPublisher, waitFor } = require('./helpers/server')
const { createWx, callsOf } = require('./helpers/wx-shim')
const { createApi } = require('../utils/api')
const { ChatClient } = require('../utils/chat')

let srv
let hostWx
let guest // {wx, api, id}
let guestChat
let publisher
const pages = []

before(async () => {
  srv = await startServer(['-cohost-request-ttl', '2s', '-cohost-mix=false'])
  hostWx = createWx({ getCode: () => srv.wechat.issueCode('openid_cohost_host') })
  await P.launch(hostWx, srv.url)
  const gwx = createWx({ getCode: () => srv.wechat.issueCode('openid_cohost_guest') })
  guest = { wx: gwx, api: createApi({ baseURL: srv.url, wx: gwx }) }
  const login = await guest.api.login()
  guest.id = login.user.id
})

after(async () => {
  pages.forEach(p => p.instance.onUnload && p.instance.onUnload())
  if (guestChat) guestChat.close()
  if (publisher) await publisher.stop()
  if (srv) await srv.stop()
})

async function open(name, query) {
  const p = await P.open(name, query)
  pages.push(p)
  return p
}

test('host: requests with accept and reject, the co-host as an RTC tile with its state, removal ends its push, expiry', async () => {
  const app = getApp()
  const room = await app.api.createRoom({ title: '连麦测试' })
  const page = await open('anchor', { id: room.id })
  await waitFor(() => page.instance.data.chatState === 'open', 5000, 'host chat')

  guestChat = new ChatClient({ api: guest.api, wx: guest.wx, roomId: room.id })
  const answers = []
  guestChat.on('frame', f => { if (f.type === 'cohost_answer') answers.push(f.answer) })
  guestChat.connect()
  await waitFor(() => guestChat.state === 'open', 5000, 'guest chat')

  // A request shows; accepting makes the guest a co-host.
  assert.ok(guestChat.requestCohost())
  await waitFor(() => P.nodes(page, '.cohost-request').length === 1, 5000, 'request on the host page')
  assert.match(P.one(page, '.cohost-request').text, /申请连麦/)
  await P.fire(page, '.accept', 'tap')
  await waitFor(() => answers.includes('accepted'), 5000, 'guest told accepted')
  await waitFor(() => P.nodes(page, '.member').length === 1 && P.nodes(page, '.cohost-request').length === 0, 5000, 'member listed')
  assert.match(P.one(page, '.member').text, /未推流/)

  // The co-host pushes its own stream; the host sees it as an RTC tile.
  const push = await guest.api.pushURL(room.id)
  assert.match(push.url, new RegExp(`/live/${room.stream}-${guest.id}\\?`))
  publisher = startPublisher(push.url)
  await waitFor(() => P.nodes(page, 'live-player').length === 1, 20000, 'co-host tile')
  const tile = P.one(page, 'live-player')
  assert.equal(tile.attrs.mode, 'RTC')
  assert.equal(Number(tile.attrs.minCache), 0.1)
  assert.equal(Number(tile.attrs.maxCache), 0.3)
  const r = await app.api.getRoom(room.id)
  assert.equal(tile.attrs.src, r.members[1].play.rtmp)
  assert.match(P.one(page, '.member').text, /连麦中/)
  await P.fire(page, '.tile-player', 'statechange', { code: 2103 })
  assert.equal(P.one(page, '.tile-state').text, '网络断开，正在重连…')
  await P.fire(page, '.tile-player', 'statechange', { code: 2004 })
  assert.deepEqual(P.nodes(page, '.tile-state'), [])

  // Removing the co-host (after confirming) ends its push at once.
  await P.fire(page, '.remove-member', 'tap')
  assert.match(callsOf(hostWx, 'showModal').pop().args.content, /下麦/)
  await waitFor(() => publisher.proc.exitCode !== null || publisher.proc.signalCode !== null, 15000, 'co-host ffmpeg ended')
  await waitFor(() => P.nodes(page, '.member').length === 0 && P.nodes(page, 'live-player').length === 0, 5000, 'member gone')

  // Reject, then a request nobody answers expires.
  guestChat.requestCohost()
  await waitFor(() => P.nodes(page, '.cohost-request').length === 1, 5000, 'second request')
  await P.fire(page, '.reject', 'tap')
  await waitFor(() => answers.includes('rejected'), 5000, 'guest told rejected')
  await waitFor(() => P.nodes(page, '.cohost-request').length === 0, 5000, 'request gone')
  guestChat.requestCohost()
  await waitFor(() => P.nodes(page, '.cohost-request').length === 1, 5000, 'third request')
  await waitFor(() => answers.includes('expired'), 6000, 'guest told expired')
  await waitFor(() => P.nodes(page, '.cohost-request').length === 0, 5000, 'expired request gone')
})
