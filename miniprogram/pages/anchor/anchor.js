// Host page: pick or create a room, get its signed push URL, and push with
// <live-pusher> (mode, bitrate bounds, camera, mute, beauty); the pusher's
// status codes become messages, a lost connection fetches a fresh push URL
// and starts again with back-off, a denied camera or microphone explains
// how to allow it. The chat shows below, with moderation for the host.
const { pusherState, pusherError, formatNetStatus, PUSH_MODES } = require('../../utils/live-state')
const { ChatClient } = require('../../utils/chat')
const { bindChat } = require('../../utils/chat-view')
const { Backoff } = require('../../utils/backoff')
const { bindCohost, meId, hostMethods } = require('../../utils/cohost')

// Moderation choices of the action sheet on a chat message.
const ACTIONS = [
  { label: '禁言 10 分钟', action: 'mute', fields: m => ({ user_id: m.userId, seconds: 600 }) },
  { label: '踢出 5 分钟', action: 'kick', fields: m => ({ user_id: m.userId, seconds: 300 }) },
  { label: '封禁', action: 'ban', fields: m => ({ user_id: m.userId }) },
  { label: '删除这条消息', action: 'delete', fields: m => ({ message_id: m.id }) },
]

Component({
  data: {
    rooms: [],
    room: null,
    newTitle: '',
    pushUrl: '',
    modes: PUSH_MODES,
    modeLabels: PUSH_MODES.map(m => `${m.label}（${m.mode}）`),
    modeIndex: 1,
    mode: PUSH_MODES[1].mode,
    minBitrate: PUSH_MODES[1].minBitrate,
    maxBitrate: PUSH_MODES[1].maxBitrate,
    pushing: false,
    state: 'idle',
    stateText: '',
    net: '',
    muted: false,
    beauty: 5,
    whiteness: 2,
    devicePosition: 'front',
    messages: [],
    lastMessageId: '',
    likes: 0,
    online: 0,
    viewers: 0,
    pinned: '',
    canSend: false,
    input: '',
    pinInput: '',
    error: '',
    members: [],
    subscribeList: [],
    requests: [],
    memberStates: {},
  },
  methods: {
    async onLoad(query) {
      const app = getApp()
      this.retries = new Backoff({ min: 1000, max: 20000 })
      await app.ready
      try {
        await app.api.ensureLogin()
      } catch (e) {
        this.setData({ error: `开播需要登录：${e.userMessage || e.message}` })
        return
      }
      if (query && query.id) await this.selectRoom(query.id)
      else await this.loadMyRooms()
    },
    onUnload() {
      if (this.retryTimer) clearTimeout(this.retryTimer)
      this.retryTimer = null
      if (this.pusher && this.data.pushing) this.pusher.stop()
      if (this.unbind) this.unbind()
      if (this.cohost) this.cohost.unbind()
      if (this.chat) this.chat.close()
      wx.setKeepScreenOn({ keepScreenOn: false })
    },
    async loadMyRooms() {
      try {
        const res = await getApp().api.listRooms({ owner: 'me', limit: 50 })
        this.setData({ rooms: res.rooms })
      } catch (e) {
        this.setData({ error: e.userMessage || e.message })
      }
    },
    onTitleInput(e) {
      this.setData({ newTitle: e.detail.value })
    },
    // chooseCover uploads a picture from the album or the camera as the
    // room's cover (shown while not live); the server checks and re-encodes it.
    chooseCover() {
      const room = this.data.room
      if (!room) return Promise.resolve()
      return new Promise(resolve => {
        wx.chooseMedia({
          count: 1,
          mediaType: ['image'],
          sourceType: ['album', 'camera'],
          sizeType: ['compressed'],
          success: res => {
            wx.getFileSystemManager().readFile({
              filePath: res.tempFiles[0].tempFilePath,
              success: async file => {
                try {
                  await getApp().api.setCover(room.id, file.data)
                  wx.showToast({ title: '封面已更新', icon: 'success' })
                } catch (e) {
                  wx.showToast({ title: e.userMessage || e.message, icon: 'none' })
                }
                resolve()
              },
              fail: () => {
                wx.showToast({ title: '读取图片失败', icon: 'none' })
                resolve()
              },
            })
          },
          fail: () => resolve(), // cancelled
        })
      })
    },
    async createRoom() {
      const title = this.data.newTitle.trim()
      if (!title) {
        wx.showToast({ title: '请填写直播标题', icon: 'none' })
        return
      }
      try {
        const room = await getApp().api.createRoom({ title })
        await this.selectRoom(room.id)
      } catch (e) {
        wx.showToast({ title: e.userMessage || e.message, icon: 'none' })
      }
    },
    pickRoom(e) {
      return this.selectRoom(e.currentTarget.dataset.id)
    },
    async selectRoom(id) {
      const api = getApp().api
      try {
        const room = await api.getRoom(id)
        const push = await api.pushURL(id)
        this.setData({ room, pushUrl: push.url, error: '', stateText: '准备就绪，点击「开始直播」' })
      } catch (e) {
        this.setData({ error: e.userMessage || e.message })
        return
      }
      this.pusher = wx.createLivePusherContext()
      wx.setKeepScreenOn({ keepScreenOn: true })
      wx.setNavigationBarTitle({ title: this.data.room.title })
      this.startChat(id)
    },
    startChat(roomId) {
      if (this.chat) return
      this.chat = new ChatClient({ api: getApp().api, roomId })
      this.unbind = bindChat(this, this.chat)
      this.cohost = bindCohost(this, this.chat, roomId, { api: getApp().api, meId: meId(getApp().api) })
      this.cohost.reload()
      this.chat.on('error', e => wx.showToast({ title: e.userMessage, icon: 'none' }))
      this.chat.connect()
    },
    onModeChange(e) {
      if (this.data.pushing) {
        wx.showToast({ title: '直播中不能切换清晰度', icon: 'none' })
        return
      }
      const i = Number(e.detail.value)
      const m = PUSH_MODES[i]
      if (!m) return
      this.setData({ modeIndex: i, mode: m.mode, minBitrate: m.minBitrate, maxBitrate: m.maxBitrate })
    },
    start() {
      if (!this.pusher || !this.data.pushUrl) return
      this.retries.reset()
      this.pusher.start({
        success: () => this.setData({ pushing: true, stateText: '正在连接…' }),
        fail: err => wx.showToast({ title: `开播失败：${(err && err.errMsg) || ''}`, icon: 'none' }),
      })
    },
    // stop ends the live after the host confirms.
    stop() {
      wx.showModal({
        title: '结束直播',
        content: '确定要结束直播吗？观众将看到直播已结束。',
        confirmText: '结束',
        success: res => {
          if (!res.confirm) return
          if (this.retryTimer) clearTimeout(this.retryTimer)
          this.retryTimer = null
          this.pusher.stop()
          this.setData({ pushing: false, state: 'idle', stateText: '直播已结束', net: '' })
        },
      })
    },
    switchCamera() {
      if (!this.pusher) return
      this.pusher.switchCamera()
      this.setData({ devicePosition: this.data.devicePosition === 'front' ? 'back' : 'front' })
    },
    toggleMute() {
      this.setData({ muted: !this.data.muted })
    },
    toggleBeauty() {
      const on = this.data.beauty > 0
      this.setData({ beauty: on ? 0 : 5, whiteness: on ? 0 : 2 })
    },
    // onStateChange handles <live-pusher> bindstatechange.
    onStateChange(e) {
      const s = pusherState(e.detail.code)
      const data = { state: s.state }
      if (s.message) data.stateText = s.message
      if (s.state === 'pushing') this.retries.reset()
      this.setData(data)
      if (s.action === 'refresh' && this.data.pushing) this.refreshAndRetry()
      if (s.action === 'permission') this.explainPermission(s)
    },
    onError(e) {
      const s = pusherError(e.detail)
      this.setData({ state: s.state, stateText: s.message })
      if (s.action === 'permission') this.explainPermission(s)
    },
    // refreshAndRetry fetches a new push URL (the old one may have expired,
    // or the server refused it) and pushes again after a growing delay.
    refreshAndRetry() {
      if (this.retryTimer) return
      const delay = this.retries.next()
      this.retryTimer = setTimeout(async () => {
        this.retryTimer = null
        if (!this.data.pushing) return
        let push
        try {
          push = await getApp().api.pushURL(this.data.room.id)
        } catch (err) {
          this.setData({ stateText: `获取推流地址失败：${err.userMessage || err.message}` })
          this.refreshAndRetry()
          return
        }
        const pusher = this.pusher
        pusher.stop({
          complete: () => this.setData({ pushUrl: push.url }, () => pusher.start()),
        })
      }, delay)
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
    onNetStatus(e) {
      this.setData({ net: formatNetStatus(e.detail.info) })
    },
    onInput(e) {
      this.setData({ input: e.detail.value })
    },
    sendMessage() {
      const text = this.data.input.trim()
      if (text && this.chat && this.chat.send(text)) this.setData({ input: '' })
    },
    onPinInput(e) {
      this.setData({ pinInput: e.detail.value })
    },
    pin() {
      const text = this.data.pinInput.trim()
      if (text && this.chat && this.chat.moderate('pin', { text })) this.setData({ pinInput: '' })
    },
    unpin() {
      if (this.chat) this.chat.moderate('unpin')
    },
    ...hostMethods,
    // moderateMessage offers the moderation actions for a tapped message.
    moderateMessage(e) {
      const m = this.data.messages.find(x => x.id === e.currentTarget.dataset.id)
      if (!m || m.mine || !this.chat) return
      wx.showActionSheet({
        itemList: ACTIONS.map(a => a.label),
        success: res => {
          const a = ACTIONS[res.tapIndex]
          if (a) this.chat.moderate(a.action, a.fields(m))
        },
      })
    },
  },
})
