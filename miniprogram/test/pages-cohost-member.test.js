// The requester's side of co-hosting (连麦) under miniprogram-simulate
// against a real roomcast server: 申请连麦 on the room page, the host
// accepts, the member page pushes with <live-pusher mode="RTC"> to the
// co-host's own URL and plays the host from the subscribe list with
// <live-player mode="RTC" min-cache="0.1" max-cache="0.3">; status codes
// become messages; 下麦 leaves and returns to watching.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const P = require('./helpers/page')
const { startServer, startPublisher, waitFor } = require('./helpers/server')
const { createWx, callsOf } = require('./helpers/wx-shim')
const { createApi } = require('../utils/api')
const { ChatClient } = require('../utils/chat')

let srv
let viewerWx
let host // {wx, api}
let hostChat
let hostPub
let memberPub
let room
const pages = []

before(async () => {
  srv = await startServer(['-cohost-mix=false'])
  const hwx = createWx({ getCode: () => srv.wechat.issueCode('openid_member_host') })
  host = { wx: hwx, api: createApi({ baseURL: srv.url, wx: hwx }) }
  await host.api.login()
  room = await host.api.createRoom({ title: '一起连麦' })
  hostPub = startPublisher((await host.api.pushURL(room.id)).url)
  await waitFor(async () => (await host.api.getRoom(room.id)).status === 'live', 15000, 'room live')
  viewerWx = createWx({ getCode: () => srv.wechat.issueCode('openid_member_viewer') })
  await P.launch(viewerWx, srv.url)
})

after(async () => {
  pages.forEach(p => p.instance.onUnload && p.instance.onUnload())
  if (hostChat) hostChat.close()
  if (memberPub) await memberPub.stop()
  if (hostPub) await hostPub.stop()
  if (srv) await srv.stop()
})

async function open(name, query) {
  const p = await P.open(name, query)
  pages.push(p)
  return p
}

test('viewer: request, accepted, member page pushes RTC and plays the host tile, codes, leave', async () => {
  const me = getApp().api.session().user.id
  const page = await open('room', { id: room.id })
  await waitFor(() => page.instance.data.chatState === 'open', 5000, 'viewer chat')

  hostChat = new ChatClient({ api: host.api, wx: host.wx, roomId: room.id })
  const requests = []
  hostChat.on('frame', f => { if (f.type === 'cohost_request') requests.push(f.user.id) })
  hostChat.connect()
  await waitFor(() => hostChat.state === 'open', 5000, 'host chat')

  assert.equal(P.one(page, '.cohost-apply').text, '申请连麦')
  await P.fire(page, '.cohost-apply', 'tap')
  await waitFor(() => requests.includes(me), 5000, 'host notified')
  await waitFor(() => P.one(page, '.cohost-apply').text === '取消申请', 5000, 'pending shown')
  assert.ok(hostChat.answerCohost(me, true))
  const url = `/pages/cohost/cohost?id=${room.id}`
  await waitFor(() => callsOf(viewerWx, 'navigateTo').some(c => c.args.url === url), 5000, 'member page opened')
  assert.match(callsOf(viewerWx, 'showToast').pop().args.title, /同意/)

  const mp = await open('cohost', { id: room.id })
  const pusher = P.one(mp, 'live-pusher')
  assert.equal(pusher.attrs.mode, 'RTC')
  assert.match(pusher.attrs.url, new RegExp(`/live/${room.stream}-${me}\\?txSecret=`))
  memberPub = startPublisher(pusher.attrs.url) // what live-pusher does with it
  await waitFor(async () => (await host.api.getRoom(room.id)).members.every(m => m.live), 20000, 'both members live')

  // The subscribe list: the host, played in RTC mode from its own stream.
  await waitFor(() => P.nodes(mp, 'live-player').length === 1, 5000, 'host tile')
  const tile = P.one(mp, 'live-player')
  const hostMember = (await host.api.getRoom(room.id)).members[0]
  assert.equal(tile.attrs.mode, 'RTC')
  assert.equal(Number(tile.attrs.minCache), 0.1)
  assert.equal(Number(tile.attrs.maxCache), 0.3)
  assert.equal(tile.attrs.src, hostMember.play.rtmp)
  assert.match(P.one(mp, '.tile-name').text, /主播/)
  const res = await fetch(hostMember.play.flv) // the same stream over HTTP-FLV plays
  const reader = res.body.getReader()
  const { value } = await reader.read()
  reader.cancel()
  assert.equal(Buffer.from(value.subarray(0, 3)).toString(), 'FLV')

  // Status codes of RTC mode become messages.
  for (const [code, text] of [[1018, '已进入连麦'], [1102, '网络断开，正在重连…'], [1032, '有人离开了连麦']]) {
    await P.fire(mp, '#pusher', 'statechange', { code })
    assert.equal(mp.instance.data.stateText, text)
  }
  await P.fire(mp, '.tile-player', 'statechange', { code: 2105 })
  assert.equal(P.one(mp, '.tile-state').text, '画面卡顿，正在缓冲…')

  // 下麦: leaves the co-hosts (its publish ends) and goes back.
  await P.fire(mp, '.leave', 'tap')
  await waitFor(() => callsOf(viewerWx, 'navigateBack').length === 1, 5000, 'back to watching')
  const after = await host.api.getRoom(room.id)
  assert.deepEqual(after.members.map(m => m.role), ['host'])
  await waitFor(() => memberPub.proc.exitCode !== null || memberPub.proc.signalCode !== null, 15000, 'member ffmpeg ended')
})
