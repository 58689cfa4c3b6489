// REST client of the roomcast API (docs/api.md) over wx.request: promises,
// the session token kept in storage, WeChat login, a 401 answered by one
// fresh login and one retry, and the API's error codes turned into messages.

const STORAGE_KEY = 'roomcast.session'

// Chinese messages for the API's stable error codes (docs/api.md#errors).
const ERROR_MESSAGES = {
  invalid_request: '请求格式有误',
  validation_failed: '填写的内容不符合要求',
  invalid_stream_name: '流名称不合法',
  wechat_invalid_code: '微信登录凭证无效，请重试',
  wechat_code_used: '微信登录凭证已被使用，请重试',
  unauthorized: '登录已失效，请重新登录',
  invalid_credentials: '用户名或密码错误',
  forbidden: '没有权限进行此操作',
  banned: '账号已被封禁',
  wechat_high_risk: '微信判定此账号存在风险，暂时无法登录',
  invalid_signature: '播放签名无效或已过期',
  not_found: '内容不存在或已被删除',
  stream_not_found: '直播流不存在',
  method_not_allowed: '不支持的请求方式',
  name_taken: '用户名已被占用',
  conflict: '操作冲突，请稍后重试',
  body_too_large: '提交的内容太大',
  unsupported_media_type: '请求格式不受支持',
  rate_limited: '操作太频繁，请稍后再试',
  wechat_rate_limited: '微信登录太频繁，请稍后再试',
  wechat_not_configured: '服务器未配置微信登录',
  wechat_unavailable: '暂时无法连接微信服务，请稍后再试',
  wechat_busy: '微信服务繁忙，请稍后再试',
  internal: '服务器出错了，请稍后再试',
  cover_too_large: '图片超过 5 MB',
  cover_not_image: '请选择 JPEG、PNG 或 WebP 图片',
  cover_bad_image: '图片已损坏或不完整',
  cover_bad_dimensions: '图片尺寸不合适（每边 16 到 8192 像素）',
  // Chat REST codes (docs/chat.md).
  too_large: '提交的内容太大',
  muted: '你已被禁言',
  too_long: '消息太长',
  empty: '消息不能为空',
  bad_request: '请求格式有误',
  // Client-side codes.
  network: '网络连接失败，请检查网络',
  bad_response: '服务器返回了无法识别的内容',
}

/** errorMessage returns a message for people for an API error code. */
function errorMessage(code, fallback) {
  return ERROR_MESSAGES[code] || fallback || `请求失败（${code || '未知错误'}）`
}

/**
 * ApiError is a failed API call: the HTTP status (0 when the server was not
 * reached), the API's stable code, the server's message and a Chinese
 * message for the user (userMessage). retryAfter is in seconds, when the
 * server sent Retry-After.
 */
class ApiError extends Error {
  constructor({ status = 0, code, message, retryAfter }) {
    super(message || code)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.retryAfter = retryAfter
    this.userMessage = errorMessage(code, message)
    if (retryAfter > 0 && /rate_limited|busy/.test(code)) {
      this.userMessage += `（${retryAfter} 秒后）`
    }
  }
}

/** queryString encodes params (skipping undefined, null and '') as ?a=1&b=2. */
function queryString(params) {
  const parts = []
  Object.keys(params || {}).forEach(k => {
    const v = params[k]
    if (v === undefined || v === null || v === '') return
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
  })
  return parts.length ? `?${parts.join('&')}` : ''
}

function header(res, name) {
  const h = res.header || {}
  const want = name.toLowerCase()
  const key = Object.keys(h).find(k => k.toLowerCase() === want)
  return key === undefined ? undefined : h[key]
}

/**
 * createApi returns a client of the roomcast server at baseURL.
 *
 * options: baseURL (required, e.g. https://live.example.com), wx (the
 * mini program's wx object; the global one by default), storageKey,
 * timeout (ms).
 */
