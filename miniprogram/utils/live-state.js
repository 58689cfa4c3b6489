// Maps the status codes of <live-player> and <live-pusher> (their
// bindstatechange events, detail.code) to a state, a message for people and
// what the page should do, and formats their bindnetstatus info.

// live-player codes. action: 'restart' = stop and play again (the player
// gave up reconnecting), 'refetch' = fetch the play URL again.
const PLAYER = {
  2001: { state: 'connecting', message: '已连接服务器' },
  2002: { state: 'connecting', message: '已连接，开始拉流' },
  2003: { state: 'loading', message: '收到首个画面' },
  2004: { state: 'playing', message: '正在播放' },
  2005: { state: 'playing', message: '' },
  2006: { state: 'idle', message: '播放结束' },
  2007: { state: 'loading', message: '加载中…' },
  2008: { state: 'loading', message: '解码器已启动' },
  2009: { state: 'playing', message: '' },
  2101: { state: 'stutter', level: 'warn', message: '画面解码失败' },
  2102: { state: 'stutter', level: 'warn', message: '声音解码失败' },
  2103: { state: 'reconnecting', level: 'warn', message: '网络断开，正在重连…' },
  2104: { state: 'stutter', level: 'warn', message: '网络不稳定，画面可能卡顿' },
  2105: { state: 'stutter', level: 'warn', message: '画面卡顿，正在缓冲…' },
  2106: { state: 'playing', message: '' },
  2107: { state: 'stutter', level: 'warn', message: '画面不连续，可能丢帧' },
  2108: { state: 'playing', message: '' },
  3001: { state: 'reconnecting', level: 'warn', message: '域名解析失败，正在重试…' },
  3002: { state: 'reconnecting', level: 'warn', message: '无法连接服务器，正在重试…' },
  3003: { state: 'reconnecting', level: 'warn', message: '与服务器握手失败，正在重试…' },
  3005: { state: 'reconnecting', level: 'warn', message: '读取数据失败，正在重试…' },
  '-2301': { state: 'lost', level: 'error', message: '直播连接已断开，正在重新连接…', action: 'restart' },
  '-2302': { state: 'error', level: 'error', message: '没有可用的播放地址', action: 'refetch' },
}

// live-pusher codes. action: 'refresh' = fetch a new push URL and start
// again; 'permission' = the camera or microphone is not allowed.
const PUSHER = {
  1001: { state: 'connecting', message: '已连接推流服务器' },
  1002: { state: 'pushing', message: '直播中' },
  1003: { state: 'preview', message: '摄像头已打开' },
  1004: { state: 'preview', message: '录屏已启动' },
  1005: { state: 'pushing', message: '' },
  1006: { state: 'pushing', message: '' },
  1007: { state: 'preview', message: '' },
  1008: { state: 'preview', message: '' },
  1101: { state: 'congested', level: 'warn', message: '上行网络较差，画面可能不清晰' },
  1102: { state: 'reconnecting', level: 'warn', message: '网络断开，正在重连…' },
  1103: { state: 'pushing', message: '' },
  3001: { state: 'reconnecting', level: 'warn', message: '域名解析失败，正在重试…' },
  3002: { state: 'reconnecting', level: 'warn', message: '无法连接推流服务器，正在重试…' },
  3003: { state: 'reconnecting', level: 'warn', message: '与推流服务器握手失败，正在重试…' },
  3004: { state: 'lost', level: 'error', message: '服务器拒绝了推流，正在获取新的推流地址…', action: 'refresh' },
  3005: { state: 'reconnecting', level: 'warn', message: '发送数据失败，正在重试…' },
  '-1301': { state: 'denied', level: 'error', message: '无法打开摄像头', action: 'permission', permission: 'camera' },
  '-1302': { state: 'denied', level: 'error', message: '无法打开麦克风', action: 'permission', permission: 'record' },
  '-1303': { state: 'error', level: 'error', message: '视频编码失败' },
  '-1304': { state: 'error', level: 'error', message: '音频编码失败' },
  '-1305': { state: 'error', level: 'error', message: '不支持此视频分辨率' },
  '-1306': { state: 'error', level: 'error', message: '不支持此音频采样率' },
  '-1307': { state: 'lost', level: 'error', message: '推流连接已断开，正在重新推流…', action: 'refresh' },
  '-1308': { state: 'error', level: 'error', message: '开始录屏失败' },
  '-1309': { state: 'error', level: 'error', message: '录屏失败：系统版本太低' },
  '-1310': { state: 'error', level: 'error', message: '录屏被其他应用打断' },
  // RTC mode (连麦, the ROOM protocol).
  1018: { state: 'pushing', message: '已进入连麦' },
  1019: { state: 'idle', message: '已退出连麦' },
  1020: { state: 'pushing', message: '连麦成员有变化' },
  1021: { state: 'reconnecting', level: 'warn', message: '网络类型变化，正在重新连麦…' },
  1022: { state: 'lost', level: 'error', message: '进入连麦失败，正在获取新的推流地址…', action: 'refresh' },
  1031: { state: 'pushing', message: '有人加入了连麦' },
  1032: { state: 'pushing', message: '有人离开了连麦' },
  1033: { state: 'pushing', message: '' },
  1034: { state: 'pushing', message: '' },
  '-1311': { state: 'denied', level: 'error', message: '麦克风采集不到声音', action: 'permission', permission: 'record' },
  '-1312': { state: 'error', level: 'error', message: '录屏切换横竖屏失败' },
  5001: { state: 'paused', level: 'warn', message: '来电或闹钟打断了推流' },
}

