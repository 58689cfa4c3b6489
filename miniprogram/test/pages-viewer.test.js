// The viewer's pages (index, room, replay) under miniprogram-simulate,
// against a real roomcast server with a real live: ffmpeg publishes to the
// room's signed push URL as <live-pusher> would.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const P = require('./helpers/page')
const { startServer, startPublisher, waitFor } = require('./helpers/server')
const { createWx, callsOf } = require('./helpers/wx-shim')
const { createApi } = require('../utils/api')
const { ChatClient } = require('../utils/chat')
const { Backoff } = require('../utils/backoff')

let srv
let host // {wx, api}
let hostChat
let liveRoom
let idleRoom
let publisher
let viewerWx
const pages = []

before(async () => {
  srv = await startServer()
  const hwx = createWx({ getCode: () => srv.wechat.issueCode('openid_pages_host') })
  host = { wx: hwx, api: createApi({ baseURL: srv.url, wx: hwx }) }
  await host.api.login()
  idleRoom = await host.api.createRoom({ title: '还没开播的房间' })
  liveRoom = await host.api.createRoom({ title: '正在直播的房间' })
  const push = await host.api.pushURL(liveRoom.id)
  publisher = startPublisher(push.url)
  await waitFor(async () => (await host.api.getRoom(liveRoom.id)).status === 'live', 15000, 'room live')
  hostChat = new ChatClient({ api: host.api, wx: host.wx, roomId: liveRoom.id })
  hostChat.connect()
  await waitFor(() => hostChat.state === 'open', 5000, 'host chat')
  hostChat.send('欢迎来到直播间')
  viewerWx = createWx({ getCode: () => srv.wechat.issueCode('openid_pages_viewer') })
  await P.launch(viewerWx, srv.url)
})

after(async () => {
  pages.forEach(p => p.instance.onUnload && p.instance.onUnload())
  if (hostChat) hostChat.close()
  if (publisher) await publisher.stop()
  if (srv) await srv.stop()
})

async function open(name, query) {
  const p = await P.open(name, query)
  pages.push(p)
  return p
}

test('index lists live rooms first with viewers and duration; pull to refresh; tap opens the room', async () => {
  const page = await open('index')
  const live = P.nodes(page, '.live')
  assert.equal(live.length, 1)
  assert.match(live[0].text, /正在直播的房间/)
  assert.match(live[0].text, /\d+ 人在看/)
  assert.match(live[0].text, /已直播 \d+:\d\d/)
  const others = P.nodes(page, '.other')
  assert.deepEqual(others.map(o => /还没开播的房间/.test(o.text)), [true])
  assert.match(others[0].text, /未开播/)

  const extra = await host.api.createRoom({ title: '新建的房间' })
  await page.instance.onPullDownRefresh()
  assert.equal(callsOf(viewerWx, 'stopPullDownRefresh').length, 1)
  assert.ok(P.nodes(page, '.other').some(o => /新建的房间/.test(o.text)))
  await host.api.deleteRoom(extra.id)

  await P.fire(page, '.live', 'tap')
  const nav = callsOf(viewerWx, 'navigateTo').pop()
  assert.equal(nav.args.url, `/pages/room/room?id=${liveRoom.id}`)
  await P.fire(page, '.go-live', 'tap')
  assert.equal(callsOf(viewerWx, 'navigateTo').pop().args.url, '/pages/anchor/anchor')
})

