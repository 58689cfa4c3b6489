// Live-room chat client (protocol: docs/chat.md) over wx.connectSocket:
// welcome/history/live frames (single objects or batched arrays),
// reconnection with back-off that resumes with ?since=, likes gathered into
// one frame per interval, an application-level ping to notice dead
// networks, and the moderation commands of the room's owner.

const { Backoff } = require('./backoff')

// Close reasons after which reconnecting is pointless or refused.
const FINAL_REASONS = ['kicked', 'banned', 'too_many_connections', 'flooding']
// Error codes sent just before the server closes a refused connection.
const FINAL_ERRORS = ['kicked', 'banned', 'too_many_connections']
const MODERATION = ['mute', 'unmute', 'kick', 'ban', 'unban', 'delete', 'pin', 'unpin']

// Chinese messages for the chat's error codes (docs/chat.md, `error` frame).
const CHAT_ERRORS = {
  unauthorized: '登录后才能发言和点赞',
  forbidden: '只有主播和管理员可以管理直播间',
  muted: '你已被禁言',
  rate_limited: '发言太快了，请稍等',
  too_long: '消息太长了',
  empty: '消息不能为空',
  bad_request: '消息格式有误',
  not_found: '消息不存在或已被删除',
  internal: '服务器出错了，请重试',
  banned: '你已被禁止进入此直播间',
  kicked: '你已被移出直播间',
  too_many_connections: '打开的直播间太多了',
  flooding: '操作太频繁，已断开连接',
  room_deleted: '直播间已被删除',
  too_many_cohosts: '连麦人数已满',
  user_banned: '该用户已被封禁，不能连麦',
  skipped_fetch_failed: '部分略过的消息未能补取',
}

// The most messages one gap fetch asks for (the API's page limit).
const MAX_GAP_FETCH = 500

/** chatErrorMessage returns a message for people for a chat error code. */
function chatErrorMessage(code, fallback) {
  return CHAT_ERRORS[code] || fallback || `聊天出错（${code}）`
}

/**
 * ChatClient is one room's chat connection. Listen with on(type, fn):
 *
 *   state      {state: 'connecting'|'open'|'reconnecting'|'closed', reason?, delay?}
 *   welcome    the welcome frame
 *   history    {messages, resumed, truncated} (messages already seen are left out)
 *   message    a new chat message
 *   likes      {total} (total includes the caller's likes not yet counted by the server)
 *   presence   {online, viewers}
 *   notice     {kind, text?}; also 'started' and 'ended' for stream_started/stream_ended;
 *              after room_deleted the client closes for good (state closed, reason room_deleted)
 *   deleted    {id, seq}
 *   skipped    {count, lastSeq}: the server skipped count messages (the newest
 *              being lastSeq) because this client fell behind; they are
 *              fetched a moment later and come as
 *   missed     {messages}: the fetched ones, oldest first, to insert by seq
 *   muted, unmuted, kicked, banned, error ({code, message, userMessage}), pong
 *
 * options: api (from createApi), roomId, wx, likeFlushMs (500),
 * pingInterval (20000, 0 = off), pongTimeout (10000), backoff (a Backoff or
 * its options), gapDelay (a function giving the ms to wait after a skipped
 * notice before fetching; default 250–1000 at random, so that close skips
 * are fetched at once and a room's clients do not all ask together).
 */
class ChatClient {
  constructor(options) {
    const o = options || {}
    if (!o.api || !o.roomId) throw new Error('chat: api and roomId are required')
    this.api = o.api
    this.roomId = o.roomId
    // eslint-disable-next-line no-undef
    this.wx = o.wx || wx
    this.likeFlushMs = o.likeFlushMs > 0 ? o.likeFlushMs : 500
    this.pingInterval = o.pingInterval === undefined ? 20000 : o.pingInterval
    this.pongTimeout = o.pongTimeout || 10000
    this.backoff = o.backoff instanceof Backoff ? o.backoff : new Backoff(Object.assign({ min: 1000, max: 30000 }, o.backoff))
    this.handlers = {}
    this.state = 'closed'
    this.task = null
    this.lastSeq = 0
    this.welcome = null
    this.canSend = false
    this.canModerate = false
    this.user = null
    this.likesTotal = 0
    this.pendingLikes = 0
    this.inflightLikes = 0
    this.online = 0
    this.viewers = 0
    this.pinned = ''
    this.connects = 0
    this.stopped = true
    this.timers = {}
    this.gapDelay = typeof o.gapDelay === 'function' ? o.gapDelay : () => 250 + Math.random() * 750
    this.gap = null
  }

