// Browser test of Low-Latency HLS: ffmpeg publishes a 1 s GOP stream,
// headless Chromium plays the room with hls.js in low-latency mode, and the
// picture must stay within 2.5 s of live. "Behind live" is the page's
// window.__roomcast.latency: now − hls.js's playingDate, the wall-clock
// time of the frame on screen, which hls.js reads from the playlist's
// EXT-X-PROGRAM-DATE-TIME (the server's clock when the media arrived).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { client, cspViolations, launch, publish, shotPath, startServer, stopAll, until } from './harness.mjs';

const MAX_LATENCY = 2.5; // seconds
let srv, api, browser, room;

before(async () => {
  srv = await startServer();
  api = client(srv.http);
  const alice = (await api.register('llhls_host')).token;
  room = await api.call('POST', '/rooms', alice, { title: 'LL-HLS' });
  const push = await api.call('POST', `/rooms/${room.id}/push-url`, alice);
  publish(push.url);
  await until('the room to be live', async () => (await api.call('GET', `/rooms/${room.id}`)).status === 'live', 20000);
  browser = await launch();
});

after(async () => {
  await stopAll();
});

test('hls.js plays the LL-HLS playlist in low-latency mode within 2.5 s of live', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Count the LL-HLS requests the page makes: partial segments and
  // blocking playlist reloads.
  const seen = { parts: 0, blocking: 0 };
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (/-\d+\.\d+\.ts$/.test(u.pathname)) seen.parts++;
    if (u.pathname.endsWith('.m3u8') && u.searchParams.has('_HLS_msn')) seen.blocking++;
  });
  await page.goto(`${srv.http}/room/${room.id}?player=hls`);
  await until('the HLS player to play', async () => {
    const d = await page.evaluate(() => ({ ...window.__roomcast, t: document.querySelector('video').currentTime }));
    return d?.kind === 'hls' && d.state === 'playing' && d.t > 0.5;
  }, 30000);
  await until('hls.js to play partial segments', () => page.evaluate(() => window.__roomcast.lowLatency), 15000);
  // hls.js starts a little behind and catches up (up to 1.5× speed); on a
  // busy machine Chromium's decoder may stall now and then. The condition:
  // within a minute, an 8 s window of samples (every 0.5 s) whose median is
  // ≤ 2.5 s and whose 90th percentile is ≤ 3 s. Classic HLS (3 segments
  // behind) never gets there.
  const samples = [];
  const windows = [];
  let best = null;
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    samples.push(await page.evaluate(() => window.__roomcast.latency));
    if (samples.length >= 16) {
      const w = samples.slice(-16);
      if (w.every((x) => x !== null)) {
        const sorted = [...w].sort((a, b) => a - b);
        const win = { median: sorted[8], p90: sorted[14], max: sorted[15] };
        windows.push(win.median.toFixed(2));
        if (!best || win.median < best.median) best = win;
        if (win.median <= MAX_LATENCY && win.p90 <= MAX_LATENCY + 0.5) break;
      }
    }
    await page.waitForTimeout(500);
  }
  assert.ok(best, `latency never known: ${samples}`);
  console.log(`LL-HLS latency behind live over 8 s: median ${best.median.toFixed(2)} s, p90 ${best.p90.toFixed(2)} s, max ${best.max.toFixed(2)} s ` +
    `(after ${samples.length / 2} s of sampling); ${seen.parts} part and ${seen.blocking} blocking playlist requests`);
  assert.ok(best.median <= MAX_LATENCY && best.p90 <= MAX_LATENCY + 0.5,
    `no 8 s window within ${MAX_LATENCY} s (median) of live in a minute; window medians ${windows.join(' ')}`);
  const t0 = await page.evaluate(() => document.querySelector('video').currentTime);
  await until('the video to play on', async () => (await page.evaluate(() => document.querySelector('video').currentTime)) >= t0 + 2, 15000);
  assert.ok(seen.parts > 10, `hls.js fetched ${seen.parts} parts`);
  assert.ok(seen.blocking > 10, `hls.js made ${seen.blocking} blocking playlist reloads`);
  // The page says which protocol plays and how far behind live.
  assert.equal(await page.textContent('.stage-bar .kind'), 'LL-HLS');
  assert.match(await page.textContent('[data-testid=latency]'), /^\d+\.\d s behind live$/);
  await page.screenshot({ path: shotPath('room-llhls') });
  const dbg = await page.evaluate(() => window.__roomcast);
  assert.deepEqual(dbg.ends, []);
  assert.deepEqual(errors, []);
  assert.deepEqual(cspViolations, []);
  await ctx.close();
});
