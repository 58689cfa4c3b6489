// Browser tests of the web app: a real server, ffmpeg publishing, and the
// system Chromium playing, chatting, liking, watching the studio and
// kicking from the admin page. Screenshots go to test-results/web/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { client, cspViolations, launch, publish, shotPath, startServer, stopAll, until, PASSWORD } from './harness.mjs';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let srv, api, browser, room, ffmpeg;
const tokens = {};

before(async () => {
  srv = await startServer({ grace: '4s' });
  api = client(srv.http);
  tokens.alice = (await api.register('alice')).token;
  tokens.bob = (await api.register('bob')).token;
  tokens.root = (await api.login('root')).token;
  room = await api.call('POST', '/rooms', tokens.alice, { title: '周五夜谈 Friday night', description: 'A test pattern with a 440 Hz tone.' });
  // An idle room of bob's, so the home page shows more than one card.
  await api.call('POST', '/rooms', tokens.bob, { title: 'Bob 的厨房' });
  ffmpeg = await goLive();
  await until('the room to be live', async () => (await api.call('GET', `/rooms/${room.id}`)).status === 'live', 20000);
  browser = await launch();
});

after(async () => {
  await stopAll();
});

/** Publishes to the room with a fresh push URL. */
async function goLive() {
  const push = await api.call('POST', `/rooms/${room.id}/push-url`, tokens.alice);
  return publish(push.url);
}

/** Waits until the video plays on and its time advanced by seconds. */
async function assertResumes(page, seconds = 3) {
  await page.waitForSelector('.stage[data-state=playing]', { timeout: 30000 });
  const t0 = await page.evaluate(() => document.querySelector('video').currentTime);
  await until('the video to play on', async () => (await page.evaluate(() => document.querySelector('video').currentTime)) >= t0 + seconds, 20000);
  assert.deepEqual(page.errors, []);
}

/** A page in a new context (its own storage), optionally logged in through
 * the login form, that fails the test on page errors. */
async function openPage({ user, viewport = DESKTOP, lang = 'zh-CN', path = '/' } = {}) {
  const ctx = await browser.newContext({ viewport, locale: lang, deviceScaleFactor: viewport === PHONE ? 2 : 1, isMobile: viewport === PHONE, hasTouch: viewport === PHONE });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('dialog', (d) => void d.accept());
  if (user) {
    await page.goto(srv.http + '/login?next=' + encodeURIComponent(path));
    await page.fill('input[name=name]', user);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('form button[type=submit]');
    await page.waitForURL((u) => u.pathname === path.split('?')[0], { timeout: 10000 });
  } else {
    await page.goto(srv.http + path);
  }
  return page;
}

/** Waits until the video has played for seconds, with no player failure. */
async function assertPlays(page, kind, seconds = 4) {
  await until(`the ${kind} player`, () => page.evaluate(() => window.__roomcast?.kind), 10000);
  assert.equal(await page.evaluate(() => window.__roomcast.kind), kind);
  const t0 = await until('playback to start', async () => {
    const t = await page.evaluate(() => document.querySelector('video').currentTime);
    return t > 0.3 ? t : 0;
  }, 20000);
  // Conditions with deadlines, not instants: on a busy machine (and with
  // LL-HLS's short buffer) the player may rebuffer for a moment.
  await until(`${kind}: currentTime to advance ${seconds} s from ${t0}`,
    async () => (await page.evaluate(() => document.querySelector('video').currentTime)) >= t0 + seconds * 0.7, seconds * 3000);
  await until(`${kind}: the player to be playing`, () => page.evaluate(() => window.__roomcast.state === 'playing'), 10000);
  const dbg = await page.evaluate(() => window.__roomcast);
  assert.deepEqual(dbg.ends, [], `${kind}: the player failed: ${dbg.ends.join('; ')}`);
  assert.deepEqual(page.errors, []);
}

