// The host's page under miniprogram-simulate against a real roomcast
// server. When the page starts <live-pusher>, ffmpeg publishes to the URL
// the page gave it, so the push URLs are checked for real.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const P = require('./helpers/page')
const { startServer, startPublisher, waitFor } = require('./helpers/server')
const { createWx, callsOf } = require('./helpers/wx-shim')
const { createApi } = require('../utils/api')
const { ChatClient } = require('../utils/chat')
const { Backoff } = require('../utils/backoff')

let srv
let hostWx
let viewer
let viewerChat
let publisher
const pages = []

before(async () => {
  srv = await startServer()
  hostWx = createWx({ getCode: () => srv.wechat.issueCode('openid_anchor_host') })
  await P.launch(hostWx, srv.url)
  const vwx = createWx({ getCode: () => srv.wechat.issueCode('openid_anchor_viewer') })
  viewer = { wx: vwx, api: createApi({ baseURL: srv.url, wx: vwx }) }
  await viewer.api.login()
})

after(async () => {
  pages.forEach(p => p.instance.onUnload && p.instance.onUnload())
  if (viewerChat) viewerChat.close()
  if (publisher) await publisher.stop()
  if (srv) await srv.stop()
})

async function open(name, query) {
  const p = await P.open(name, query)
  pages.push(p)
  return p
}

const status = async id => (await viewer.api.getRoom(id)).status
const pushURLRequests = () => hostWx.requests.filter(r => r.method === 'POST' && /\/push-url$/.test(r.url)).length

