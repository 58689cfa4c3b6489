// Server settings of the mini program. Point baseURL at your roomcast
// server's public HTTP address (its -public-url). A released mini program
// may only call https:// and wss:// addresses listed in the mini program's
// legal domains (see docs/miniprogram.md); http://127.0.0.1:8080 works in
// WeChat DevTools with domain checks turned off.
module.exports = {
  // Base URL of the roomcast server, without a trailing slash.
  baseURL: 'http://127.0.0.1:8080',
  // live-player buffer bounds in seconds (min-cache / max-cache): lower is
  // less delay, higher is fewer stalls on weak networks.
  player: { minCache: 1, maxCache: 3 },
  // Playback protocol of <live-player>: 'flv' (HTTP-FLV) or 'rtmp'.
  playProtocol: 'flv',
  // How long taps on the like button are gathered into one chat frame (ms).
  likeFlushMs: 500,
  // Request time-out (ms).
  requestTimeout: 10000,
}