test('home lists the live room', async () => {
  for (const [name, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    const page = await openPage({ viewport });
    await page.waitForSelector(`[data-room="${room.id}"]`, { timeout: 15000 });
    const card = await page.textContent(`[data-room="${room.id}"]`);
    assert.match(card, /周五夜谈/);
    assert.match(card, /alice/);
    assert.match(card, /直播中/);
    await page.screenshot({ path: shotPath(`home-${name}`), fullPage: true });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

test('the room plays over HTTP-FLV', async () => {
  const page = await openPage({ path: `/room/${room.id}?player=flv` });
  await assertPlays(page, 'flv');
  await page.screenshot({ path: shotPath('room-desktop') });
  await page.context().close();
});

test('the room plays over HLS', async () => {
  const page = await openPage({ path: `/room/${room.id}?player=hls`, lang: 'en-US' });
  await assertPlays(page, 'hls');
  assert.match(await page.textContent('header'), /Log in/);
  await page.context().close();
});

test('the room plays on a phone-sized screen', async () => {
  // Auto tries WebRTC (WHEP) first.
  const page = await openPage({ path: `/room/${room.id}`, viewport: PHONE });
  await assertPlays(page, 'whep', 3);
  await page.screenshot({ path: shotPath('room-phone'), fullPage: true });
  await page.context().close();
});

test('chat and likes reach both users', async () => {
  const a = await openPage({ user: 'alice', path: `/room/${room.id}` });
  const b = await openPage({ user: 'bob', path: `/room/${room.id}` });
  for (const p of [a, b]) await p.waitForSelector('.chat[data-state=open] .chat-input:not([disabled])', { timeout: 10000 });
  const text = 'hello from bob ' + Date.now();
  await b.fill('.chat-input', text);
  await b.press('.chat-input', 'Enter');
  await a.waitForSelector(`.chat-list .msg:has-text("${text}")`, { timeout: 10000 });
  await b.waitForSelector(`.chat-list .msg:has-text("${text}")`, { timeout: 10000 });

  const total = (p) => p.$eval('[data-testid=like-count]', (e) => Number(e.dataset.total));
  const before = await total(a);
  assert.equal(await total(b), before);
  await b.click('button.like');
  await until('the like on alice\'s page', async () => (await total(a)) === before + 1, 10000);
  await until('the like on bob\'s page', async () => (await total(b)) === before + 1, 10000);
  // The server keeps the count: it stays after the totals settle.
  await a.waitForTimeout(1200);
  assert.equal(await total(a), before + 1);
  assert.equal(await total(b), before + 1);

  // Over the rate limit (5 messages per 10 s), bob is told in words. On a
  // busy machine typing is slow and the bucket refills meanwhile, so bob
  // types on until he is told (at most 20 messages).
  const tooFast = '.chat-list .sys.error:has-text("发言太快了")';
  for (let i = 0; i < 20 && !(await b.$(tooFast)); i++) {
    await b.fill('.chat-input', `burst ${i};`);
    await b.press('.chat-input', 'Enter');
  }
  await b.waitForSelector(tooFast, { timeout: 20000 });

  // The owner deletes bob's message; it disappears for bob too.
  await a.hover(`.chat-list .msg:has-text("${text}")`);
  await a.click(`.chat-list .msg:has-text("${text}") .msg-mod button:first-child`);
  await b.waitForSelector(`.chat-list .msg:has-text("${text}")`, { state: 'detached', timeout: 10000 });

  // The owner mutes bob: bob's input says so and is disabled.
  await a.hover('.chat-list .msg:has-text("burst 0;")');
  await a.click('.chat-list .msg:has-text("burst 0;") .msg-mod button:nth-child(2)');
  await b.waitForSelector('.chat-input[disabled][placeholder*="禁言"]', { timeout: 10000 });
  await api.call('POST', `/rooms/${room.id}/moderation/unmute`, tokens.alice, { user_id: (await api.call('GET', '/me', tokens.bob)).id });
  await b.waitForSelector('.chat-input:not([disabled])', { timeout: 10000 });

  // A kick closes bob's chat with a readable reason, and it stays closed.
  await a.hover('.chat-list .msg:has-text("burst 1;")');
  await a.click('.chat-list .msg:has-text("burst 1;") .msg-mod button:nth-child(3)');
  await b.waitForSelector('.chat-list .sys.error:has-text("移出")', { timeout: 10000 });
  await b.waitForSelector('.chat[data-state=stopped]', { timeout: 10000 });
  await api.call('POST', `/rooms/${room.id}/moderation/unban`, tokens.alice, { user_id: (await api.call('GET', '/me', tokens.bob)).id });
  assert.deepEqual([...a.errors, ...b.errors], []);
  await a.context().close();
  await b.context().close();
});

test('the studio shows the stream live with its bitrate', async () => {
  for (const [name, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    const page = await openPage({ user: 'alice', path: `/studio/${room.id}`, viewport });
    await page.waitForSelector('[data-testid=stream-status][data-live=true]', { timeout: 15000 });
    const bps = await until('a bitrate', async () => Number(await page.$eval('[data-testid=stat-bitrate]', (e) => e.dataset.bps || 0)), 10000);
    assert.ok(bps > 50000, `bitrate ${bps}`);
    assert.match(await page.textContent('[data-testid=stat-resolution]'), /640×360/);
    await page.click('text=获取推流地址');
    const pushURL = await page.textContent('[data-testid=push-url]');
    assert.match(pushURL, new RegExp(`^rtmp://.+/live/${room.stream}\\?txSecret=[0-9a-f]+&txTime=[0-9A-F]+$`));
    assert.match(await page.textContent('[data-testid=obs-key]'), new RegExp(`^${room.stream}\\?txSecret=`));
    if (name === 'desktop') {
      // An announcement pinned in the studio shows in the room's chat.
      await page.fill('.pin-form input', '今晚八点抽奖 Giveaway at 8pm');
      await page.click('.pin-form button[type=submit]');
      await page.waitForSelector('.pinned:has-text("Giveaway at 8pm")', { timeout: 10000 });
      const viewer = await openPage({ path: `/room/${room.id}` });
      await viewer.waitForSelector('.pinned:has-text("今晚八点抽奖")', { timeout: 10000 });
      await viewer.context().close();
    }
    await page.waitForTimeout(4000); // a few points on the graph
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: shotPath(`studio-${name}`), fullPage: true });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

test('the player reconnects by itself when the host reconnects', async () => {
  const page = await openPage({ path: `/room/${room.id}?player=flv` });
  await assertPlays(page, 'flv', 2);
  ffmpeg.kill('SIGKILL');
  await until('ffmpeg to exit', () => ffmpeg.exitCode !== null || ffmpeg.signalCode !== null, 5000);
  ffmpeg = await goLive(); // within the reconnect grace
  await assertResumes(page);
  assert.equal((await api.call('GET', `/rooms/${room.id}`)).status, 'live');
  await page.context().close();
});

test('kicking from the admin page ends the live on the room page', async () => {
  const viewer = await openPage({ path: `/room/${room.id}?player=flv` });
  await assertPlays(viewer, 'flv', 2);
  const phone = await openPage({ user: 'root', path: '/admin', viewport: PHONE });
  await phone.waitForSelector(`button[data-stream="${room.stream}"]`, { timeout: 10000 });
  await phone.screenshot({ path: shotPath('admin-phone'), fullPage: true });
  await phone.context().close();

  const admin = await openPage({ user: 'root', path: '/admin' });
  const kick = `button[data-stream="${room.stream}"]`;
  await admin.waitForSelector(kick, { timeout: 10000 });
  assert.match(await admin.textContent('[data-testid=streams]'), /周五夜谈/);
  await admin.waitForSelector('[data-testid=users] >> text=bob');
  await admin.screenshot({ path: shotPath('admin-desktop'), fullPage: true });
  await admin.click(kick);
  await until('ffmpeg to be disconnected', () => ffmpeg.exitCode !== null || ffmpeg.signalCode !== null, 15000);
  await viewer.waitForSelector('.stage[data-state=ended]', { timeout: 30000 });
  assert.match(await viewer.textContent('.overlay'), /直播已结束/);
  assert.equal((await api.call('GET', `/rooms/${room.id}`)).status, 'ended');
  await viewer.screenshot({ path: shotPath('room-ended-desktop') });

  // Ban and unban bob from the users table.
  const bobRow = '[data-testid=users] tr:has-text("bob")';
  await admin.click(`${bobRow} button`);
  await admin.waitForSelector(`${bobRow} .badge:has-text("已封禁")`, { timeout: 10000 });
  await assert.rejects(api.login('bob'), /403/);
  await admin.click(`${bobRow} button:has-text("解封")`);
  await admin.waitForSelector(`${bobRow} :text("正常")`, { timeout: 10000 });
  tokens.bob = (await api.login('bob')).token;
  assert.deepEqual([...viewer.errors, ...admin.errors], []);
  await viewer.context().close();
  await admin.context().close();
});

test('the room page plays again when the host goes live again', async () => {
  const page = await openPage({ path: `/room/${room.id}` });
  await page.waitForSelector('.stage[data-state=ended]', { timeout: 10000 });
  ffmpeg = await goLive();
  await assertResumes(page);
  assert.equal(await page.evaluate(() => window.__roomcast.kind), 'whep');
  // The replay of the first live is listed on the room page and at home.
  await page.waitForSelector('.replay-item:not([disabled])', { timeout: 10000 });
  // The replay plays in the same player, and the page goes back to live.
  await page.click('.replay-item:not([disabled])');
  await until('the replay', () => page.evaluate(() => window.__roomcast.kind === 'hls' && location.search.includes('replay=')), 10000);
  await assertResumes(page, 2);
  await page.click('text=回到直播');
  await until('the live again', () => page.evaluate(() => window.__roomcast.kind === 'whep'), 10000);
  await assertResumes(page, 2);
  await page.context().close();
  const home = await openPage({ path: '/' });
  await home.waitForSelector('.card:has(.badge.replay)', { timeout: 15000 });
  await home.screenshot({ path: shotPath('home-replays-desktop'), fullPage: true });
  await home.context().close();
});

test('errors in words, the language toggle, register and a new room in the studio', async () => {
  const page = await openPage({ path: '/room/room_doesnotexist' });
  await page.waitForSelector('.state.error', { timeout: 10000 });
  assert.match(await page.textContent('.room-info'), /找不到内容/);
  await page.goto(srv.http + '/login');
  await page.fill('input[name=name]', 'alice');
  await page.fill('input[name=password]', 'wrong-password');
  await page.click('form button[type=submit]');
  await page.waitForSelector('.form-error:has-text("用户名或密码错误")', { timeout: 10000 });
  await page.click('button.lang');
  await page.waitForSelector('h1:has-text("Welcome back")');
  await page.reload();
  await page.waitForSelector('h1:has-text("Welcome back")');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  // Register in English, then create a room in the studio.
  await page.goto(srv.http + '/register?next=/studio');
  await page.fill('input[name=name]', 'ab');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('form button[type=submit]');
  await page.waitForSelector('.form-error:has-text("at least 3 characters")');
  await page.fill('input[name=name]', 'carol');
  await page.click('form button[type=submit]');
  await page.waitForURL((u) => u.pathname === '/studio', { timeout: 10000 });
  await page.waitForSelector('header .who:has-text("carol")');
  await page.waitForSelector('.studio-side form.room-form:visible', { timeout: 10000 });
  await page.fill('.studio-side input[name=title]', 'Carol live');
  await page.click('.studio-side form.room-form button[type=submit]');
  await page.waitForURL((u) => /^\/studio\/room_/.test(u.pathname), { timeout: 10000 });
  await page.waitForSelector('.detail-head h1:has-text("Carol live")');
  await page.waitForSelector('[data-testid=stream-status]:has-text("Offline")', { timeout: 10000 });
  await page.goto(srv.http + '/no/such/page');
  await page.waitForSelector('text=This page does not exist.');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a room deleted while on screen says so, and its chat does not reconnect', async () => {
  const gone = await api.call('POST', '/rooms', tokens.bob, { title: 'Soon gone' });
  const page = await openPage({ path: `/room/${gone.id}` });
  await page.waitForSelector('.chat[data-state=open]', { timeout: 10000 });
  await page.waitForSelector('.stage[data-state=idle]', { timeout: 10000 });
  await api.call('DELETE', `/rooms/${gone.id}`, tokens.bob);
  await page.waitForSelector('.stage[data-state=deleted]', { timeout: 10000 });
  assert.match(await page.textContent('.overlay'), /直播间已被删除/);
  await page.waitForSelector('.chat-list .sys.error:has-text("直播间已被删除")', { timeout: 10000 });
  await page.waitForSelector('.chat[data-state=stopped]', { timeout: 10000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('every page and API response carries the security headers; media gets nosniff', async () => {
  const media = `/live/${room.stream}.m3u8`;
  for (const p of ['/', '/rooms/' + room.id, '/api/v1/rooms', '/api/v1/nope', media]) {
    const res = await fetch(srv.http + p);
    const h = res.headers;
    assert.equal(h.get('x-content-type-options'), 'nosniff', p);
    assert.equal(h.get('strict-transport-security'), null, `${p}: HSTS over plain HTTP`);
    await res.arrayBuffer();
    if (p === media) {
      assert.equal(res.status, 200, p);
      assert.equal(h.get('content-security-policy'), null, `${p}: a media response needs no CSP`);
      continue;
    }
    assert.equal(h.get('x-frame-options'), 'DENY', p);
    assert.equal(h.get('referrer-policy'), 'same-origin', p);
    const csp = h.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/, p);
    assert.match(csp, /script-src 'self'(;|$)/, p);
  }
});

// Last: every page the tests above opened (playing FLV and HLS, chatting,
// the studio, the admin page) ran under the policy without a violation.
test('no page broke the Content-Security-Policy', () => {
  assert.deepEqual(cspViolations, []);
});

