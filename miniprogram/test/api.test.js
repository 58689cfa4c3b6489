// The api module against a real roomcast server, logging in through a fake
// WeChat code2session.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { startServer } = require('./helpers/server')
const { createWx } = require('./helpers/wx-shim')
const { createApi, ApiError, errorMessage, queryString } = require('../utils/api')

let srv

before(async () => { srv = await startServer() })
after(async () => { if (srv) await srv.stop() })

function user(openid) {
  const wx = createWx({ getCode: () => srv.wechat.issueCode(openid) })
  return { wx, api: createApi({ baseURL: srv.url, wx }) }
}

test('baseURL must be http(s)', () => {
  assert.throws(() => createApi({ baseURL: 'ftp://x', wx: createWx() }), /baseURL must be/)
  assert.throws(() => createApi({ baseURL: '', wx: createWx() }), /baseURL must be/)
})

test('queryString skips empty values and encodes', () => {
  assert.equal(queryString({ a: 1, b: undefined, c: '', d: 'x y&z' }), '?a=1&d=x%20y%26z')
  assert.equal(queryString({}), '')
})

test('WeChat login stores the token and creates the user once', async () => {
  const { wx, api } = user('openid_alice')
  const s = await api.login()
  assert.match(s.token, /^.{20,}$/)
  assert.equal(s.user.wechat, true)
  assert.deepEqual(wx.getStorageSync('roomcast.session').token, s.token)
  const me = await api.me()
  assert.equal(me.id, s.user.id)
  const last = srv.wechat.requests[srv.wechat.requests.length - 1]
  assert.equal(last.grant_type, 'authorization_code')
  // A second device of the same WeChat user is the same account.
  const other = user('openid_alice')
  const s2 = await other.api.ensureLogin()
  assert.equal(s2.user.id, s.user.id)
  assert.notEqual(s2.token, s.token)
  // ensureLogin keeps a stored session.
  const before = wx.calls.filter(c => c.api === 'login').length
  await api.ensureLogin()
  assert.equal(wx.calls.filter(c => c.api === 'login').length, before)
})

test('a used login code is replaced by a fresh one once', async () => {
  const code = srv.wechat.issueCode('openid_reuse')
  const codes = [code, code]
  const wx = createWx({ getCode: () => codes.length ? codes.shift() : srv.wechat.issueCode('openid_reuse') })
  const api = createApi({ baseURL: srv.url, wx })
  await api.login() // uses the code
  const wx2 = createWx({ getCode: () => codes.length ? codes.shift() : srv.wechat.issueCode('openid_reuse') })
  const api2 = createApi({ baseURL: srv.url, wx: wx2 })
  await api2.login() // first code is used (40163) → wx.login again
  assert.equal(wx2.calls.filter(c => c.api === 'login').length, 2)
})

test('a rejected login code gives a Chinese message', async () => {
  const wx = createWx({ getCode: () => 'never-issued' })
  const api = createApi({ baseURL: srv.url, wx })
  await assert.rejects(api.login(), e => {
    assert.ok(e instanceof ApiError)
    assert.equal(e.status, 400)
    assert.equal(e.code, 'wechat_invalid_code')
    assert.equal(e.userMessage, errorMessage('wechat_invalid_code'))
    return true
  })
})

test('a 401 logs in again once and retries', async () => {
  const { wx, api } = user('openid_bob')
  const s = await api.login()
  // Revoke the token behind the client's back (another device logged out).
  const res = await fetch(`${srv.url}/api/v1/auth/logout`, { method: 'POST', headers: { Authorization: `Bearer ${s.token}` } })
  assert.equal(res.status, 204)
  const me = await api.me()
  assert.equal(me.id, s.user.id)
  assert.notEqual(api.token(), s.token)
  assert.equal(wx.calls.filter(c => c.api === 'login').length, 2)
  const tried = wx.requests.filter(r => r.url.endsWith('/api/v1/me'))
  assert.equal(tried.length, 2)
})

test('rooms: create, list live first data, get, push URL, update, errors', async () => {
  const { api } = user('openid_host')
  await api.login()
  const room = await api.createRoom({ title: '  周五晚上  ', description: 'hi' })
  assert.match(room.id, /^room_/)
  assert.equal(room.title, '周五晚上')
  assert.equal(room.status, 'idle')
  // The play URLs carry the room's programme (the host, or the co-host mix).
  assert.match(room.play.flv, new RegExp(`^${srv.url}/live/${room.stream}-programme\\.flv$`))
  assert.match(room.play.rtmp, /^rtmp:\/\//)

  const list = await api.listRooms({ owner: 'me' })
  assert.ok(list.rooms.some(r => r.id === room.id))
  const live = await api.listRooms({ status: 'live' })
  assert.deepEqual(live.rooms, [])

  const got = await api.getRoom(room.id)
  assert.equal(got.stream, room.stream)

  const push = await api.pushURL(room.id)
  assert.ok(push.url.startsWith(`${srv.rtmp}/live/${room.stream}?txSecret=`), push.url)
  assert.match(push.url, /txTime=[0-9A-F]+$/)

  const upd = await api.updateRoom(room.id, { title: '新标题' })
  assert.equal(upd.title, '新标题')

  await assert.rejects(api.createRoom({ title: '' }), e => e.code === 'validation_failed' && e.userMessage === errorMessage('validation_failed'))
  await assert.rejects(api.getRoom('room_doesnotexist'), e => e.status === 404 && e.code === 'not_found' && e.userMessage === '内容不存在或已被删除')

  // Someone else may not get the push URL.
  const { api: other } = user('openid_other')
  await other.login()
  await assert.rejects(other.pushURL(room.id), e => e.status === 403 && e.code === 'forbidden')

  const replays = await api.listReplays(room.id)
  assert.deepEqual(replays.replays, [])

  await api.deleteRoom(room.id)
  await assert.rejects(api.getRoom(room.id), e => e.code === 'not_found')
})

test('a server that cannot be reached is a network error', async () => {
  const wx = createWx({ getCode: () => 'x' })
  const api = createApi({ baseURL: 'http://127.0.0.1:1', wx })
  await assert.rejects(api.listRooms(), e => e.status === 0 && e.code === 'network' && e.userMessage === '网络连接失败，请检查网络')
})

test('logout revokes the session', async () => {
  const { api } = user('openid_logout')
  const s = await api.login()
  await api.logout()
  assert.equal(api.token(), '')
  const res = await fetch(`${srv.url}/api/v1/me`, { headers: { Authorization: `Bearer ${s.token}` } })
  assert.equal(res.status, 401)
})