  /** on registers fn for events of type; it returns a function that removes it. */
  on(type, fn) {
    (this.handlers[type] = this.handlers[type] || []).push(fn)
    return () => {
      this.handlers[type] = (this.handlers[type] || []).filter(f => f !== fn)
    }
  }

  emit(type, payload) {
    (this.handlers[type] || []).slice().forEach(fn => fn(payload))
  }

  setState(state, extra) {
    this.state = state
    this.emit('state', Object.assign({ state }, extra))
  }

  /** likes is the like total to show: the server's plus the caller's not yet counted. */
  get likes() {
    return this.likesTotal + this.pendingLikes + this.inflightLikes
  }

  /** connect opens the connection (and keeps it open until close()). */
  connect() {
    this.stopped = false
    this.finalError = ''
    this.backoff.reset()
    this.open()
  }

  open() {
    this.clearTimer('reconnect')
    const task = this.wx.connectSocket({ url: this.api.chatURL(this.roomId, this.lastSeq) })
    this.task = task
    this.opened = false
    this.connects++
    this.setState(this.connects > 1 ? 'reconnecting' : 'connecting')
    task.onOpen(() => {
      if (this.task !== task) return
      this.opened = true
    })
    task.onMessage(res => {
      if (this.task !== task) return
      this.received()
      this.handleData(res.data)
    })
    task.onError(() => {
      // Once open, onClose follows. A connection that failed before opening
      // may report only the error, so it counts as lost here (a later
      // onClose of this task is then ignored).
      if (this.task !== task || this.opened) return
      this.task = null
      this.lost(1006, 'connect failed')
    })
    task.onClose(res => {
      if (this.task !== task) return
      this.task = null
      this.lost((res && res.code) || 1006, (res && res.reason) || '')
    })
  }

  // lost handles the end of the current socket: reconnect unless closed on
  // purpose or refused for good.
  lost(code, reason) {
    this.clearTimer('ping')
    this.clearTimer('pong')
    this.canSend = false
    if (this.stopped) {
      this.setState('closed', { code, reason })
      return
    }
    // The server closes with 1000 only when the room was deleted.
    if (code === 1000 || FINAL_REASONS.indexOf(reason) >= 0 || this.finalError) {
      this.stopped = true
      this.setState('closed', { code, reason: this.finalError || reason })
      return
    }
    const neverOpened = !this.opened
    const delay = this.backoff.next()
    this.setState('reconnecting', { code, reason, delay })
    this.setTimer('reconnect', delay, () => {
      if (this.stopped) return
      if (!neverOpened) {
        this.open()
        return
      }
      // The upgrade was refused: an expired token (the API logs in again
      // on 401) or a room that is gone. Ask the API before trying again.
      this.api.getRoom(this.roomId).then(() => {
        if (!this.stopped) this.open()
      }, e => {
        if (this.stopped) return
        if (e && e.status === 404) {
          this.stopped = true
          this.setState('closed', { reason: 'not_found' })
          return
        }
        this.lost(1006, 'unreachable')
      })
    })
  }

  /** close ends the connection and stops reconnecting. */
  close() {
    this.stopped = true
    this.gap = null
    this.flushLikes()
    Object.keys(this.timers).forEach(k => this.clearTimer(k))
    const task = this.task
    this.task = null
    if (task) task.close({ code: 1000, reason: 'bye' })
    this.setState('closed', { reason: 'closed' })
  }

