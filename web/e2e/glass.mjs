// Glass-to-glass latency on loopback, in headless Chromium, through a
// roomcast this script starts: a page publishes a canvas showing its clock
// over WHIP and plays it back over WHEP (glassclock.mjs). Encoder, server,
// jitter buffer, decoder and renderer are all in the figure; a camera and a
// screen are not.
//
//   node web/e2e/glass.mjs [SAMPLES]   (scripts/bench-glass.sh builds first)
//
// Prints one JSON line: samples, p50, p99, max (ms), and the codec used.
import { client, launch, startServer, stopAll } from './harness.mjs';
import { measure, percentile } from './glassclock.mjs';

const want = Number(process.argv[2] ?? 200);

try {
  const srv = await startServer();
  const api = client(srv.http);
  const { token } = await api.register('glass');
  const room = await api.call('POST', '/rooms', token, { title: 'glass to glass' });
  const push = await api.call('POST', `/rooms/${room.id}/push-url`, token);
  const whip = srv.http + new URL(push.whip).pathname + new URL(push.whip).search;
  const whep = `${srv.http}/live/${room.stream}/whep`;
  const browser = await launch();
  const ctx = await browser.newContext({ bypassCSP: true });
  const page = await ctx.newPage();
  await page.goto(srv.http + '/');
  const r = await page.evaluate(measure, { whip, whep, want });
  const s = [...r.samples].sort((a, b) => a - b);
  const q = (p) => percentile(s, p);
  console.log(JSON.stringify({ samples: s.length, unreadable: r.bad, codec: r.codec, first_frame_ms: Math.round(r.firstFrame), p50_ms: q(50), p99_ms: q(99), max_ms: s[s.length - 1], min_ms: s[0] }));
} finally {
  await stopAll();
}