// Instructions for granting a permission, by scope name.
const GRANT_HELP = {
  camera: '请允许使用摄像头：点击右上角「···」→「设置」，打开「摄像头」；若仍无法使用，请在手机系统设置中允许微信使用摄像头。',
  record: '请允许使用麦克风：点击右上角「···」→「设置」，打开「麦克风」；若仍无法使用，请在手机系统设置中允许微信使用麦克风。',
}

function lookup(table, code) {
  const n = Number(code)
  const entry = table[n] || table[String(n)]
  if (entry) {
    return Object.assign({ code: n, level: 'info', action: null }, entry)
  }
  // Unknown codes: negative ones are errors, others information.
  return { code: n, state: n < 0 ? 'error' : 'unknown', level: n < 0 ? 'error' : 'info', message: n < 0 ? `出错了（${n}）` : '', action: null }
}

/** playerState describes a <live-player> statechange code. */
function playerState(code) {
  return lookup(PLAYER, code)
}

/** pusherState describes a <live-pusher> statechange code. */
function pusherState(code) {
  const s = lookup(PUSHER, code)
  if (s.permission) s.help = GRANT_HELP[s.permission]
  return s
}

/**
 * pusherError describes a <live-pusher> binderror event detail
 * ({errCode, errMsg}): 10001 and 10002 are a camera or microphone that was
 * not allowed.
 */
function pusherError(detail) {
  const d = detail || {}
  const code = Number(d.errCode)
  if (code === 10001 || code === 10002) {
    return { code, state: 'denied', level: 'error', action: 'permission', message: '无法使用摄像头或麦克风', help: `${GRANT_HELP.camera}\n${GRANT_HELP.record}` }
  }
  return { code, state: 'error', level: 'error', action: null, message: `推流出错：${d.errMsg || code}` }
}

function num(v) {
  const n = Number(v)
  return Number.isFinite(n) ? n : 0
}

/**
 * formatNetStatus turns a bindnetstatus detail.info of either component
 * into one short line: bitrates (kbps), fps, size, and for the player the
 * buffered video (ms).
 */
function formatNetStatus(info) {
  const i = info || {}
  const parts = []
  const v = num(i.videoBitrate)
  const a = num(i.audioBitrate)
  parts.push(`${v + a} kbps`)
  if (num(i.videoFPS) > 0) parts.push(`${Math.round(num(i.videoFPS))} fps`)
  if (num(i.videoWidth) > 0 && num(i.videoHeight) > 0) parts.push(`${i.videoWidth}×${i.videoHeight}`)
  if (i.videoCache !== undefined) parts.push(`缓冲 ${num(i.videoCache)} ms`)
  if (num(i.netSpeed) > 0) parts.push(`网速 ${num(i.netSpeed)} kbps`)
  return parts.join(' · ')
}

// <live-pusher> modes with the bitrate bounds (kbps) the host page uses.
const PUSH_MODES = [
  { mode: 'SD', label: '标清', minBitrate: 300, maxBitrate: 800 },
  { mode: 'HD', label: '高清', minBitrate: 600, maxBitrate: 1500 },
  { mode: 'FHD', label: '超清', minBitrate: 1000, maxBitrate: 2500 },
  { mode: 'RTC', label: '实时', minBitrate: 200, maxBitrate: 1000 },
]

module.exports = { playerState, pusherState, pusherError, formatNetStatus, PUSH_MODES, GRANT_HELP }