test('host: create a room, choose a mode, push, handle codes, refresh a lost push, end with confirmation', async () => {
  const app = getApp()
  const mine = await app.api.createRoom({ title: '已有的房间' })
  const page = await open('anchor')
  assert.deepEqual(P.nodes(page, '.my-room').map(n => n.text), ['已有的房间'])

  // Create a room from the page.
  await P.fire(page, '.create', 'tap')
  assert.equal(callsOf(hostWx, 'showToast').pop().args.title, '请填写直播标题')
  await P.fire(page, '.title-input', 'input', { value: '今晚开播' })
  await P.fire(page, '.create', 'tap')
  await waitFor(() => page.instance.data.room && page.instance.data.chatState === 'open', 5000, 'room selected')
  const room = page.instance.data.room
  assert.equal(room.title, '今晚开播')
  assert.notEqual(room.id, mine.id)
  let pusher = P.one(page, 'live-pusher')
  assert.match(pusher.attrs.url, new RegExp(`^${srv.rtmp}/live/${room.stream}\\?txSecret=[0-9a-f]{32}&txTime=[0-9A-F]+$`))
  assert.equal(pusher.attrs.mode, 'HD')
  assert.equal(pusher.attrs.autopush, false)
  assert.equal(callsOf(hostWx, 'setKeepScreenOn').pop().args.keepScreenOn, true)

  // Mode choice sets the mode and bitrate bounds.
  await P.fire(page, '.mode-picker', 'change', { value: 2 })
  pusher = P.one(page, 'live-pusher')
  assert.deepEqual([pusher.attrs.mode, pusher.attrs.minBitrate, pusher.attrs.maxBitrate], ['FHD', 1000, 2500])
  await P.fire(page, '.mode-picker', 'change', { value: 3 })
  assert.equal(P.one(page, 'live-pusher').attrs.mode, 'RTC')

  // Camera, mute, beauty.
  await P.fire(page, '.camera', 'tap')
  assert.equal(P.one(page, 'live-pusher').attrs.devicePosition, 'back')
  assert.equal(callsOf(hostWx, 'pusher.switchCamera').length, 1)
  await P.fire(page, '.mute', 'tap')
  assert.equal(P.one(page, 'live-pusher').attrs.muted, true)
  await P.fire(page, '.beauty', 'tap')
  assert.equal(P.one(page, 'live-pusher').attrs.beauty, 0)

  // Start: the page starts the pusher; ffmpeg pushes to its URL.
  await P.fire(page, '.start', 'tap')
  await waitFor(() => page.instance.data.pushing, 2000, 'pushing')
  assert.equal(callsOf(hostWx, 'pusher.start').length, 1)
  publisher = startPublisher(P.one(page, 'live-pusher').attrs.url)
  await waitFor(async () => (await status(room.id)) === 'live', 15000, 'live')
  await P.fire(page, '#pusher', 'statechange', { code: 1002 })
  assert.equal(P.one(page, '.state').text, '直播中')
  assert.deepEqual(P.nodes(page, '.mode-picker'), []) // no mode change while live
  await P.fire(page, '#pusher', 'statechange', { code: 1101 })
  assert.equal(P.one(page, '.state').text, '上行网络较差，画面可能不清晰')
  await P.fire(page, '#pusher', 'statechange', { code: 1102 })
  assert.equal(P.one(page, '.state').text, '网络断开，正在重连…')
  await P.fire(page, '#pusher', 'netstatus', { info: { videoBitrate: 1200, audioBitrate: 48, videoFPS: 25, videoWidth: 720, videoHeight: 1280 } })
  assert.equal(P.one(page, '.net').text, '1248 kbps · 25 fps · 720×1280')

  // -1307: the push is lost; the page fetches a new push URL and starts again.
  await publisher.stop()
  await waitFor(async () => (await status(room.id)) === 'ended', 15000, 'ended')
  page.instance.retries = new Backoff({ min: 30, max: 60, jitter: 0 })
  const before = pushURLRequests()
  const starts = callsOf(hostWx, 'pusher.start').length
  await P.fire(page, '#pusher', 'statechange', { code: -1307 })
  assert.equal(P.one(page, '.state').text, '推流连接已断开，正在重新推流…')
  await waitFor(() => callsOf(hostWx, 'pusher.start').length === starts + 1, 3000, 'restarted')
  assert.equal(pushURLRequests(), before + 1)
  const ctx = hostWx.pushers[hostWx.pushers.length - 1]
  assert.deepEqual(ctx.calls.slice(-2), ['stop', 'start'])
  publisher = startPublisher(P.one(page, 'live-pusher').attrs.url)
  await waitFor(async () => (await status(room.id)) === 'live', 15000, 'live again with the new URL')
  await P.fire(page, '#pusher', 'statechange', { code: 1002 })
  assert.equal(page.instance.retries.attempt, 0)

  // Ending asks first; cancel keeps the live.
  hostWx.answers.modal.push({ confirm: false })
  await P.fire(page, '.stop', 'tap')
  await P.sleep(10)
  assert.equal(page.instance.data.pushing, true)
  assert.match(callsOf(hostWx, 'showModal').pop().args.content, /确定要结束直播吗/)
  hostWx.answers.modal.push({ confirm: true })
  await P.fire(page, '.stop', 'tap')
  await waitFor(() => !page.instance.data.pushing, 2000, 'stopped')
  assert.equal(ctx.calls[ctx.calls.length - 1], 'stop')
  await publisher.stop()
  publisher = null
  page.instance.onUnload()
})

test('host: denied camera or microphone explains how to allow it', async () => {
  const room = await getApp().api.createRoom({ title: '权限' })
  const page = await open('anchor', { id: room.id })
  hostWx.answers.modal.push({ confirm: true })
  const settings = callsOf(hostWx, 'openSetting').length
  await P.fire(page, '#pusher', 'statechange', { code: -1301 })
  const modal = callsOf(hostWx, 'showModal').pop().args
  assert.equal(modal.title, '无法打开摄像头')
  assert.match(modal.content, /摄像头/)
  await waitFor(() => callsOf(hostWx, 'openSetting').length === settings + 1, 2000, 'openSetting')
  hostWx.answers.modal.push({ confirm: false })
  await P.fire(page, '#pusher', 'statechange', { code: -1302 })
  assert.equal(callsOf(hostWx, 'showModal').pop().args.title, '无法打开麦克风')
  await P.fire(page, '#pusher', 'error', { errCode: 10001, errMsg: 'user denied' })
  assert.match(callsOf(hostWx, 'showModal').pop().args.content, /麦克风/)
  // -1307 while not pushing does not fetch a URL.
  const before = pushURLRequests()
  await P.fire(page, '#pusher', 'statechange', { code: -1307 })
  await P.sleep(50)
  assert.equal(pushURLRequests(), before)
  page.instance.onUnload()
})

