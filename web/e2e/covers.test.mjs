// Browser tests of covers, posters and the quality menu: a server with a
// cover every 2 s and a 360p ladder, ffmpeg publishing, Chromium looking.
// Screenshots go to test-results/web/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { client, cspViolations, launch, publish, shotPath, startServer, stopAll, until, PASSWORD } from './harness.mjs';

const DESKTOP = { width: 1280, height: 800 };

let srv, api, browser, room, ffmpeg, token;

before(async () => {
  srv = await startServer({ extra: ['-abr-ladder', '360p', '-cover-interval', '2s'] });
  api = client(srv.http);
  token = (await api.register('carol')).token;
  room = await api.call('POST', '/rooms', token, { title: 'Cover test' });
  const push = await api.call('POST', `/rooms/${room.id}/push-url`, token);
  ffmpeg = publish(push.url);
  await until('the room to be live', async () => (await api.call('GET', `/rooms/${room.id}`)).status === 'live', 20000);
  browser = await launch();
});

after(async () => {
  await stopAll();
});

async function openPage(path) {
  const ctx = await browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(srv.http + path);
  return page;
}

/** Waits until the image matched by selector has loaded at width × height. */
async function loadedImage(page, selector, width, height) {
  return until(`${selector} loaded at ${width}x${height}`, () => page.evaluate(([sel, w, hgt]) => {
    const img = document.querySelector(sel);
    return img && img.complete && img.naturalWidth === w && img.naturalHeight === hgt ? img.currentSrc : null;
  }, [selector, width, height]), 30000);
}

test('home shows the live cover and refreshes it', async () => {
  const page = await openPage('/');
  const sel = `[data-room="${room.id}"] img[data-testid=live-cover]`;
  const first = await loadedImage(page, sel, 640, 360);
  assert.match(first, new RegExp(`/live/${room.stream}\\.jpg`));
  await page.screenshot({ path: shotPath('home-cover') });
  // The cover is reloaded while visible (every 10 s), with a fresh URL.
  await until('the live cover to be refreshed', () => page.evaluate((s) => /[?&]t=\d+/.test(document.querySelector(s)?.src ?? ''), sel), 30000);
  await loadedImage(page, sel, 640, 360);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the quality menu switches between Auto and the 360p rendition', async () => {
  await until('the 360p rendition', async () => (await api.call('GET', `/rooms/${room.id}`)).play?.renditions?.length === 1, 60000);
  const page = await openPage(`/room/${room.id}?player=hls`);
  await page.waitForSelector('[data-testid=quality]:not([hidden]) option[value="360p"]', { state: 'attached', timeout: 30000 });
  await page.waitForSelector('.stage[data-state=playing]', { timeout: 30000 });
  assert.equal(await page.evaluate(() => window.__roomcast.quality), 'auto');
  await page.selectOption('[data-testid=quality]', '360p');
  await until('the 360p rendition to play', () => page.evaluate(() =>
    window.__roomcast.quality === '360p' && window.__roomcast.url.includes('_360p.m3u8') &&
    window.__roomcast.state === 'playing' && document.querySelector('video').videoHeight === 360), 30000);
  await page.screenshot({ path: shotPath('room-quality-360p') });
  await page.selectOption('[data-testid=quality]', 'auto');
  await until('Auto to play the multivariant playlist', () => page.evaluate(() =>
    window.__roomcast.quality === 'auto' && !window.__roomcast.url.includes('_360p') && window.__roomcast.state === 'playing'), 30000);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('home shows the replay poster once the live ended', async () => {
  ffmpeg.kill('SIGINT');
  await until('a replay with a poster', async () => {
    const { replays } = await api.call('GET', `/rooms/${room.id}/replays`);
    return replays.length > 0 && replays[0].status === 'ready' && replays[0].poster_url;
  }, 60000);
  const page = await openPage('/');
  await loadedImage(page, 'img[data-testid=poster]', 640, 360);
  await page.screenshot({ path: shotPath('home-poster') });
  assert.deepEqual(page.errors, []);
  await page.context().close();
  const roomPage = await openPage(`/room/${room.id}`);
  await loadedImage(roomPage, 'img[data-testid=replay-poster]', 640, 360);
  // The ended room shows its kept cover behind the player.
  await until('the room cover as the video poster', () => roomPage.evaluate((id) =>
    document.querySelector('video').poster.includes(`/api/v1/rooms/${id}/cover`), room.id), 10000);
  await roomPage.screenshot({ path: shotPath('room-ended-cover') });
  assert.deepEqual(roomPage.errors, []);
  await roomPage.context().close();
});

test('the studio uploads a cover and says why a bad one is refused', async () => {
  const page = await openPage(`/login?next=${encodeURIComponent(`/studio/${room.id}`)}`);
  await page.fill('input[name=name]', 'carol');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('form button[type=submit]');
  await page.waitForURL((u) => u.pathname === `/studio/${room.id}`, { timeout: 10000 });
  const png = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180', '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1']).stdout;
  assert.ok(png.length > 100, 'ffmpeg made no PNG');
  await page.setInputFiles('[data-testid=cover-file]', { name: 'cover.png', mimeType: 'image/png', buffer: png });
  await loadedImage(page, 'img[data-testid=studio-cover]', 320, 180);
  await page.screenshot({ path: shotPath('studio-cover') });
  await page.setInputFiles('[data-testid=cover-file]', { name: 'evil.png', mimeType: 'image/png', buffer: Buffer.from('<svg onload=alert(1)>') });
  await page.waitForSelector('text=not a JPEG, PNG or WebP picture', { timeout: 10000 });
  const r = await api.call('GET', `/rooms/${room.id}`);
  assert.match(r.cover_url, new RegExp(`/api/v1/rooms/${room.id}/cover\\?v=`));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('no page broke the Content-Security-Policy', () => {
  assert.deepEqual(cspViolations, []);
});
