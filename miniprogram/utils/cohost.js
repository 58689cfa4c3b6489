// Co-hosts (连麦): the room's members as a subscribe list for
// <live-player mode="RTC"> tiles, the requests the host answers, and the
// requester's side of the flow. The chat carries the requests and the
// member events (docs/chat.md, "Co-hosts"); the REST API adds, removes and
// lists members (docs/api.md). bindCohost keeps a page's data in step.

const { displayName } = require('./chat-view')

// RTC-mode tiles: members play each other with the smallest buffers.
const RTC_MIN_CACHE = 0.1
const RTC_MAX_CACHE = 0.3

/**
 * subscribeList returns the members of room other than meId that are live,
 * as tiles: {userId, name, role, stream, src, live}. src is the member's
 * RTMP URL (protocol 'rtmp') or HTTP-FLV URL ('flv').
 */
function subscribeList(room, meId, protocol) {
  const members = (room && room.members) || []
  return members
    .filter(m => m.user && m.user.id !== meId && m.live && m.play)
    .map(m => ({
      userId: m.user.id,
      name: displayName(m.user),
      role: m.role,
      roleText: m.role === 'host' ? '主播' : '连麦',
      stream: m.stream,
      src: protocol === 'flv' ? m.play.flv : m.play.rtmp,
      live: m.live,
    }))
}

/** memberList returns every member for the host's list, with names. */
function memberList(room) {
  return ((room && room.members) || []).map(m => ({
    userId: m.user.id,
    name: displayName(m.user),
    role: m.role,
    roleText: m.role === 'host' ? '主播' : '连麦',
    live: !!m.live,
  }))
}

// What the requester is told, by answer.
const ANSWERS = {
  accepted: '主播同意了你的连麦申请',
  rejected: '主播拒绝了你的连麦申请',
  expired: '连麦申请已过期，可以再次申请',
  cancelled: '已取消连麦申请',
}

/** answerMessage is the sentence for a cohost_answer. */
function answerMessage(answer) {
  return ANSWERS[answer] || `连麦申请结束（${answer}）`
}

/**
 * bindCohost wires a chat client and the room's members to page. Data keys:
 * members, subscribeList, requests ([{userId, name}]), cohostPending (the
 * user's own request waits). options.meId is the user's id; options.onAnswer
 * (answer) is called when the user's own request was answered; options.protocol
 * is the tiles' protocol ('rtmp' default). It returns {reload(), unbind()}.
 */
function bindCohost(page, client, roomId, options) {
  const o = options || {}
  const api = o.api || getApp().api // eslint-disable-line no-undef
  const requests = new Map()
  let stopped = false
  const set = data => { if (!stopped) page.setData(data) }
  const drawRequests = () => set({ requests: Array.from(requests.values()) })
  const reload = async () => {
    try {
      const room = await api.getRoom(roomId)
      set({ members: memberList(room), subscribeList: subscribeList(room, o.meId, o.protocol || 'rtmp') })
      return room
    } catch (e) {
      return null
    }
  }
  const off = client.on('frame', f => {
    const user = f.user || (f.member && f.member.user) || {}
    switch (f.type) {
      case 'cohost_request':
        if (user.id === o.meId) {
          set({ cohostPending: true })
          return
        }
        requests.set(user.id, { userId: user.id, name: displayName(user), expiresAt: f.expires_at })
        drawRequests()
        break
      case 'cohost_answer':
        if (user.id === o.meId) {
          set({ cohostPending: false })
          if (o.onAnswer) o.onAnswer(f.answer)
          return
        }
        requests.delete(user.id)
        drawRequests()
        break
      case 'member_joined':
      case 'member_left':
      case 'member_live':
      case 'member_offline':
        reload()
        break
    }
  })
  const timer = setInterval(() => {
    const now = Date.now()
    let gone = false
    requests.forEach((r, id) => {
      if (r.expiresAt && r.expiresAt <= now) {
        requests.delete(id)
        gone = true
      }
    })
    if (gone) drawRequests()
  }, 1000)
  return {
    reload,
    unbind() {
      stopped = true
      clearInterval(timer)
      off()
    },
  }
}

/** meId returns the logged-in user's id, or ''. */
function meId(api) {
  const s = api.session()
  return (s && s.user && s.user.id) || ''
}

/**
 * hostMethods are the host page's co-host handlers (spread into its
 * methods): answer requests, remove a member, and the tiles' statechange.
 * They expect this.chat, this.cohost (bindCohost) and data.room.
 */
const hostMethods = {
  acceptCohost(e) {
    if (!this.chat || !this.chat.answerCohost(e.currentTarget.dataset.id, true)) {
      wx.showToast({ title: '聊天未连接，请稍候', icon: 'none' }) // eslint-disable-line no-undef
    }
  },
  rejectCohost(e) {
    if (!this.chat || !this.chat.answerCohost(e.currentTarget.dataset.id, false)) {
      wx.showToast({ title: '聊天未连接，请稍候', icon: 'none' }) // eslint-disable-line no-undef
    }
  },
  // removeMember ends a co-host's publish after the host confirms.
  removeMember(e) {
    const id = e.currentTarget.dataset.id
    const m = (this.data.members || []).find(x => x.userId === id)
    /* eslint-disable no-undef */
    wx.showModal({
      title: '移出连麦',
      content: `确定让 ${m ? m.name : '该用户'} 下麦吗？其推流会立即结束。`,
      confirmText: '下麦',
      success: async res => {
        if (!res.confirm) return
        try {
          await getApp().api.removeCohost(this.data.room.id, id)
          wx.showToast({ title: '已下麦', icon: 'none' })
          if (this.cohost) await this.cohost.reload()
        } catch (err) {
          wx.showToast({ title: err.userMessage || err.message, icon: 'none' })
        }
      },
    })
    /* eslint-enable no-undef */
  },
  // onMemberState handles a member tile's <live-player> bindstatechange.
  onMemberState(e) {
    const { playerState } = require('./live-state')
    const s = playerState(e.detail.code)
    const id = e.currentTarget.dataset.id
    this.setData({ [`memberStates.${id}`]: s.state === 'playing' ? '' : s.message })
  },
}

module.exports = { subscribeList, memberList, bindCohost, answerMessage, meId, hostMethods, RTC_MIN_CACHE, RTC_MAX_CACHE }