test('host: chat and moderation from the page', async () => {
  const room = await getApp().api.createRoom({ title: '管理' })
  const page = await open('anchor', { id: room.id })
  await waitFor(() => page.instance.data.chatState === 'open', 5000, 'host chat')
  assert.equal(page.instance.data.canModerate, true)
  viewerChat = new ChatClient({ api: viewer.api, wx: viewer.wx, roomId: room.id })
  const muted = []
  viewerChat.on('muted', m => muted.push(m))
  viewerChat.connect()
  await waitFor(() => viewerChat.state === 'open', 5000, 'viewer chat')
  viewerChat.send('捣乱的消息')
  await waitFor(() => P.nodes(page, '.msg').some(m => /捣乱的消息/.test(m.text)), 5000, 'message at the host')
  await waitFor(() => page.instance.data.online === 2, 5000, 'online 2')
  assert.equal(P.one(page, '.online').text, '2 人在线')

  // Tap the message → action sheet → mute.
  hostWx.answers.actionSheet.push({ tapIndex: 0 })
  await P.fire(page, '.msg', 'tap')
  assert.deepEqual(callsOf(hostWx, 'showActionSheet').pop().args.itemList, ['禁言 10 分钟', '踢出 5 分钟', '封禁', '删除这条消息'])
  await waitFor(() => muted.length === 1, 5000, 'viewer muted')
  assert.ok(muted[0].until > Date.now() + 500 * 1000)

  // Delete it.
  hostWx.answers.actionSheet.push({ tapIndex: 3 })
  await P.fire(page, '.msg', 'tap')
  await waitFor(() => P.nodes(page, '.msg').length === 0, 5000, 'message deleted')

  // Pin an announcement, then clear it.
  await P.fire(page, '.pin-input', 'input', { value: '八点抽奖' })
  await P.fire(page, '.pin', 'tap')
  await waitFor(() => viewerChat.pinned === '八点抽奖', 5000, 'pinned at the viewer')
  await waitFor(() => P.nodes(page, '.pinned').length === 1, 5000, 'pinned on the page')
  await P.fire(page, '.unpin', 'tap')
  await waitFor(() => viewerChat.pinned === '', 5000, 'unpinned')

  // The host talks.
  await P.fire(page, '.input', 'input', { value: '谢谢大家' })
  await P.fire(page, '.send', 'tap')
  const got = []
  viewerChat.on('message', m => got.push(m.text))
  await waitFor(() => got.includes('谢谢大家'), 5000, 'host message at the viewer')
  page.instance.onUnload()
})

test('the owner watching a private room gets a freshly signed play URL on restart', async () => {
  const room = await getApp().api.createRoom({ title: '私密房间', private: true })
  const push = await getApp().api.pushURL(room.id)
  publisher = startPublisher(push.url)
  await waitFor(async () => (await getApp().api.getRoom(room.id)).status === 'live', 15000, 'live')
  const page = await open('room', { id: room.id })
  const src = P.one(page, 'live-player').attrs.src
  assert.match(src, /\.flv\?txSecret=[0-9a-f]{32}&txTime=[0-9A-F]+$/)
  assert.equal((await fetch(src.replace(/\?.*$/, ''))).status, 403) // unsigned: refused
  const res = await fetch(src)
  assert.equal(res.status, 200)
  await res.body.cancel()
  page.instance.restarts = new Backoff({ min: 20, max: 20, jitter: 0 })
  const gets = () => hostWx.requests.filter(r => r.method === 'GET' && r.url.endsWith(`/api/v1/rooms/${room.id}`)).length
  const before = gets()
  const ctx = hostWx.players.player
  ctx.calls.length = 0
  await P.fire(page, '#player', 'statechange', { code: -2301 })
  await waitFor(() => ctx.calls.length === 2, 3000, 'restart')
  assert.deepEqual(ctx.calls, ['stop', 'play'])
  assert.equal(gets(), before + 1)
  page.instance.onUnload()
  await publisher.stop()
  publisher = null
})
