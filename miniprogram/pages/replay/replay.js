// Replays of a room: the list (newest first, more on scrolling down) and a
// <video> playing the chosen one's HLS VOD URL.
const format = require('../../utils/format')

const STATUS = { recording: '录制中', ready: '可观看', failed: '录制失败' }

function decorate(r) {
  return Object.assign({}, r, {
    durationText: format.duration(r.duration_ms),
    startedText: format.date(r.started_at),
    statusText: STATUS[r.status] || r.status,
  })
}

Component({
  data: {
    room: null,
    replays: [],
    current: null,
    nextCursor: '',
    loading: false,
    error: '',
  },
  methods: {
    async onLoad(query) {
      this.roomId = query && query.id
      if (!this.roomId) {
        this.setData({ error: '缺少直播间 id' })
        return
      }
      const app = getApp()
      await app.ready
      this.setData({ loading: true })
      try {
        const [room, page] = await Promise.all([app.api.getRoom(this.roomId), app.api.listReplays(this.roomId, { limit: 20 })])
        const replays = page.replays.map(decorate)
        this.setData({ room, replays, nextCursor: page.next_cursor || '', current: replays.find(r => r.status !== 'failed') || null })
        wx.setNavigationBarTitle({ title: `${room.title} · 回放` })
      } catch (e) {
        this.setData({ error: e.userMessage || e.message })
      } finally {
        this.setData({ loading: false })
      }
    },
    async onReachBottom() {
      if (!this.data.nextCursor || this.data.loading) return
      this.setData({ loading: true })
      try {
        const page = await getApp().api.listReplays(this.roomId, { limit: 20, cursor: this.data.nextCursor })
        this.setData({ replays: this.data.replays.concat(page.replays.map(decorate)), nextCursor: page.next_cursor || '' })
      } catch (e) {
        wx.showToast({ title: e.userMessage || e.message, icon: 'none' })
      } finally {
        this.setData({ loading: false })
      }
    },
    pick(e) {
      const r = this.data.replays.find(x => x.id === e.currentTarget.dataset.id)
      if (r) this.setData({ current: r })
    },
    onVideoError() {
      wx.showToast({ title: '回放暂时无法播放', icon: 'none' })
    },
  },
})
