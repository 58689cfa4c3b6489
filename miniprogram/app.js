// roomcast mini program: one API client for every page, logged in at launch.
const config = require('./config')
const { createApi } = require('./utils/api')

App({
  onLaunch() {
    this.api = createApi({ baseURL: config.baseURL, timeout: config.requestTimeout })
    // Pages await app.ready before their first call. A failed login leaves
    // the user a guest: rooms and chat can still be read.
    this.ready = this.api.ensureLogin().catch(e => {
      this.loginError = e
      console.warn('roomcast: login failed', e && e.message)
      return null
    })
  },
  globalData: { config },
})
