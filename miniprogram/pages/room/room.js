// Viewer page: <live-player> on the room's HTTP-FLV (or RTMP) URL, the
// player's status codes turned into messages (restarting playback with
// back-off when it gives up), and the chat overlay: history, sending,
// batched likes, online count, the "live ended" state.
const { playerState, formatNetStatus } = require('../../utils/live-state')
const { ChatClient, chatErrorMessage } = require('../../utils/chat')
const { bindChat } = require('../../utils/chat-view')
const { Backoff } = require('../../utils/backoff')
const { bindCohost, answerMessage, meId } = require('../../utils/cohost')
const { QualitySwitcher, qualityLabel } = require('../../utils/quality')

Component({
  data: {
    room: null,
    src: '',
    protocol: 'flv',
    minCache: 1,
    maxCache: 3,
    state: 'loading',
    stateText: '加载中…',
    net: '',
    quality: '',
    ended: false,
    fullscreen: false,
    messages: [],
    lastMessageId: '',
    likes: 0,
    online: 0,
    viewers: 0,
    pinned: '',
    canSend: false,
    chatState: 'connecting',
    input: '',
    error: '',
    cohostPending: false,
  },
  methods: {
    async onLoad(query) {
      const app = getApp()
      const cfg = app.globalData.config
      this.roomId = query && query.id
      this.restarts = new Backoff({ min: 1000, max: 15000 })
      this.quality = new QualitySwitcher()
      this.setData({ protocol: cfg.playProtocol === 'rtmp' ? 'rtmp' : 'flv', minCache: cfg.player.minCache, maxCache: cfg.player.maxCache })
      if (!this.roomId) {
        this.setData({ error: '缺少直播间 id', state: 'error' })
        return
      }
      await app.ready
      try {
        await this.loadRoom()
      } catch (e) {
        this.setData({ error: e.userMessage || e.message, state: 'error', stateText: '' })
        return
      }
      this.player = wx.createLivePlayerContext('player', this)
      this.startChat()
    },
    onUnload() {
      if (this.restartTimer) clearTimeout(this.restartTimer)
      this.restartTimer = null
      if (this.unbind) this.unbind()
      if (this.cohost) this.cohost.unbind()
      if (this.chat) this.chat.close()
    },
    async loadRoom() {
      const room = await getApp().api.getRoom(this.roomId)
      const ended = room.status !== 'live'
      this.quality.setRoom(ended ? null : room)
      this.setData({
        room,
        ended,
        src: this.playURL(room, this.data.protocol),
        quality: this.qualityText(),
        state: ended ? 'ended' : 'loading',
        stateText: ended ? (room.status === 'idle' ? '主播还没有开播' : '直播已结束') : '加载中…',
        likes: room.likes,
        viewers: room.viewers,
      })
      wx.setNavigationBarTitle({ title: room.title })
      return room
    },
    // playURL is the URL of the quality played now: the source, or the
    // rendition a weak network switched to.
    playURL(room, protocol) {
      if (!room || !room.play) return ''
      const level = this.quality.current() || room.play
      return protocol === 'rtmp' ? level.rtmp : level.flv
    },
    qualityText() {
      return this.quality.levels.length > 1 ? qualityLabel(this.quality.current()) : ''
    },
    startChat() {
      const app = getApp()
      this.chat = new ChatClient({ api: app.api, roomId: this.roomId, likeFlushMs: app.globalData.config.likeFlushMs })
      this.unbind = bindChat(this, this.chat)
      this.cohost = bindCohost(this, this.chat, this.roomId, { api: app.api, meId: meId(app.api), onAnswer: a => this.onCohostAnswer(a) })
      this.chat.on('ended', () => this.liveEnded())
      this.chat.on('started', () => this.liveStarted())
      this.chat.on('notice', n => {
        if (n.kind === 'room_deleted') this.liveEnded(chatErrorMessage('room_deleted'))
      })
      this.chat.on('error', e => wx.showToast({ title: e.userMessage, icon: 'none' }))
      this.chat.on('skipped', s => wx.showToast({ title: `网络没跟上，已略过 ${s.count} 条消息，正在补取`, icon: 'none' }))
      this.chat.on('kicked', () => wx.showToast({ title: chatErrorMessage('kicked'), icon: 'none' }))
      this.chat.on('banned', () => wx.showToast({ title: chatErrorMessage('banned'), icon: 'none' }))
      this.chat.connect()
    },
    // liveEnded stops the player and says why: the live ended, or the
    // room was deleted (text).
    liveEnded(text) {
      if (this.restartTimer) clearTimeout(this.restartTimer)
      this.restartTimer = null
      this.setData({ ended: true, state: 'ended', stateText: text || '直播已结束', net: '' })
      if (this.player) this.player.stop()
    },
    async liveStarted() {
      try {
        await this.loadRoom()
      } catch (e) {
        return
      }
      this.restarts.reset()
      if (this.player) this.player.play()
    },
    // onStateChange handles <live-player> bindstatechange.
    onStateChange(e) {
      const s = playerState(e.detail.code)
      if (this.data.ended) return
      const data = { state: s.state }
      if (s.message) data.stateText = s.message
      if (s.state === 'playing') {
        this.restarts.reset()
        data.stateText = ''
      }
      this.setData(data)
      if (s.action === 'restart') this.restartPlayback()
      if (s.action === 'refetch') this.refetch()
    },
    // restartPlayback stops and plays again after a growing delay: the
    // player gave up reconnecting by itself (-2301). A private room's play
    // URL is signed and expires, so it is fetched again first.
    restartPlayback() {
      if (this.restartTimer || !this.player) return
      const delay = this.restarts.next()
      this.restartTimer = setTimeout(async () => {
        this.restartTimer = null
        if (this.data.ended) return
        if (this.data.room && this.data.room.private) {
          try {
            await this.loadRoom()
          } catch (e) {
            this.setData({ stateText: e.userMessage || e.message })
          }
          if (this.data.ended) return
        }
        const player = this.player
        player.stop({ complete: () => player.play() })
      }, delay)
    },
    // refetch loads the room again for a fresh play URL (-2302).
    async refetch() {
      try {
        await this.loadRoom()
        if (!this.data.ended && this.player) this.player.play()
      } catch (e) {
        this.setData({ stateText: e.userMessage || e.message })
      }
    },
    // onNetStatus shows the player's figures and, with a quality ladder,
    // switches to a lower rendition while the network is too weak for the
    // current one, and back up once it recovers.
    onNetStatus(e) {
      const data = { net: formatNetStatus(e.detail.info) }
      const change = this.data.ended ? null : this.quality.onNetStatus(e.detail.info)
      if (change) {
        data.src = this.playURL(this.data.room, this.data.protocol)
        data.quality = this.qualityText()
        wx.showToast({ title: change === 'down' ? `网络较差，已切换到 ${data.quality}` : `网络恢复，已切换到 ${data.quality}`, icon: 'none' })
        // The ladder may have gained renditions since the room was loaded.
        if (change === 'down' && this.quality.levels.length < 2) this.refreshLevels()
      }
      this.setData(data)
    },
    async refreshLevels() {
      try {
        const room = await getApp().api.getRoom(this.roomId)
        if (room.status === 'live') this.quality.setRoom(room)
      } catch (e) {
        // the next loadRoom gets them
      }
    },
    onFullScreenChange(e) {
      this.setData({ fullscreen: !!e.detail.fullScreen })
    },
    toggleFullScreen() {
      if (!this.player) return
      if (this.data.fullscreen) this.player.exitFullScreen()
      else this.player.requestFullScreen({ direction: 90 })
    },
    switchProtocol() {
      const protocol = this.data.protocol === 'flv' ? 'rtmp' : 'flv'
      this.setData({ protocol, src: this.playURL(this.data.room, protocol) })
    },
    onInput(e) {
      this.setData({ input: e.detail.value })
    },
    sendMessage() {
      const text = this.data.input.trim()
      if (!text) return
      if (!this.chat || !this.chat.send(text)) {
        const why = !this.chat || !this.chat.user ? '登录后才能发言' : (this.data.muted ? '你已被禁言' : '聊天未连接，请稍候')
        wx.showToast({ title: why, icon: 'none' })
        return
      }
      this.setData({ input: '' })
    },
    tapLike() {
      if (!this.chat || !this.chat.user) {
        wx.showToast({ title: '登录后才能点赞', icon: 'none' })
        return
      }
      this.chat.like(1)
    },
    // applyCohost asks the host to co-host (连麦申请), or withdraws the
    // request that waits.
    async applyCohost() {
      const app = getApp()
      if (this.data.cohostPending) {
        if (this.chat) this.chat.cancelCohost()
        return
      }
      try {
        await app.api.ensureLogin()
      } catch (e) {
        wx.showToast({ title: '登录后才能申请连麦', icon: 'none' })
        return
      }
      if (!this.chat || !this.chat.requestCohost()) {
        wx.showToast({ title: '聊天未连接，请稍候', icon: 'none' })
        return
      }
      wx.showToast({ title: '已发送连麦申请，等待主播同意', icon: 'none' })
    },
    // onCohostAnswer: accepted opens the member page; otherwise say why.
    onCohostAnswer(answer) {
      wx.showToast({ title: answerMessage(answer), icon: 'none' })
      if (answer === 'accepted') wx.navigateTo({ url: `/pages/cohost/cohost?id=${this.roomId}` })
    },
    openReplays() {
      wx.navigateTo({ url: `/pages/replay/replay?id=${this.roomId}` })
    },
  },
})
