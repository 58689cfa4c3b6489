// Starts a real roomcast server for the tests (bin/roomcast, or
// $ROOMCAST_BIN) on free 127.0.0.1 ports with a fresh data directory, and a
// fake WeChat code2session server it logs users in through. Everything is
// stopped by stop(), and killed on process exit as a last resort.

const { spawn, execFileSync } = require('child_process')
const crypto = require('crypto')
const fs = require('fs')
const http = require('http')
const net = require('net')
const os = require('os')
const path = require('path')

const APPID = 'wx_roomcast_test'
const SECRET = 'test-secret-for-code2session'

const running = new Set()
process.on('exit', () => {
  running.forEach(p => { try { p.kill('SIGKILL') } catch (e) { /* gone */ } })
})

function binary() {
  const bin = process.env.ROOMCAST_BIN || path.resolve(__dirname, '../../../bin/roomcast')
  if (!fs.existsSync(bin)) {
    throw new Error(`roomcast binary not found at ${bin}: run "make build" first (or set ROOMCAST_BIN)`)
  }
  return bin
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/**
 * startFakeWeChat serves GET /sns/jscode2session like WeChat: a code from
 * issueCode(openid) logs that openid in once; a used code answers errcode
 * 40163, an unknown one 40029, a wrong appid/secret 40013/40125.
 */
function startFakeWeChat() {
  const codes = new Map()
  const used = new Set()
  const requests = []
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x')
    const q = Object.fromEntries(u.searchParams)
    requests.push(q)
    const send = obj => {
      res.setHeader('Content-Type', 'application/json')
      res.end(JSON.stringify(obj))
    }
    if (u.pathname !== '/sns/jscode2session') {
      res.statusCode = 404
      return send({ errcode: 404, errmsg: 'not found' })
    }
    if (q.appid !== APPID) return send({ errcode: 40013, errmsg: 'invalid appid' })
    if (q.secret !== SECRET) return send({ errcode: 40125, errmsg: 'invalid appsecret' })
    if (q.grant_type !== 'authorization_code') return send({ errcode: 40002, errmsg: 'invalid grant_type' })
    if (used.has(q.js_code)) return send({ errcode: 40163, errmsg: 'code been used' })
    const openid = codes.get(q.js_code)
    if (!openid) return send({ errcode: 40029, errmsg: 'invalid code' })
    used.add(q.js_code)
    codes.delete(q.js_code)
    send({ openid, session_key: crypto.randomBytes(16).toString('base64'), unionid: `union_${openid}` })
  })
  return new Promise((resolve, reject) => {
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        requests,
        issueCode(openid) {
          const code = crypto.randomBytes(12).toString('hex')
          codes.set(code, openid)
          return code
        },
        close: () => new Promise(r => server.close(() => r())),
      })
    })
  })
}

async function waitReady(url, proc, logs) {
  const deadline = Date.now() + 20000
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`roomcast exited (${proc.exitCode}) before it was ready:\n${logs.join('')}`)
    try {
      const res = await fetch(`${url}/api/v1/rooms`)
      if (res.status === 200) return
    } catch (e) {
      // not listening yet
    }
    await new Promise(r => setTimeout(r, 100))
  }
  throw new Error(`roomcast did not answer at ${url} within 20 s:\n${logs.join('')}`)
}

/**
 * startServer starts the fake WeChat and roomcast. It resolves to
 * {url, rtmp, wechat, logs, stop()}; extraArgs are added to `roomcast serve`.
 */
async function startServer(extraArgs = []) {
  const bin = binary()
  const wechat = await startFakeWeChat()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomcast-mp-'))
  const httpPort = await freePort()
  const rtmpPort = await freePort()
  const args = [
    'serve',
    '-http-addr', `127.0.0.1:${httpPort}`,
    '-rtmp-addr', `127.0.0.1:${rtmpPort}`,
    '-data', dataDir,
    '-password-cost', '4',
    '-wechat-appid', APPID,
    '-wechat-secret', SECRET,
    '-wechat-base-url', wechat.url,
    '-auth-rate-limit', '10000',
    '-chat-rate', '1000',
    '-reconnect-grace', '0s',
    '-log-level', 'warn',
    ...extraArgs,
  ]
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(proc)
  const logs = []
  const keep = d => { logs.push(d.toString()); if (logs.length > 200) logs.shift() }
  proc.stdout.on('data', keep)
  proc.stderr.on('data', keep)
  const exited = new Promise(r => proc.on('exit', r))
  const url = `http://127.0.0.1:${httpPort}`
  async function stop() {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM')
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(t)
    }
    running.delete(proc)
    await wechat.close()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    await waitReady(url, proc, logs)
  } catch (e) {
    await stop()
    throw e
  }
  return { url, rtmp: `rtmp://127.0.0.1:${rtmpPort}`, wechat, logs, stop }
}

/**
 * startPublisher runs ffmpeg publishing a test pattern to a push URL, the
 * way <live-pusher> would. stop() ends it.
 */
function startPublisher(pushURL) {
  try {
    execFileSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' })
  } catch (e) {
    throw new Error('ffmpeg is needed by the mini program tests: install it (scripts/install-test-deps.sh)')
  }
  const proc = spawn('ffmpeg', [
    '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error',
    '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k',
    '-f', 'flv', pushURL,
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  running.add(proc)
  const errs = []
  proc.stderr.on('data', d => errs.push(d.toString()))
  const exited = new Promise(r => proc.on('exit', r))
  return {
    proc,
    errors: errs,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGINT')
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(t)
      }
      running.delete(proc)
    },
  }
}

/** waitFor polls fn until it returns a truthy value (or rejects after ms). */
async function waitFor(fn, ms = 10000, what = 'condition') {
  const deadline = Date.now() + ms
  let last
  for (;;) {
    try {
      last = await fn()
      if (last) return last
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last && last.message ? last.message : JSON.stringify(last)})`)
    await new Promise(r => setTimeout(r, 50))
  }
}

module.exports = { startServer, startPublisher, waitFor, APPID, SECRET }
