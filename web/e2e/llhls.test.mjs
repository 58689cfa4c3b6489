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
  // hls.js starts a little behind and catches up (up to 1.5× speed): wait
  // until it is within bounds, then it must stay there.
  await until(`latency ≤ ${MAX_LATENCY} s`, async () => {
    const l = await page.evaluate(() => window.__roomcast.latency);
    return l !== null && l <= MAX_LATENCY;
  }, 30000, 500);
  const samples = [];
  for (let i = 0; i < 16; i++) {
    samples.push(await page.evaluate(() => window.__roomcast.latency));
    await page.waitForTimeout(500);
  }
  const t0 = await page.evaluate(() => document.querySelector('video').currentTime);
  await page.waitForTimeout(2000);
  const t1 = await page.evaluate(() => document.querySelector('video').currentTime);
  const sorted = samples.filter((s) => s !== null).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const p90 = sorted[Math.floor(sorted.length * 0.9)];
  console.log(`LL-HLS latency behind live over 8 s: median ${median.toFixed(2)} s, p90 ${p90.toFixed(2)} s, max ${sorted.at(-1).toFixed(2)} s; ` +
    `${seen.parts} part and ${seen.blocking} blocking playlist requests`);
  assert.equal(sorted.length, samples.length, `latency unknown in some samples: ${samples}`);
  assert.ok(median <= MAX_LATENCY, `median latency ${median} s > ${MAX_LATENCY} s (samples ${samples})`);
  assert.ok(p90 <= MAX_LATENCY + 0.5, `p90 latency ${p90} s (samples ${samples})`);
  assert.ok(seen.parts > 10, `hls.js fetched ${seen.parts} parts`);
  assert.ok(seen.blocking > 10, `hls.js made ${seen.blocking} blocking playlist reloads`);
  assert.ok(t1 - t0 >= 1.4, `the video did not play on: currentTime ${t0} → ${t1} in 2 s`);
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
