// Member page (连麦中): a co-host pushes its own stream with
// <live-pusher mode="RTC"> (the push URL the server signs for its own
// stream) and plays the other live members from the subscribe list with
// <live-player mode="RTC" min-cache="0.1" max-cache="0.3">, straight from
// their publishers. Every status code becomes a message; a refused or lost
// push fetches a fresh URL (a co-host removed meanwhile is told so and
// goes back to watching); "下麦" leaves the co-hosts and returns to the
// room page.
const { pusherState, pusherError, formatNetStatus, PUSH_MODES } = require('../../utils/live-state')
const { ChatClient } = require('../../utils/chat')
const { bindCohost, meId, hostMethods } = require('../../utils/cohost')
const { Backoff } = require('../../utils/backoff')

const RTC = PUSH_MODES.find(m => m.mode === 'RTC')

Component({
  data: {
    room: null,
    pushUrl: '',
    minBitrate: RTC.minBitrate,
    maxBitrate: RTC.maxBitrate,
    muted: false,
    devicePosition: 'front',
    state: 'connecting',
    stateText: '正在进入连麦…',
    net: '',
    members: [],
    subscribeList: [],
    memberStates: {},
    error: '',
  },
  methods: {
    async onLoad(query) {
      const app = getApp()
      this.roomId = query && query.id
      this.retries = new Backoff({ min: 1000, max: 15000 })
      if (!this.roomId) {
        this.setData({ error: '缺少直播间 id' })
        return
      }
      await app.ready
      try {
        const room = await app.api.getRoom(this.roomId)
        const push = await app.api.pushURL(this.roomId)
        this.setData({ room, pushUrl: push.url })
        wx.setNavigationBarTitle({ title: `${room.title} · 连麦` })
      } catch (e) {
        this.setData({ error: e.status === 403 ? '你已不是连麦嘉宾' : (e.userMessage || e.message) })
        return
      }
      this.pusher = wx.createLivePusherContext()
      wx.setKeepScreenOn({ keepScreenOn: true })
      this.chat = new ChatClient({ api: app.api, roomId: this.roomId })
      this.cohost = bindCohost(this, this.chat, this.roomId, { api: app.api, meId: meId(app.api) })
      this.chat.on('frame', f => {
        const u = (f.member && f.member.user) || {}
        if (f.type === 'member_left' && u.id === meId(app.api)) this.removed()
      })
      this.chat.connect()
      await this.cohost.reload()
    },
    onUnload() {
      if (this.retryTimer) clearTimeout(this.retryTimer)
      this.retryTimer = null
      if (this.pusher) this.pusher.stop()
      if (this.cohost) this.cohost.unbind()
      if (this.chat) this.chat.close()
      wx.setKeepScreenOn({ keepScreenOn: false })
    },
    // onStateChange handles <live-pusher mode="RTC"> bindstatechange.
    onStateChange(e) {
      const s = pusherState(e.detail.code)
      const data = { state: s.state }
      if (s.message) data.stateText = s.message
      if (s.state === 'pushing') this.retries.reset()
      this.setData(data)
      if (s.action === 'refresh') this.refreshAndRetry()
      if (s.action === 'permission') this.explainPermission(s)
    },
    onError(e) {
      const s = pusherError(e.detail)
      this.setData({ state: s.state, stateText: s.message })
      if (s.action === 'permission') this.explainPermission(s)
    },
    onNetStatus(e) {
      this.setData({ net: formatNetStatus(e.detail.info) })
    },
    onMemberState: hostMethods.onMemberState,
    // refreshAndRetry asks for a fresh push URL and pushes again after a
    // growing delay; a 403 means the user is no longer a co-host.
    refreshAndRetry() {
      if (this.retryTimer) return
      this.retryTimer = setTimeout(async () => {
        this.retryTimer = null
        let push
        try {
          push = await getApp().api.pushURL(this.roomId)
        } catch (err) {
          if (err.status === 403) {
            this.removed()
            return
          }
          this.setData({ stateText: `获取推流地址失败：${err.userMessage || err.message}` })
          this.refreshAndRetry()
          return
        }
        const pusher = this.pusher
        pusher.stop({ complete: () => this.setData({ pushUrl: push.url }, () => pusher.start()) })
      }, this.retries.next())
    },
    explainPermission(s) {
      wx.showModal({
        title: s.message,
        content: s.help,
        confirmText: '去设置',
        success: res => {
          if (res.confirm) wx.openSetting()
        },
      })
    },
    // removed: the host ended this co-host's turn; back to watching.
    removed() {
      if (this.left) return
      this.left = true
      if (this.pusher) this.pusher.stop()
      wx.showToast({ title: '主播已结束你的连麦', icon: 'none' })
      wx.navigateBack()
    },
    switchCamera() {
      if (!this.pusher) return
      this.pusher.switchCamera()
      this.setData({ devicePosition: this.data.devicePosition === 'front' ? 'back' : 'front' })
    },
    toggleMute() {
      this.setData({ muted: !this.data.muted })
    },
    // leave stops pushing, leaves the co-hosts and returns to watching.
    async leave() {
      const app = getApp()
      this.left = true
      if (this.pusher) this.pusher.stop()
      try {
        await app.api.removeCohost(this.roomId, meId(app.api))
      } catch (e) {
        if (e.status !== 404) wx.showToast({ title: e.userMessage || e.message, icon: 'none' })
      }
      wx.navigateBack()
    },
  },
})
