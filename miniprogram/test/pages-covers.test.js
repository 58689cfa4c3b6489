// Covers, posters and the weak-network switch under miniprogram-simulate,
// against a real roomcast with a cover every second and a 240p ladder:
// ffmpeg publishes 320x240 to the room.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const P = require('./helpers/page')
const { startServer, startPublisher, waitFor } = require('./helpers/server')
const { createWx } = require('./helpers/wx-shim')
const { createApi } = require('../utils/api')
const { QualitySwitcher } = require('../utils/quality')

let srv
let host
let room
let publisher
const pages = []

before(async () => {
  srv = await startServer(['-abr-ladder', '240p', '-cover-interval', '1s'])
  const hwx = createWx({ getCode: () => srv.wechat.issueCode('openid_covers_host') })
  host = { wx: hwx, api: createApi({ baseURL: srv.url, wx: hwx }) }
  await host.api.login()
  room = await host.api.createRoom({ title: '封面测试' })
  publisher = startPublisher((await host.api.pushURL(room.id)).url)
  await waitFor(async () => {
    const r = await host.api.getRoom(room.id)
    return r.status === 'live' && r.cover_url && r.play.renditions && r.play.renditions.length === 1
  }, 60000, 'room live with a cover and a rendition')
  await P.launch(createWx({ getCode: () => srv.wechat.issueCode('openid_covers_viewer') }), srv.url)
})

after(async () => {
  pages.forEach(p => p.instance.onUnload && p.instance.onUnload())
  if (publisher) await publisher.stop()
  if (srv) await srv.stop()
})

async function open(name, query) {
  const p = await P.open(name, query)
  pages.push(p)
  return p
}

async function jpegSize(url) {
  const res = await fetch(url)
  assert.equal(res.status, 200, url)
  assert.equal(res.headers.get('content-type'), 'image/jpeg')
  const b = Buffer.from(await res.arrayBuffer())
  // Walk the JPEG markers to the frame header (SOF0..SOF3).
  for (let i = 2; i + 9 < b.length;) {
    const marker = b[i + 1]
    const len = b.readUInt16BE(i + 2)
    if (marker >= 0xc0 && marker <= 0xc3) return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) }
    i += 2 + len
  }
  throw new Error(`${url}: no JPEG frame header`)
}

test('the room list shows live covers, reloaded while shown', async () => {
  const page = await open('index')
  const covers = P.nodes(page, '.cover')
  assert.equal(covers.length, 1)
  const src = covers[0].attrs.src
  assert.match(src, new RegExp(`/live/${room.stream}\\.jpg\\?t=\\d+$`))
  assert.deepEqual(await jpegSize(src), { width: 320, height: 240 })
  page.instance.onShow()
  await waitFor(() => P.one(page, '.cover').attrs.src !== src, 15000, 'a reloaded cover URL')
  page.instance.onHide()
})

test('live-player switches to the rendition on a weak network and back when it recovers', async () => {
  const fresh = await host.api.getRoom(room.id)
  const page = await open('room', { id: room.id })
  page.instance.quality = new QualitySwitcher({ weakAfter: 2, recoverAfter: 3 })
  await page.instance.loadRoom()
  assert.equal(P.one(page, 'live-player').attrs.src, fresh.play.flv)
  assert.equal(P.one(page, '.quality').text, '原画')
  const weak = { netSpeed: 100, videoBitrate: 600, audioBitrate: 64, videoFPS: 15, videoWidth: 320, videoHeight: 240 }
  await P.fire(page, '#player', 'netstatus', { info: weak })
  assert.equal(P.one(page, 'live-player').attrs.src, fresh.play.flv)
  await P.fire(page, '#player', 'netstatus', { info: weak })
  const rd = fresh.play.renditions[0]
  assert.equal(P.one(page, 'live-player').attrs.src, rd.flv)
  assert.equal(P.one(page, '.quality').text, '240p')
  // The rendition URL really plays FLV.
  const res = await fetch(rd.flv)
  const reader = res.body.getReader()
  const { value } = await reader.read()
  reader.cancel()
  assert.equal(Buffer.from(value.subarray(0, 3)).toString(), 'FLV')
  const strong = { netSpeed: 20000, videoBitrate: 300, audioBitrate: 64 }
  for (let i = 0; i < 3; i++) await P.fire(page, '#player', 'netstatus', { info: strong })
  assert.equal(P.one(page, 'live-player').attrs.src, fresh.play.flv)
  assert.equal(P.one(page, '.quality').text, '原画')
  page.instance.onUnload()
})

test('the replay list shows the replay poster', async () => {
  await publisher.stop()
  publisher = null
  let rep
  await waitFor(async () => {
    const l = await host.api.listReplays(room.id, { limit: 5 })
    rep = l.replays[0]
    return rep && rep.status === 'ready' && rep.poster_url
  }, 60000, 'a ready replay with a poster')
  const page = await open('replay', { id: room.id })
  const posters = P.nodes(page, '.poster')
  assert.equal(posters.length, 1)
  assert.equal(posters[0].attrs.src, rep.poster_url)
  assert.deepEqual(await jpegSize(rep.poster_url), { width: 320, height: 240 })
})