  // received notes that the server is alive.
  received() {
    this.clearTimer('pong')
  }

  schedulePing() {
    if (!(this.pingInterval > 0)) return
    this.setTimer('ping', this.pingInterval, () => {
      if (!this.sendFrame({ type: 'ping' })) return
      // The first unanswered ping starts the clock; later pings do not reset it.
      if (!this.timers.pong) this.setTimer('pong', this.pongTimeout, () => this.dropDead())
      this.schedulePing()
    })
  }

  // dropDead abandons a socket that stopped answering and reconnects at once.
  dropDead() {
    const task = this.task
    if (!task) return
    this.task = null
    try {
      task.close({ code: 4000, reason: 'pong timeout' })
    } catch (e) {
      // the socket is dead already
    }
    this.lost(4000, 'pong timeout')
  }

  handleData(data) {
    if (typeof data !== 'string') return
    let parsed
    try {
      parsed = JSON.parse(data)
    } catch (e) {
      return
    }
    const frames = Array.isArray(parsed) ? parsed : [parsed]
    frames.forEach(f => {
      if (f && typeof f === 'object') this.handleFrame(f)
    })
  }

  handleFrame(f) {
    this.emit('frame', f)
    switch (f.type) {
      case 'welcome':
        this.welcome = f
        this.user = f.user || null
        this.canSend = !!f.can_send
        this.canModerate = !!f.can_moderate
        this.likesTotal = f.likes || 0
        this.inflightLikes = 0
        this.online = f.online || 0
        this.viewers = f.viewers || 0
        this.pinned = f.pinned || ''
        this.finalError = ''
        this.backoff.reset()
        this.setState('open')
        this.emit('welcome', f)
        this.schedulePing()
        this.flushLikes()
        break
      case 'history': {
        const messages = (f.messages || []).filter(m => !(m.seq <= this.lastSeq))
        messages.forEach(m => this.seen(m))
        if (this.welcome && this.welcome.last_seq > this.lastSeq) this.lastSeq = this.welcome.last_seq
        this.emit('history', { messages, resumed: !!f.resumed, truncated: !!f.truncated })
        break
      }
      case 'chat':
        if (f.seq <= this.lastSeq) return
        this.seen(f)
        this.emit('message', f)
        break
      case 'likes':
        this.likesTotal = f.total || 0
        this.inflightLikes = 0
        this.emit('likes', { total: this.likes })
        break
      case 'presence':
        this.online = f.online || 0
        this.viewers = f.viewers || 0
        this.emit('presence', { online: this.online, viewers: this.viewers })
        break
      case 'notice':
        if (f.kind === 'skipped') {
          this.skipped(Number(f.count), Number(f.last_seq))
          break
        }
        if (f.kind === 'pinned') this.pinned = f.text || ''
        if (f.kind === 'unpinned') this.pinned = ''
        // The room is gone; the server closes the connection next.
        if (f.kind === 'room_deleted') this.finalError = 'room_deleted'
        this.emit('notice', f)
        if (f.kind === 'stream_started') this.emit('started', f)
        if (f.kind === 'stream_ended') this.emit('ended', f)
        break
      case 'deleted':
        this.emit('deleted', f)
        break
      case 'muted':
        this.canSend = false
        this.emit('muted', f)
        break
      case 'unmuted':
        this.canSend = !!this.user
        this.emit('unmuted', f)
        break
      case 'kicked':
      case 'banned':
        this.finalError = f.type
        this.emit(f.type, f)
        break
      case 'error':
        if (FINAL_ERRORS.indexOf(f.code) >= 0) this.finalError = f.code
        this.emit('error', Object.assign({}, f, { userMessage: chatErrorMessage(f.code, f.message) }))
        break
      case 'pong':
        this.emit('pong', f)
        break
      default:
        // Unknown frame types are ignored, so newer servers stay compatible.
    }
  }

  seen(m) {
    if (m.seq > this.lastSeq) this.lastSeq = m.seq
  }

