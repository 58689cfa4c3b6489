// The live-state module: component codes to states, messages and actions.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { playerState, pusherState, pusherError, formatNetStatus, PUSH_MODES } = require('../utils/live-state')
const { Backoff } = require('../utils/backoff')
const format = require('../utils/format')

test('live-player codes', () => {
  assert.deepEqual(
    [2004, 2103, 2105, -2301, -2302].map(c => { const s = playerState(c); return [s.state, s.action] }),
    [['playing', null], ['reconnecting', null], ['stutter', null], ['lost', 'restart'], ['error', 'refetch']])
  assert.equal(playerState(2103).message, '网络断开，正在重连…')
  assert.equal(playerState(2105).message, '画面卡顿，正在缓冲…')
  assert.equal(playerState('-2301').code, -2301)
  assert.equal(playerState(-2301).level, 'error')
  assert.equal(playerState(9999).state, 'unknown')
  assert.equal(playerState(-9999).level, 'error')
})

test('live-pusher codes', () => {
  assert.equal(pusherState(1002).state, 'pushing')
  assert.equal(pusherState(1101).state, 'congested')
  assert.equal(pusherState(1102).state, 'reconnecting')
  assert.equal(pusherState(-1307).action, 'refresh')
  assert.equal(pusherState(3004).action, 'refresh')
  const cam = pusherState(-1301)
  assert.equal(cam.action, 'permission')
  assert.match(cam.help, /摄像头/)
  assert.match(pusherState(-1302).help, /麦克风/)
  assert.equal(pusherError({ errCode: 10001, errMsg: 'denied' }).action, 'permission')
  assert.match(pusherError({ errCode: 5, errMsg: 'boom' }).message, /boom/)
})

test('netstatus lines', () => {
  assert.equal(formatNetStatus({ videoBitrate: 900, audioBitrate: 64, videoFPS: 24.6, videoWidth: 640, videoHeight: 360, videoCache: 420, netSpeed: 1100 }),
    '964 kbps · 25 fps · 640×360 · 缓冲 420 ms · 网速 1100 kbps')
  assert.equal(formatNetStatus({}), '0 kbps')
})

test('push modes have sane bitrate bounds', () => {
  assert.deepEqual(PUSH_MODES.map(m => m.mode), ['SD', 'HD', 'FHD', 'RTC'])
  PUSH_MODES.forEach(m => assert.ok(m.minBitrate > 0 && m.minBitrate < m.maxBitrate))
})

test('backoff grows to its max and resets', () => {
  const b = new Backoff({ min: 100, max: 1000, jitter: 0 })
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000])
  b.reset()
  assert.equal(b.next(), 100)
  const j = new Backoff({ min: 1000, max: 1000, jitter: 0.5, random: () => 1 })
  assert.equal(j.next(), 500)
  assert.throws(() => new Backoff({ min: 0 }), /need 0 < min/)
})

test('format helpers', () => {
  assert.equal(format.duration(3723000), '1:02:03')
  assert.equal(format.duration(65000), '1:05')
  assert.equal(format.count(12345), '1.2万')
  assert.equal(format.count(999), '999')
  assert.equal(format.liveFor({ status: 'live', live_since: '2025-06-01T12:00:00Z' }, Date.parse('2025-06-01T12:01:30Z')), '1:30')
  assert.equal(format.liveFor({ status: 'ended', live_since: '2025-06-01T12:00:00Z' }), '')
  assert.equal(format.status('live'), '直播中')
})