test('room: live-player on the HTTP-FLV URL, status codes, restart with back-off, netstatus, fullscreen', async () => {
  const page = await open('room', { id: liveRoom.id })
  const player = P.one(page, 'live-player')
  assert.equal(player.attrs.src, liveRoom.play.flv)
  assert.equal(player.attrs.mode, 'live')
  assert.equal(player.attrs.autoplay, true)
  assert.equal(player.attrs.minCache, 1)
  assert.equal(player.attrs.maxCache, 3)
  // The URL live-player gets really plays FLV.
  const res = await fetch(player.attrs.src)
  const reader = res.body.getReader()
  const { value } = await reader.read()
  reader.cancel()
  assert.equal(Buffer.from(value.subarray(0, 3)).toString(), 'FLV')

  await P.fire(page, '#player', 'statechange', { code: 2004 })
  assert.deepEqual(P.nodes(page, '.state'), [])
  await P.fire(page, '#player', 'statechange', { code: 2103 })
  assert.equal(P.one(page, '.state').text, '网络断开，正在重连…')
  await P.fire(page, '#player', 'statechange', { code: 2105 })
  assert.equal(P.one(page, '.state').text, '画面卡顿，正在缓冲…')

  // -2301: the player gave up; the page stops and plays again after a delay.
  page.instance.restarts = new Backoff({ min: 30, max: 60, jitter: 0 })
  const ctx = viewerWx.players.player
  ctx.calls.length = 0
  await P.fire(page, '#player', 'statechange', { code: -2301 })
  assert.equal(P.one(page, '.state').text, '直播连接已断开，正在重新连接…')
  assert.deepEqual(ctx.calls, [])
  await P.fire(page, '#player', 'statechange', { code: -2301 }) // one restart at a time
  await waitFor(() => ctx.calls.length === 2, 2000, 'restart')
  assert.deepEqual(ctx.calls, ['stop', 'play'])
  assert.equal(page.instance.restarts.attempt, 1)
  await P.fire(page, '#player', 'statechange', { code: -2301 })
  await waitFor(() => ctx.calls.length === 4, 2000, 'second restart')
  assert.equal(page.instance.restarts.attempt, 2)
  await P.fire(page, '#player', 'statechange', { code: 2004 })
  assert.equal(page.instance.restarts.attempt, 0)

  // -2302: no URL; the room is fetched again and played.
  const gets = () => viewerWx.requests.filter(r => r.method === 'GET' && r.url.endsWith(`/api/v1/rooms/${liveRoom.id}`)).length
  const before = gets()
  await P.fire(page, '#player', 'statechange', { code: -2302 })
  await waitFor(() => gets() === before + 1 && ctx.calls[ctx.calls.length - 1] === 'play', 2000, 'refetch')

  await P.fire(page, '#player', 'netstatus', { info: { videoBitrate: 800, audioBitrate: 64, videoFPS: 15, videoWidth: 320, videoHeight: 240, videoCache: 300 } })
  assert.equal(P.one(page, '.net').text, '864 kbps · 15 fps · 320×240 · 缓冲 300 ms')

  await P.fire(page, '.fullscreen', 'tap')
  assert.deepEqual(callsOf(viewerWx, 'player.requestFullScreen').pop().args, { direction: 90 })
  await P.fire(page, '#player', 'fullscreenchange', { fullScreen: true, direction: 'horizontal' })
  await P.fire(page, '.fullscreen', 'tap')
  assert.equal(callsOf(viewerWx, 'player.exitFullScreen').length, 1)

  await P.fire(page, '.protocol', 'tap')
  assert.equal(P.one(page, 'live-player').attrs.src, liveRoom.play.rtmp)
  await P.fire(page, '.protocol', 'tap')
  assert.equal(P.one(page, 'live-player').attrs.src, liveRoom.play.flv)
  page.instance.onUnload()
})

