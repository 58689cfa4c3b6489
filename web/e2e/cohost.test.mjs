// Browser test of the studio's co-host panel (连麦): the member list, a
// viewer's request answered from the studio, and removing a co-host.
// Screenshots go to test-results/web/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { client, cspViolations, launch, publish, shotPath, startServer, stopAll, until, PASSWORD } from './harness.mjs';

let srv, api, browser;

before(async () => {
  srv = await startServer();
  api = client(srv.http);
  browser = await launch();
});

after(async () => {
  await stopAll();
});

async function openPage({ user, path = '/' } = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en' });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('dialog', (d) => void d.accept());
  if (user) {
    await page.goto(srv.http + '/login?next=' + encodeURIComponent(path));
    await page.fill('input[name=name]', user);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('form button[type=submit]');
    await page.waitForURL((u) => u.pathname === path, { timeout: 10000 });
  } else {
    await page.goto(srv.http + path);
  }
  return page;
}

test('the studio lists co-hosts, accepts a request and removes a co-host', async () => {
  const host = await api.register('stagehost');
  const carol = await api.register('carolco');
  const bob = await api.register('bobasks');
  const room = await api.call('POST', '/rooms', host.token, { title: 'Duet 连麦' });
  await api.call('POST', `/rooms/${room.id}/cohosts`, host.token, { user_id: carol.user.id });

  const page = await openPage({ user: 'stagehost', path: `/studio/${room.id}` });
  const member = (id) => `[data-testid=member-list] li[data-user="${id}"]`;
  await page.waitForSelector(member(host.user.id), { timeout: 10000 });
  await page.waitForSelector(member(carol.user.id), { timeout: 10000 });
  assert.equal(await page.locator(`${member(host.user.id)} [data-testid=remove-cohost]`).count(), 0, 'the host has no remove button');

  // Bob asks to co-host from his own browser page, over the room's chat.
  const bobPage = await openPage();
  const wsURL = srv.http.replace(/^http/, 'ws') + `/api/v1/rooms/${room.id}/chat?token=${bob.token}`;
  await bobPage.evaluate((url) => {
    window.__answers = [];
    const ws = new WebSocket(url);
    ws.onmessage = (e) => {
      const d = JSON.parse(e.data);
      for (const f of Array.isArray(d) ? d : [d]) {
        if (f.type === 'welcome') ws.send(JSON.stringify({ type: 'cohost_request' }));
        if (f.type === 'cohost_answer') window.__answers.push(f.answer);
      }
    };
  }, wsURL);
  const request = `[data-testid=cohost-requests] li[data-user="${bob.user.id}"]`;
  await page.waitForSelector(request, { timeout: 10000 });
  await page.screenshot({ path: shotPath('studio-cohost-request'), fullPage: true });
  await page.click(`${request} [data-testid=accept-cohost]`);
  await until('bob to be told he was accepted', () => bobPage.evaluate(() => window.__answers.includes('accepted')), 10000);
  await page.waitForSelector(member(bob.user.id), { timeout: 10000 });
  await page.waitForSelector(request, { state: 'detached', timeout: 10000 });
  const push = await api.call('POST', `/rooms/${room.id}/push-url`, bob.token);
  assert.match(push.url, new RegExp(`/live/${room.stream}-${bob.user.id}\\?`));

  // Removing carol from the studio.
  await page.click(`${member(carol.user.id)} [data-testid=remove-cohost]`);
  await until('carol to be removed', async () => {
    const r = await api.call('GET', `/rooms/${room.id}`);
    return !r.members.some((m) => m.user.id === carol.user.id);
  }, 10000);
  await page.waitForSelector(member(carol.user.id), { state: 'detached', timeout: 10000 });
  await page.screenshot({ path: shotPath('studio-cohosts'), fullPage: true });
  assert.deepEqual(page.errors, []);
  assert.deepEqual(bobPage.errors, []);
  assert.deepEqual(cspViolations, []);
});

test('the room page plays the programme and, on request, the members side by side', async () => {
  const host = await api.register('sidehost');
  const guest = await api.register('sideguest');
  const room = await api.call('POST', '/rooms', host.token, { title: 'Side by side' });
  await api.call('POST', `/rooms/${room.id}/cohosts`, host.token, { user_id: guest.user.id });
  publish((await api.call('POST', `/rooms/${room.id}/push-url`, host.token)).url);
  publish((await api.call('POST', `/rooms/${room.id}/push-url`, guest.token)).url);
  await until('both members live', async () => (await api.call('GET', `/rooms/${room.id}`)).members.every((m) => m.live), 20000);

  const page = await openPage({ path: `/room/${room.id}` });
  await page.waitForSelector('.stage[data-state=playing]', { timeout: 30000 });
  // The player tries WebRTC first: the programme over WHEP, else FLV.
  assert.match(await page.evaluate(() => window.__roomcast.url), new RegExp(`${room.stream}-programme(\\.flv|/whep)`));
  await page.waitForSelector('[data-testid=members-toggle]:visible', { timeout: 20000 });
  await page.click('[data-testid=members-toggle]');
  for (const id of [host.user.id, guest.user.id]) {
    await page.waitForSelector(`[data-testid=member-grid] .member-tile[data-user="${id}"][data-state=playing]`, { timeout: 60000 });
  }
  await page.screenshot({ path: shotPath('room-members-side-by-side'), fullPage: true });
  await page.click('[data-testid=members-toggle]');
  await page.waitForSelector('[data-testid=member-grid] .member-tile', { state: 'detached', timeout: 10000 });
  assert.deepEqual(page.errors, []);
  assert.deepEqual(cspViolations, []);
});
