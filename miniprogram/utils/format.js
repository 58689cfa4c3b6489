// Small formatting helpers shared by the pages.

function pad(n) {
  return n < 10 ? `0${n}` : String(n)
}

/** duration formats milliseconds as H:MM:SS (or M:SS under an hour). */
function duration(ms) {
  const total = Math.max(0, Math.floor((Number(ms) || 0) / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`
}

/** liveFor is how long a live room has been live at now (ms since epoch). */
function liveFor(room, now) {
  if (!room || room.status !== 'live' || !room.live_since) return ''
  return duration((now || Date.now()) - Date.parse(room.live_since))
}

/** count formats a count the Chinese way: 9999, 1.2万, 3.4亿. */
function count(n) {
  const v = Number(n) || 0
  if (v >= 1e8) return `${(v / 1e8).toFixed(1).replace(/\.0$/, '')}亿`
  if (v >= 1e4) return `${(v / 1e4).toFixed(1).replace(/\.0$/, '')}万`
  return String(v)
}

/** clock formats a time (ms or RFC 3339) as HH:MM in local time. */
function clock(t) {
  const d = new Date(typeof t === 'string' ? Date.parse(t) : t)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** date formats a time (ms or RFC 3339) as YYYY-MM-DD HH:MM in local time. */
function date(t) {
  const d = new Date(typeof t === 'string' ? Date.parse(t) : t)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(d.getTime())}`
}

const STATUS = { live: '直播中', idle: '未开播', ended: '已结束' }

/** status is a room status for people. */
function status(s) {
  return STATUS[s] || s
}

module.exports = { duration, liveFor, count, clock, date, status }
