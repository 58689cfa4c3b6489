const { test } = require('node:test')
const assert = require('node:assert/strict')
const { QualitySwitcher, qualityLabel } = require('../utils/quality')

const room = {
  play: {
    flv: 'http://h/live/s.flv', rtmp: 'rtmp://h/live/s',
    renditions: [
      { name: '480p', bandwidth: 1200000, flv: 'http://h/live/s_480p.flv', rtmp: 'rtmp://h/live/s_480p' },
      { name: '360p', bandwidth: 700000, flv: 'http://h/live/s_360p.flv', rtmp: 'rtmp://h/live/s_360p' },
    ],
  },
}

test('weak network steps down one level at a time, and back up once it recovers', () => {
  const q = new QualitySwitcher({ weakAfter: 2, recoverAfter: 3 })
  q.setRoom(room)
  assert.equal(q.current().name, 'source')
  const weak = { netSpeed: 500, videoBitrate: 2000, audioBitrate: 64 }
  assert.equal(q.onNetStatus(weak), null)
  assert.equal(q.onNetStatus(weak), 'down')
  assert.equal(q.current().name, '480p')
  assert.equal(q.onNetStatus(weak), null)
  assert.equal(q.onNetStatus(weak), 'down')
  assert.equal(q.current().flv, 'http://h/live/s_360p.flv')
  assert.equal(q.onNetStatus(weak), null) // no lower level
  const strong = { netSpeed: 5000 }
  assert.equal(q.onNetStatus(strong), null)
  assert.equal(q.onNetStatus(strong), null)
  assert.equal(q.onNetStatus(strong), 'up')
  assert.equal(q.current().name, '480p')
  // A weak report in between starts the count again.
  q.onNetStatus(strong)
  q.onNetStatus({ netSpeed: 100 })
  q.onNetStatus(strong)
  q.onNetStatus(strong)
  assert.equal(q.current().name, '480p')
  assert.equal(q.onNetStatus(strong), 'up')
  assert.equal(qualityLabel(q.current()), '原画')
})

test('without renditions or speed nothing changes; a refreshed room keeps the level', () => {
  const q = new QualitySwitcher({ weakAfter: 1 })
  q.setRoom({ play: { flv: 'f', rtmp: 'r' } })
  assert.equal(q.onNetStatus({ netSpeed: 1, videoBitrate: 2000 }), null)
  q.setRoom(room)
  assert.equal(q.onNetStatus({ netSpeed: 0, videoBitrate: 2000 }), null)
  assert.equal(q.onNetStatus({ netSpeed: 300, videoBitrate: 2000 }), 'down')
  q.setRoom(room)
  assert.equal(q.current().name, '480p')
  q.setRoom({ play: { flv: 'f', rtmp: 'r' } })
  assert.equal(q.current().name, 'source')
  q.setRoom(null)
  assert.equal(q.current(), null)
})
