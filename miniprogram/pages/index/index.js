// Room list: live rooms first (newest broadcast first), then the others,
// with viewers and how long each live has been going; pull to refresh,
// scroll down for more.
const format = require('../../utils/format')

// How often live covers are reloaded while the list is shown.
const COVER_REFRESH_MS = 10000

// coverSrc is a room's cover URL; a live cover gets a stamp that changes
// every refresh, so that the list shows the current picture.
function coverSrc(room, stamp) {
  if (!room.cover_url) return ''
  if (room.status !== 'live') return room.cover_url
  return room.cover_url + (room.cover_url.indexOf('?') >= 0 ? '&' : '?') + 't=' + stamp
}

function decorate(room, now, stamp) {
  return Object.assign({}, room, {
    coverSrc: coverSrc(room, stamp),
    liveFor: format.liveFor(room, now),
    viewersText: format.count(room.viewers),
    likesText: format.count(room.likes),
    statusText: format.status(room.status),
    ownerName: room.owner && room.owner.name ? room.owner.name : '主播',
  })
}

Component({
  data: {
    live: [],
    others: [],
    nextCursor: '',
    loading: false,
    error: '',
  },
  methods: {
    onLoad() {
      this.rooms = { live: [], others: [] }
      return this.load()
    },
    onShow() {
      // Live durations tick and live covers (a new picture every 10 s on
      // the server) are reloaded while the list is on screen.
      this.clearTick()
      this.tick = setInterval(() => {
        this.coverStamp = Date.now()
        this.render()
      }, COVER_REFRESH_MS)
    },
    onHide() {
      this.clearTick()
    },
    onUnload() {
      this.clearTick()
    },
    clearTick() {
      if (this.tick) clearInterval(this.tick)
      this.tick = null
    },
    async onPullDownRefresh() {
      try {
        await this.load()
      } finally {
        wx.stopPullDownRefresh()
      }
    },
    onReachBottom() {
      if (this.data.nextCursor && !this.data.loading) return this.loadMore()
      return null
    },
    render() {
      const now = Date.now()
      if (!this.coverStamp) this.coverStamp = now
      this.setData({
        live: this.rooms.live.map(r => decorate(r, now, this.coverStamp)),
        others: this.rooms.others.map(r => decorate(r, now, this.coverStamp)),
      })
    },
    async load() {
      const app = getApp()
      await app.ready
      this.setData({ loading: true, error: '' })
      try {
        const [live, all] = await Promise.all([
          app.api.listRooms({ status: 'live', limit: 50 }),
          app.api.listRooms({ status: 'all', limit: 20 }),
        ])
        this.rooms = { live: live.rooms, others: all.rooms.filter(r => r.status !== 'live') }
        this.setData({ nextCursor: all.next_cursor || '' })
        this.render()
      } catch (e) {
        this.setData({ error: e.userMessage || e.message })
      } finally {
        this.setData({ loading: false })
      }
    },
    async loadMore() {
      const app = getApp()
      this.setData({ loading: true })
      try {
        const page = await app.api.listRooms({ status: 'all', limit: 20, cursor: this.data.nextCursor })
        const seen = {}
        this.rooms.live.concat(this.rooms.others).forEach(r => { seen[r.id] = true })
        this.rooms.others = this.rooms.others.concat(page.rooms.filter(r => r.status !== 'live' && !seen[r.id]))
        this.setData({ nextCursor: page.next_cursor || '' })
        this.render()
      } catch (e) {
        wx.showToast({ title: e.userMessage || e.message, icon: 'none' })
      } finally {
        this.setData({ loading: false })
      }
    },
    openRoom(e) {
      wx.navigateTo({ url: `/pages/room/room?id=${e.currentTarget.dataset.id}` })
    },
    goLive() {
      wx.navigateTo({ url: '/pages/anchor/anchor' })
    },
  },
})