function createApi(options) {
  const opts = options || {}
  const baseURL = String(opts.baseURL || '').replace(/\/+$/, '')
  if (!/^https?:\/\/[^/]+/.test(baseURL)) {
    throw new Error(`api: baseURL must be an http:// or https:// URL, got ${JSON.stringify(opts.baseURL)}`)
  }
  // eslint-disable-next-line no-undef
  const w = opts.wx || wx
  const storageKey = opts.storageKey || STORAGE_KEY
  const timeout = opts.timeout || 10000
  let loginPromise = null

  function session() {
    const s = w.getStorageSync(storageKey)
    return s && s.token ? s : null
  }

  function token() {
    const s = session()
    return s ? s.token : ''
  }

  function saveSession(result) {
    const s = { token: result.token, expires_at: result.expires_at, user: result.user }
    w.setStorageSync(storageKey, s)
    return s
  }

  function clearSession() {
    w.removeStorageSync(storageKey)
  }

  // raw sends one request and resolves with the parsed body, or rejects
  // with an ApiError.
  function raw(method, path, data, withToken) {
    return new Promise((resolve, reject) => {
      const hdr = {}
      const t = withToken ? token() : ''
      if (t) hdr.Authorization = `Bearer ${t}`
      if (data instanceof ArrayBuffer) hdr['Content-Type'] = 'application/octet-stream'
      else if (data !== undefined) hdr['Content-Type'] = 'application/json'
      w.request({
        url: baseURL + path,
        method,
        data,
        header: hdr,
        timeout,
        dataType: 'json',
        success(res) {
          const status = res.statusCode
          if (status >= 200 && status < 300) {
            resolve(status === 204 ? null : res.data)
            return
          }
          const body = res.data && typeof res.data === 'object' ? res.data : null
          const err = body && body.error ? body.error : {}
          const retryAfter = parseInt(header(res, 'Retry-After'), 10)
          reject(new ApiError({
            status,
            code: err.code || (status === 401 ? 'unauthorized' : 'bad_response'),
            message: err.message || `HTTP ${status}`,
            retryAfter: retryAfter > 0 ? retryAfter : undefined,
          }))
        },
        fail(e) {
          reject(new ApiError({ status: 0, code: 'network', message: (e && e.errMsg) || 'request failed' }))
        },
      })
    })
  }

  function wxLogin() {
    return new Promise((resolve, reject) => {
      w.login({
        success(res) {
          if (res && res.code) resolve(res.code)
          else reject(new ApiError({ code: 'wechat_invalid_code', message: 'wx.login gave no code' }))
        },
        fail(e) {
          reject(new ApiError({ code: 'network', message: `wx.login: ${(e && e.errMsg) || 'failed'}` }))
        },
      })
    })
  }

  // login runs wx.login and POST /auth/wechat; a code WeChat rejects as
  // invalid or used is replaced by a fresh one once. Concurrent callers
  // share one login.
  function login() {
    if (loginPromise) return loginPromise
    const attempt = async retried => {
      const code = await wxLogin()
      try {
        return saveSession(await raw('POST', '/api/v1/auth/wechat', { code }, false))
      } catch (e) {
        if (!retried && (e.code === 'wechat_invalid_code' || e.code === 'wechat_code_used')) {
          return attempt(true)
        }
        throw e
      }
    }
    loginPromise = attempt(false).finally(() => { loginPromise = null })
    return loginPromise
  }

  // ensureLogin logs in unless a session that has not expired is stored.
  async function ensureLogin() {
    const s = session()
    if (s && (!s.expires_at || Date.parse(s.expires_at) > Date.now() + 60000)) return s
    clearSession()
    return login()
  }

  // request calls the API with the stored token (if any). A 401 means the
  // token expired or was revoked: log in once more and retry once.
  async function request(method, path, data, { auth = true } = {}) {
    try {
      return await raw(method, path, data, auth)
    } catch (e) {
      if (!(auth && e.status === 401 && e.code === 'unauthorized')) throw e
      clearSession()
      await login()
      return raw(method, path, data, auth)
    }
  }

  const enc = encodeURIComponent

  return {
    baseURL,
    login,
    ensureLogin,
    session,
    token,
    clearSession,
    request,
    /** logout revokes the stored session on the server and forgets it. */
    async logout() {
      if (!token()) return
      try {
        await raw('POST', '/api/v1/auth/logout', undefined, true)
      } finally {
        clearSession()
      }
    },
    me: () => request('GET', '/api/v1/me'),
    listRooms: (params = {}) => request('GET', `/api/v1/rooms${queryString(params)}`),
    getRoom: id => request('GET', `/api/v1/rooms/${enc(id)}`),
    createRoom: room => request('POST', '/api/v1/rooms', room),
    updateRoom: (id, fields) => request('PATCH', `/api/v1/rooms/${enc(id)}`, fields),
    deleteRoom: id => request('DELETE', `/api/v1/rooms/${enc(id)}`),
    pushURL: id => request('POST', `/api/v1/rooms/${enc(id)}/push-url`),
    addCohost: (id, userId) => request('POST', `/api/v1/rooms/${enc(id)}/cohosts`, { user_id: userId }),
    removeCohost: (id, userId) => request('DELETE', `/api/v1/rooms/${enc(id)}/cohosts/${enc(userId)}`),
    /** setCover uploads a room cover (the image's bytes, an ArrayBuffer). */
    setCover: (id, image) => request('PUT', `/api/v1/rooms/${enc(id)}/cover`, image),
    listReplays: (roomId, params = {}) => request('GET', `/api/v1/rooms/${enc(roomId)}/replays${queryString(params)}`),
    getReplay: id => request('GET', `/api/v1/replays/${enc(id)}`),
    deleteReplay: id => request('DELETE', `/api/v1/replays/${enc(id)}`),
    messages: (roomId, params = {}) => request('GET', `/api/v1/rooms/${enc(roomId)}/messages${queryString(params)}`),
    moderate: (roomId, action, body = {}) => request('POST', `/api/v1/rooms/${enc(roomId)}/moderation/${enc(action)}`, body),
    /**
     * chatURL is the chat WebSocket URL of a room (ws:// or wss:// from the
     * base URL) with the stored token and, when given, since.
     */
    chatURL(roomId, since) {
      const wsBase = baseURL.replace(/^http/, 'ws')
      return `${wsBase}/api/v1/rooms/${enc(roomId)}/chat${queryString({ token: token(), since: since > 0 ? since : undefined })}`
    },
  }
}

module.exports = { createApi, ApiError, errorMessage, queryString, ERROR_MESSAGES }