test('room chat: history, sending, batched likes, online count', async () => {
  const page = await open('room', { id: liveRoom.id })
  await waitFor(() => page.instance.data.chatState === 'open', 5000, 'chat open')
  // WeChat accounts have no name: the chat shows 用户 + the id's last 4 characters.
  const hostId = host.api.session().user.id
  assert.deepEqual(P.nodes(page, '.msg').map(m => m.text), [`用户${hostId.slice(-4)}：欢迎来到直播间`])
  await waitFor(() => page.instance.data.online >= 2, 5000, 'online count')
  assert.match(P.one(page, '.online').text, /^\d+ 人在线$/)

  await P.fire(page, '.input', 'input', { value: '主播好！' })
  await P.fire(page, '.send', 'tap')
  await waitFor(() => hostChat.lastSeq > 1, 5000, 'message at the host')
  assert.equal(page.instance.data.input, '')
  await waitFor(() => P.nodes(page, '.mine').some(m => /主播好！/.test(m.text)), 5000, 'own message shown')

  // Five quick taps: shown at once, sent as one frame of five.
  const likesBefore = hostChat.likesTotal
  const socket = viewerWx.sockets[viewerWx.sockets.length - 1]
  const sent = []
  const orig = socket.send
  socket.send = o => { sent.push(JSON.parse(o.data)); orig(o) }
  for (let i = 0; i < 5; i++) await P.fire(page, '.like', 'tap')
  assert.equal(P.one(page, '.like').text, `❤ ${likesBefore + 5}`)
  await waitFor(() => sent.some(f => f.type === 'like'), 3000, 'like frame')
  assert.deepEqual(sent.filter(f => f.type === 'like'), [{ type: 'like', count: 5 }])
  await waitFor(() => hostChat.likesTotal === likesBefore + 5, 5000, 'likes at the host')
  page.instance.onUnload()
})

test('an idle room says so and does not autoplay', async () => {
  const page = await open('room', { id: idleRoom.id })
  assert.equal(P.one(page, 'live-player').attrs.autoplay, false)
  assert.equal(P.one(page, '.ended-text').text, '主播还没有开播')
  page.instance.onUnload()
  const missing = await open('room', { id: 'room_nosuchroom' })
  assert.equal(P.one(missing, '.error').text, '内容不存在或已被删除')
})

test('the live ends: the room page shows it from the chat notice; the replay plays', async () => {
  const page = await open('room', { id: liveRoom.id })
  await waitFor(() => page.instance.data.chatState === 'open', 5000, 'chat open')
  assert.deepEqual(P.nodes(page, '.ended'), [])
  const ctx = viewerWx.players.player
  ctx.calls.length = 0
  await publisher.stop()
  publisher = null
  await waitFor(() => P.nodes(page, '.ended').length === 1, 15000, 'ended state')
  assert.equal(P.one(page, '.ended-text').text, '直播已结束')
  assert.deepEqual(ctx.calls, ['stop'])
  // Status codes after the end do not restart playback.
  await P.fire(page, '#player', 'statechange', { code: -2301 })
  await P.sleep(50)
  assert.deepEqual(ctx.calls, ['stop'])
  await P.fire(page, '.replays', 'tap')
  assert.equal(callsOf(viewerWx, 'navigateTo').pop().args.url, `/pages/replay/replay?id=${liveRoom.id}`)

  await waitFor(async () => {
    const r = await host.api.listReplays(liveRoom.id)
    return r.replays.length === 1 && r.replays[0].status === 'ready'
  }, 15000, 'replay ready')
  const replay = await open('replay', { id: liveRoom.id })
  const video = P.one(replay, 'video')
  const list = (await host.api.listReplays(liveRoom.id)).replays
  assert.equal(video.attrs.src, list[0].url)
  assert.match(video.attrs.src, /\/vod\/rec_[^/]+\/index\.m3u8/)
  const m3u8 = await (await fetch(video.attrs.src)).text()
  assert.match(m3u8, /^#EXTM3U/)
  assert.match(m3u8, /#EXT-X-ENDLIST/)
  assert.equal(P.nodes(replay, '.replay').length, 1)
  assert.match(P.one(replay, '.replay').text, /可观看/)
})

test('the room is deleted while watched: the room page says so', async () => {
  const page = await open('room', { id: idleRoom.id })
  await waitFor(() => page.instance.data.chatState === 'open', 5000, 'chat open')
  await host.api.deleteRoom(idleRoom.id)
  await waitFor(() => page.instance.data.chatState === 'closed', 5000, 'chat closed')
  assert.equal(P.one(page, '.ended-text').text, '直播间已被删除')
})
