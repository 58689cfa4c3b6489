// A small `wx` for running the mini program's modules and pages under Node:
// wx.request over fetch, wx.connectSocket over the ws package, storage in
// memory, wx.login asking the fake WeChat server for a code, and the UI and
// media-context APIs recorded in `calls` so tests can check what a page did.

const WebSocket = require('ws')
const fs = require('fs')

function later(fn) {
  setImmediate(fn)
}

function done(opts, res) {
  later(() => {
    if (opts && opts.success) opts.success(res)
    if (opts && opts.complete) opts.complete(res)
  })
}

// socketTask wraps a ws client in the SocketTask interface.
function socketTask(url, protocols) {
  const ws = new WebSocket(url, protocols)
  const handlers = { open: [], message: [], error: [], close: [] }
  const fire = (type, res) => handlers[type].forEach(fn => fn(res))
  ws.on('open', () => fire('open', { header: {} }))
  ws.on('message', (data, isBinary) => fire('message', { data: isBinary ? data : data.toString('utf8') }))
  ws.on('error', err => fire('error', { errMsg: `socket error: ${err.message}` }))
  ws.on('close', (code, reason) => fire('close', { code, reason: reason.toString('utf8') }))
  return {
    ws,
    url,
    onOpen: fn => handlers.open.push(fn),
    onMessage: fn => handlers.message.push(fn),
    onError: fn => handlers.error.push(fn),
    onClose: fn => handlers.close.push(fn),
    send(opts) {
      if (ws.readyState !== WebSocket.OPEN) {
        later(() => opts.fail && opts.fail({ errMsg: 'sendSocketMessage:fail not open' }))
        return
      }
      ws.send(opts.data, err => {
        if (err) { if (opts.fail) opts.fail({ errMsg: err.message }) } else if (opts.success) opts.success({})
      })
    },
    close(opts = {}) {
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate()
      else if (ws.readyState === WebSocket.OPEN) {
        ws.close(opts.code || 1000, opts.reason || '')
        // A peer that never answers the close (a dead network) is cut off.
        setTimeout(() => ws.terminate(), 1000).unref()
      }
      done(opts, {})
    },
  }
}

// mediaContext records the calls made on a LivePlayerContext or
// LivePusherContext.
function mediaContext(kind, id, calls, methods) {
  const ctx = { kind, id, calls: [] }
  methods.forEach(m => {
    ctx[m] = (opts = {}) => {
      ctx.calls.push(m)
      calls.push({ api: `${kind}.${m}`, id, args: opts })
      done(opts, { errMsg: `${m}:ok` })
    }
  })
  return ctx
}

/**
 * createWx returns a wx object. options.getCode() returns a login code for
 * wx.login (the fake WeChat's issueCode for this user's openid); options.answers
 * holds the answers to showModal ({confirm}) and showActionSheet ({tapIndex}),
 * used in order.
 */
