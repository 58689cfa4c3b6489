// The host sets the room's cover from the anchor page (wx.chooseMedia, the
// file's bytes PUT to the API), under miniprogram-simulate against a real
// roomcast server.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { execFileSync } = require('child_process')
const P = require('./helpers/page')
const { startServer } = require('./helpers/server')
const { createWx, callsOf } = require('./helpers/wx-shim')
const { createApi } = require('../utils/api')

let srv
let hostWx
let host
let page
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomcast-mp-cover-'))

before(async () => {
  srv = await startServer()
  hostWx = createWx({ getCode: () => srv.wechat.issueCode('openid_cover_host') })
  await P.launch(hostWx, srv.url)
  host = createApi({ baseURL: srv.url, wx: hostWx })
  await host.login()
})

after(async () => {
  if (page && page.instance.onUnload) page.instance.onUnload()
  if (srv) await srv.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('host: the cover button uploads a picture; a bad file is refused in words', async () => {
  const room = await host.createRoom({ title: '封面房间' })
  page = await P.open('anchor', {})
  await page.instance.selectRoom(room.id)

  const png = path.join(dir, 'cover.png')
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180', '-frames:v', '1', '-y', png])
  hostWx.answers.media.push(png)
  assert.equal(P.one(page, '.cover').text, '封面') // the button calls chooseCover
  await page.instance.chooseCover()
  const toasts = () => callsOf(hostWx, 'showToast').map(c => c.args.title)
  assert.ok(toasts().includes('封面已更新'), `toasts: ${toasts()}`)
  const r = await host.getRoom(room.id)
  assert.match(r.cover_url, new RegExp(`/api/v1/rooms/${room.id}/cover\\?v=`))
  const res = await fetch(r.cover_url)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'image/jpeg')

  const bad = path.join(dir, 'not-an-image.png')
  fs.writeFileSync(bad, '<svg onload=alert(1)>')
  hostWx.answers.media.push(bad)
  await page.instance.chooseCover()
  assert.equal(toasts().pop(), '请选择 JPEG、PNG 或 WebP 图片')
  assert.equal((await host.getRoom(room.id)).cover_url, r.cover_url, 'the refused file changed the cover')

  // Cancelled: nothing happens.
  const before = toasts().length
  await page.instance.chooseCover()
  assert.equal(toasts().length, before)
})