  // skipped handles a skipped notice: the server dropped count messages up
  // to lastSeq for this client. Live messages (and a resume) go on after
  // lastSeq; the gap is fetched over REST a moment later, together with
  // any gap that follows meanwhile.
  skipped(count, lastSeq) {
    if (!(count > 0) || !(lastSeq > 0)) return
    if (lastSeq > this.lastSeq) this.lastSeq = lastSeq
    const gap = this.gap || { count: 0, last: 0 }
    this.gap = { count: gap.count + count, last: Math.max(gap.last, lastSeq) }
    this.emit('skipped', { count, lastSeq })
    if (!this.timers.gap) this.setTimer('gap', this.gapDelay(), () => this.fetchGap())
  }

  // fetchGap fetches the skipped messages and emits them as missed.
  fetchGap() {
    const gap = this.gap
    this.gap = null
    if (!gap || this.stopped) return Promise.resolve()
    const params = { before: gap.last + 1, limit: Math.min(gap.count, MAX_GAP_FETCH) }
    return this.api.messages(this.roomId, params).then(page => {
      if (this.stopped) return
      const messages = ((page && page.messages) || []).filter(m => m && m.seq <= gap.last)
      this.emit('missed', { messages })
    }, e => {
      if (this.stopped) return
      const message = (e && e.message) || String(e)
      this.emit('error', { code: 'skipped_fetch_failed', message, userMessage: chatErrorMessage('skipped_fetch_failed') })
    })
  }

  sendFrame(obj) {
    if (!this.task || this.state !== 'open') return false
    this.task.send({ data: JSON.stringify(obj) })
    return true
  }

  /** send sends a chat message; false when it cannot be sent now. */
  send(text) {
    const t = String(text || '').trim()
    if (!t || !this.canSend) return false
    return this.sendFrame({ type: 'chat', text: t })
  }

  /** like counts n taps; they go out together at most every likeFlushMs. */
  like(n) {
    const count = n > 0 ? Math.floor(n) : 1
    this.pendingLikes += count
    this.emit('likes', { total: this.likes })
    if (!this.timers.likes) this.setTimer('likes', this.likeFlushMs, () => this.flushLikes())
  }

  /** flushLikes sends the gathered likes now, at most 100 per frame. */
  flushLikes() {
    this.clearTimer('likes')
    while (this.pendingLikes > 0) {
      const count = Math.min(100, this.pendingLikes)
      if (!this.sendFrame({ type: 'like', count })) return
      this.pendingLikes -= count
      this.inflightLikes += count
    }
  }

  /**
   * moderate sends a moderation command: action is one of mute, unmute,
   * kick, ban, unban, delete, pin, unpin; fields as in docs/chat.md
   * (user_id, seconds, message_id, text).
   */
  moderate(action, fields) {
    if (MODERATION.indexOf(action) < 0) throw new Error(`chat: unknown moderation action ${JSON.stringify(action)}`)
    return this.sendFrame(Object.assign({}, fields, { type: action }))
  }

  /** requestCohost asks to co-host (连麦申请); false while disconnected. */
  requestCohost() {
    return this.sendFrame({ type: 'cohost_request' })
  }

  /** cancelCohost withdraws the user's own co-host request. */
  cancelCohost() {
    return this.sendFrame({ type: 'cohost_cancel' })
  }

  /** answerCohost accepts (accept true) or rejects a user's request. */
  answerCohost(userId, accept) {
    return this.sendFrame({ type: accept ? 'cohost_accept' : 'cohost_reject', user_id: userId })
  }

  setTimer(name, ms, fn) {
    this.clearTimer(name)
    this.timers[name] = setTimeout(() => {
      delete this.timers[name]
      fn()
    }, ms)
  }

  clearTimer(name) {
    if (this.timers[name]) {
      clearTimeout(this.timers[name])
      delete this.timers[name]
    }
  }
}

module.exports = { ChatClient, chatErrorMessage, CHAT_ERRORS, MAX_GAP_FETCH }