function createWx(options = {}) {
  const storage = new Map()
  const calls = []
  const sockets = []
  const players = {}
  const pushers = []
  // media: the files wx.chooseMedia "picks" next (paths), one per call.
  const answers = { modal: [], actionSheet: [], media: [] }
  const record = name => (opts = {}) => {
    calls.push({ api: name, args: opts })
    done(opts, { errMsg: `${name}:ok` })
  }
  const wx = {
    calls,
    sockets,
    players,
    pushers,
    answers,
    requests: [],
    getStorageSync: key => (storage.has(key) ? JSON.parse(storage.get(key)) : ''),
    setStorageSync: (key, value) => storage.set(key, JSON.stringify(value)),
    removeStorageSync: key => storage.delete(key),
    request(opts) {
      const ac = new AbortController()
      const timer = setTimeout(() => ac.abort(), opts.timeout || 60000)
      const method = (opts.method || 'GET').toUpperCase()
      const init = { method, headers: Object.assign({}, opts.header), signal: ac.signal }
      if (opts.data !== undefined && method !== 'GET') {
        // An ArrayBuffer goes as its bytes, as WeChat sends it.
        init.body = opts.data instanceof ArrayBuffer ? Buffer.from(opts.data) : typeof opts.data === 'string' ? opts.data : JSON.stringify(opts.data)
      }
      wx.requests.push({ method, url: opts.url, data: opts.data, header: init.headers })
      fetch(opts.url, init).then(async res => {
        const text = await res.text()
        let data = text
        if (opts.dataType !== 'text' && text) {
          try { data = JSON.parse(text) } catch (e) { data = text }
        }
        const header = {}
        res.headers.forEach((v, k) => { header[k] = v })
        const r = { statusCode: res.status, data, header, errMsg: 'request:ok' }
        if (opts.success) opts.success(r)
        if (opts.complete) opts.complete(r)
      }, err => {
        const r = { errMsg: `request:fail ${err.message}` }
        if (opts.fail) opts.fail(r)
        if (opts.complete) opts.complete(r)
      }).finally(() => clearTimeout(timer))
      return { abort: () => ac.abort() }
    },
    login(opts) {
      Promise.resolve().then(() => options.getCode()).then(code => {
        calls.push({ api: 'login', args: {} })
        if (opts.success) opts.success({ code, errMsg: 'login:ok' })
      }, err => opts.fail && opts.fail({ errMsg: `login:fail ${err.message}` }))
    },
    connectSocket(opts) {
      const task = socketTask(opts.url, opts.protocols)
      sockets.push(task)
      return task
    },
    showModal(opts) {
      const a = answers.modal.length ? answers.modal.shift() : { confirm: true }
      calls.push({ api: 'showModal', args: opts })
      done(opts, Object.assign({ confirm: false, cancel: !a.confirm }, a))
    },
    showActionSheet(opts) {
      calls.push({ api: 'showActionSheet', args: opts })
      const a = answers.actionSheet.length ? answers.actionSheet.shift() : null
      if (!a) {
        later(() => opts.fail && opts.fail({ errMsg: 'showActionSheet:fail cancel' }))
        return
      }
      done(opts, a)
    },
    chooseMedia(opts) {
      calls.push({ api: 'chooseMedia', args: opts })
      const file = answers.media.shift()
      if (!file) {
        later(() => opts.fail && opts.fail({ errMsg: 'chooseMedia:fail cancel' }))
        return
      }
      done(opts, { tempFiles: [{ tempFilePath: file, size: fs.statSync(file).size, fileType: 'image' }], type: 'image' })
    },
    getFileSystemManager() {
      return {
        readFile(opts) {
          fs.readFile(opts.filePath, (err, b) => {
            if (err) return opts.fail && opts.fail({ errMsg: `readFile:fail ${err.message}` })
            opts.success && opts.success({ data: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) })
          })
        },
      }
    },
    showToast: record('showToast'),
    hideToast: record('hideToast'),
    showLoading: record('showLoading'),
    hideLoading: record('hideLoading'),
    navigateTo: record('navigateTo'),
    redirectTo: record('redirectTo'),
    navigateBack: record('navigateBack'),
    stopPullDownRefresh: record('stopPullDownRefresh'),
    setNavigationBarTitle: record('setNavigationBarTitle'),
    setKeepScreenOn: record('setKeepScreenOn'),
    openSetting: record('openSetting'),
    vibrateShort: record('vibrateShort'),
    // Each page gets its own context; players[id] is the newest one.
    createLivePlayerContext(id) {
      players[id] = mediaContext('player', id, calls, ['play', 'stop', 'pause', 'resume', 'mute', 'requestFullScreen', 'exitFullScreen', 'snapshot'])
      return players[id]
    },
    createLivePusherContext() {
      const ctx = mediaContext('pusher', 'pusher', calls, ['start', 'stop', 'pause', 'resume', 'switchCamera', 'toggleTorch', 'startPreview', 'stopPreview', 'snapshot'])
      pushers.push(ctx)
      return ctx
    },
  }
  return wx
}

/** callsOf returns the recorded calls of one API name. */
function callsOf(wx, api) {
  return wx.calls.filter(c => c.api === api)
}

module.exports = { createWx, callsOf }
