// Picks the quality <live-player> plays: the source, or a lower rendition
// of the quality ladder (room.play.renditions) while bindnetstatus reports
// a network too weak for the current one, and back up once it recovers.

// A report is weak when the download speed is below this share of the
// current level's bitrate; strong enough to go up when it is above this
// multiple of the next level's.
const WEAK_SHARE = 0.9
const UP_MULTIPLE = 1.4

class QualitySwitcher {
  // weakAfter consecutive weak reports step down one level; recoverAfter
  // consecutive strong ones step up one level.
  constructor({ weakAfter = 3, recoverAfter = 10 } = {}) {
    this.weakAfter = weakAfter
    this.recoverAfter = recoverAfter
    this.setRoom(null)
  }

  // setRoom takes the levels of a room: the source first, then its
  // renditions (tallest first). The current level is kept if it still
  // exists, else it goes back to the source.
  setRoom(room) {
    const play = room && room.play
    const current = this.levels && this.levels[this.index]
    this.levels = play ? [{ name: 'source', kbps: 0, flv: play.flv, rtmp: play.rtmp }].concat(
      (play.renditions || []).map(r => ({ name: r.name, kbps: Math.round(r.bandwidth / 1000), flv: r.flv, rtmp: r.rtmp }))) : []
    const kept = current ? this.levels.findIndex(l => l.name === current.name) : -1
    this.index = kept >= 0 ? kept : 0
    this.weak = 0
    this.strong = 0
  }

  // current returns the level played now (null without a room).
  current() {
    return this.levels[this.index] || null
  }

  // onNetStatus reads a bindnetstatus info (netSpeed and bitrates in
  // kbps) and returns 'down' or 'up' when the level changed, else null.
  onNetStatus(info) {
    if (!info || this.levels.length < 2) return null
    const speed = Number(info.netSpeed) || 0
    if (speed <= 0) return null
    const cur = this.levels[this.index]
    // The source's bitrate is what the player measures while it plays it.
    const played = Number(info.videoBitrate || 0) + Number(info.audioBitrate || 0)
    if (this.index === 0 && played > 0) cur.kbps = Math.max(cur.kbps, played)
    const need = cur.kbps || played
    if (need > 0 && speed < need * WEAK_SHARE) {
      this.strong = 0
      if (++this.weak >= this.weakAfter && this.index < this.levels.length - 1) {
        this.index++
        this.weak = 0
        return 'down'
      }
      return null
    }
    this.weak = 0
    if (this.index === 0) return null
    const up = this.levels[this.index - 1]
    const upNeed = up.kbps || this.levels[this.index].kbps * 2
    if (speed > upNeed * UP_MULTIPLE) {
      if (++this.strong >= this.recoverAfter) {
        this.index--
        this.strong = 0
        return 'up'
      }
    } else {
      this.strong = 0
    }
    return null
  }
}

// qualityLabel names a level for people.
function qualityLabel(level) {
  if (!level) return ''
  return level.name === 'source' ? '原画' : level.name
}

module.exports = { QualitySwitcher, qualityLabel }
