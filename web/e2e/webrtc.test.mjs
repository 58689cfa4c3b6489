// Browser tests of WebRTC: a plain RTCPeerConnection plays an ffmpeg RTMP
// stream over WHEP (frames decode, Opus arrives); the room page's player
// picks WebRTC and shows its latency; the studio publishes Chromium's fake
// camera and microphone over WHIP, which ffprobe reads back as H.264 + AAC
// over RTMP, HTTP-FLV and HLS; the recording of that session replays.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { client, cspViolations, launch, publish, shotPath, startServer, stopAll, until, PASSWORD } from './harness.mjs';
import { measure, percentile } from './glassclock.mjs';

let srv, api, browser, tokens, rtmpRoom, camRoom;

before(async () => {
  srv = await startServer({ grace: '2s' });
  api = client(srv.http);
  tokens = { alice: (await api.register('alice')).token };
  rtmpRoom = await api.call('POST', '/rooms', tokens.alice, { title: 'RTMP to WebRTC' });
  camRoom = await api.call('POST', '/rooms', tokens.alice, { title: 'Browser camera', record: true });
  const push = await api.call('POST', `/rooms/${rtmpRoom.id}/push-url`, tokens.alice);
  publish(push.url);
  await until('the RTMP room to be live', async () => (await api.call('GET', `/rooms/${rtmpRoom.id}`)).status === 'live', 20000);
  browser = await launch({ fakeMedia: true });
});

after(async () => {
  await stopAll();
});

async function openPage(path = '/') {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', permissions: ['camera', 'microphone'] });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(srv.http + path);
  return page;
}

/** ffprobe's streams of url, as "codec_type:codec_name" strings. */
function probe(url) {
  const r = spawnSync('ffprobe', ['-hide_banner', '-v', 'error', '-rw_timeout', '10000000', '-show_entries', 'stream=codec_type,codec_name', '-of', 'csv=p=0', url], { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) throw new Error(`ffprobe ${url}: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => l.split(',').reverse().join(':')).sort();
}

/** Frames ffmpeg decodes from url in 2 s of media. */
function decodeFrames(url) {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-rw_timeout', '10000000', '-i', url, '-t', '2', '-f', 'null', '-progress', 'pipe:1', '-'], { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`ffmpeg ${url}: ${r.stderr}`);
  const m = [...r.stdout.matchAll(/frame=(\d+)/g)];
  return m.length ? Number(m[m.length - 1][1]) : 0;
}

test('a plain RTCPeerConnection plays the RTMP stream over WHEP: video decodes, Opus arrives', async () => {
  const page = await openPage();
  const room = await api.call('GET', `/rooms/${rtmpRoom.id}`);
  // The room's play URLs carry its programme (the host alone, or the mix).
  assert.ok(room.play.whep.endsWith(`/live/${room.stream}-programme/whep`), room.play.whep);
  const res = await page.evaluate(async (url) => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const video = document.createElement('video');
    video.muted = true;
    document.body.append(video);
    const ms = new MediaStream();
    pc.ontrack = (e) => { ms.addTrack(e.track); if (video.srcObject !== ms) { video.srcObject = ms; video.play().catch(() => {}); } };
    await pc.setLocalDescription(await pc.createOffer());
    const t0 = performance.now();
    const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
    if (r.status !== 201) return { error: `${r.status} ${await r.text()}` };
    const location = r.headers.get('Location');
    await pc.setRemoteDescription({ type: 'answer', sdp: await r.text() });
    let firstFrame = null;
    for (let i = 0; i < 200; i++) {
      await new Promise((ok) => setTimeout(ok, 100));
      const s = {};
      (await pc.getStats()).forEach((x) => {
        if (x.type === 'inbound-rtp') s[x.kind] = x;
      });
      if (firstFrame === null && s.video?.framesDecoded > 0) firstFrame = performance.now() - t0;
      if (s.video?.framesDecoded > 50 && s.audio?.packetsReceived > 50) {
        const codecs = {};
        (await pc.getStats()).forEach((x) => { if (x.type === 'codec') codecs[x.id] = x.mimeType; });
        const del = await fetch(location, { method: 'DELETE' });
        pc.close();
        return { framesDecoded: s.video.framesDecoded, audioPackets: s.audio.packetsReceived, video: codecs[s.video.codecId], audio: codecs[s.audio.codecId], firstFrame, deleted: del.status };
      }
    }
    return { error: 'timed out', state: pc.connectionState };
  }, room.play.whep);
  assert.equal(res.error, undefined, JSON.stringify(res));
  assert.ok(res.framesDecoded > 50, JSON.stringify(res));
  assert.ok(res.audioPackets > 50, JSON.stringify(res));
  assert.equal(res.video, 'video/H264');
  assert.equal(res.audio, 'audio/opus');
  assert.equal(res.deleted, 200);
  console.log(`WHEP in Chromium: first frame decoded ${Math.round(res.firstFrame)} ms after the POST`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the room page plays over WebRTC first and shows its latency', async () => {
  const page = await openPage(`/room/${rtmpRoom.id}`);
  await until('the WebRTC player', () => page.evaluate(() => window.__roomcast?.kind === 'whep'), 10000);
  await page.waitForSelector('.stage[data-state=playing]', { timeout: 30000 });
  const t0 = await page.evaluate(() => document.querySelector('video').currentTime);
  await until('the video to advance', async () => (await page.evaluate(() => document.querySelector('video').currentTime)) > t0 + 2, 20000);
  const latency = await until('a latency figure', () => page.evaluate(() => window.__roomcast.latency), 15000);
  assert.ok(latency > 0 && latency < 2, `latency ${latency}`);
  console.log(`WebRTC player in Chromium: ${latency.toFixed(3)} s behind live (jitter buffer + half the round trip)`);
  assert.equal(await page.textContent('.pill.kind'), 'WebRTC');
  await until('the latency label', () => page.isVisible('[data-testid=latency]'), 10000);
  assert.match(await page.textContent('[data-testid=latency]'), /^\d+\.\d s behind live$/);
  const dbg = await page.evaluate(() => window.__roomcast);
  assert.deepEqual(dbg.ends, []);
  await page.screenshot({ path: shotPath('webrtc-room') });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the studio goes live from the camera over WHIP; RTMP, HTTP-FLV and HLS carry H.264 + AAC; the recording replays', async () => {
  const page = await openPage('/login?next=' + encodeURIComponent(`/studio/${camRoom.id}`));
  await page.fill('input[name=name]', 'alice');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('form button[type=submit]');
  await page.waitForURL((u) => u.pathname === `/studio/${camRoom.id}`, { timeout: 10000 });
  await page.click('[data-testid=camera-on]');
  await page.waitForSelector('section[data-state=preview]', { timeout: 15000 });
  const cams = await page.$$eval('[data-testid=camera] option', (o) => o.length);
  const mics = await page.$$eval('[data-testid=microphone] option', (o) => o.length);
  assert.ok(cams >= 1 && mics >= 1, `${cams} cameras, ${mics} microphones`);
  await until('the preview to play', () => page.evaluate(() => document.querySelector('[data-testid=preview]').videoWidth > 0), 10000);
  await page.click('[data-testid=go-live]');
  try {
    await page.waitForSelector('section[data-state=live]', { timeout: 20000 });
  } catch (e) {
    const msg = await page.textContent('section[data-state] .form-error').catch(() => '?');
    throw new Error(`not live: ${msg}\nserver logs:\n${srv.logs.join('').split('\n').filter((l) => /webrtc|WHIP|whip/.test(l)).join('\n')}`);
  }
  await until('the room to be live', async () => (await api.call('GET', `/rooms/${camRoom.id}`)).status === 'live', 20000);
  const st = await until('H.264 and AAC in the stream', async () => {
    const s = await api.call('GET', `/rooms/${camRoom.id}/stream`, tokens.alice);
    return s.video?.codec === 'H264' && s.audio?.codec === 'AAC' && s.publisher?.protocol === 'webrtc' ? s : null;
  }, 30000);
  await page.screenshot({ path: shotPath('webrtc-studio-live') });
  const room = await api.call('GET', `/rooms/${camRoom.id}`);
  const rtmp = `${srv.rtmp}/live/${room.stream}`;
  for (const url of [rtmp, room.play.flv, room.play.hls]) {
    const streams = await until(`H.264 + AAC at ${url}`, () => {
      const s = probe(url);
      return s.includes('video:h264') && s.includes('audio:aac') ? s : null;
    }, 30000, 1000);
    assert.ok(streams, url);
    assert.ok(decodeFrames(url) > 10, `${url}: frames decode`);
  }
  await page.click('[data-testid=stop-live]');
  await page.waitForSelector('section[data-state=preview]', { timeout: 10000 });
  await until('the room to end', async () => (await api.call('GET', `/rooms/${camRoom.id}`)).status !== 'live', 20000);
  const rep = await until('a ready replay', async () => {
    const { replays } = await api.call('GET', `/rooms/${camRoom.id}/replays`, tokens.alice);
    return replays.length > 0 && replays[0].status === 'ready' ? replays[0] : null;
  }, 30000);
  const rs = probe(rep.url);
  assert.ok(rs.includes('video:h264') && rs.includes('audio:aac'), rs.join(' '));
  assert.ok(decodeFrames(rep.url) > 10, 'the replay decodes');
  console.log(`WHIP from Chromium: ${st.video.width}x${st.video.height}, AAC ${st.audio.sample_rate} Hz; replay ${rep.duration_ms} ms`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a viewer asks to join from the room page, is accepted, and joins on camera over WHIP', async () => {
  const dora = await api.register('dora');
  const page = await openPage('/login?next=' + encodeURIComponent(`/room/${rtmpRoom.id}`));
  await page.fill('input[name=name]', 'dora');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('form button[type=submit]');
  await page.waitForURL((u) => u.pathname === `/room/${rtmpRoom.id}`, { timeout: 10000 });
  const panel = (state) => `[data-testid=cohost-join][data-state=${state}]`;
  await page.waitForSelector('.chat[data-state=open]', { timeout: 20000 });
  await page.waitForSelector(panel('ask'), { timeout: 20000 });
  await page.click('[data-testid=ask-cohost]');
  await page.waitForSelector(panel('waiting'), { timeout: 10000 });

  // The host sees the request in the chat and accepts it (here over the
  // API, which answers the chat request too).
  await api.call('POST', `/rooms/${rtmpRoom.id}/cohosts`, tokens.alice, { user_id: dora.user.id });
  await page.waitForSelector(panel('cohost'), { timeout: 20000 });
  await page.click('[data-testid=cohost-join] [data-testid=camera-on]');
  await page.waitForSelector('[data-testid=cohost-join] section[data-state=preview]', { timeout: 15000 });
  await page.click('[data-testid=cohost-join] [data-testid=go-live]');
  try {
    await page.waitForSelector('[data-testid=cohost-join] section[data-state=live]', { timeout: 20000 });
  } catch (e) {
    const msg = await page.textContent('[data-testid=cohost-join] .form-error').catch(() => '?');
    throw new Error(`the co-host is not live: ${msg}`);
  }
  const member = await until('dora live as a member of the room', async () => {
    const r = await api.call('GET', `/rooms/${rtmpRoom.id}`);
    return r.members?.find((m) => m.user.id === dora.user.id && m.live) ?? null;
  }, 30000);
  assert.equal(member.stream, `${rtmpRoom.stream}-${dora.user.id}`);
  const streams = await until('H.264 + AAC in the co-host stream', () => {
    const st = probe(member.play.flv);
    return st.includes('video:h264') && st.includes('audio:aac') ? st : null;
  }, 30000, 1000);
  assert.ok(streams);
  assert.ok(decodeFrames(member.play.flv) > 10, 'the co-host stream decodes');
  await page.screenshot({ path: shotPath('webrtc-cohost-joined'), fullPage: true });

  // Leaving: the member goes offline; removed, the panel says so.
  await page.click('[data-testid=cohost-join] [data-testid=stop-live]');
  await until('dora offline', async () => {
    const r = await api.call('GET', `/rooms/${rtmpRoom.id}`);
    return r.members?.some((m) => m.user.id === dora.user.id && !m.live);
  }, 20000);
  await api.call('DELETE', `/rooms/${rtmpRoom.id}/cohosts/${dora.user.id}`, tokens.alice);
  await page.waitForSelector(panel('ask'), { timeout: 20000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a page\'s clock drawn on a canvas comes back through WHIP and WHEP readable (the glass-to-glass probe)', async () => {
  const room = await api.call('POST', '/rooms', tokens.alice, { title: 'Glass to glass' });
  const push = await api.call('POST', `/rooms/${room.id}/push-url`, tokens.alice);
  const page = await openPage('/');
  const whip = srv.http + new URL(push.whip).pathname + new URL(push.whip).search;
  const r = await page.evaluate(measure, { whip, whep: `${srv.http}/live/${room.stream}/whep`, want: 20 });
  const s = [...r.samples].sort((a, b) => a - b);
  assert.equal(s.length, 20);
  assert.equal(r.codec, 'video/H264');
  console.log(`glass to glass (WHIP → WHEP, Chromium, loopback): p50 ${percentile(s, 50)} ms, max ${s[s.length - 1]} ms, ${r.bad} unreadable frames`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('without WebRTC on the server, the player falls back to HTTP-FLV by itself', async () => {
  const off = await startServer({ extra: ['-webrtc-udp-addr', '', '-webrtc-tcp-addr', ''] });
  const offApi = client(off.http);
  const token = (await offApi.register('carol')).token;
  const room = await offApi.call('POST', '/rooms', token, { title: 'No WebRTC here' });
  publish((await offApi.call('POST', `/rooms/${room.id}/push-url`, token)).url);
  await until('the room to be live', async () => (await offApi.call('GET', `/rooms/${room.id}`)).status === 'live', 20000);
  const r = await fetch(off.http + `/live/${room.stream}/whep`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: 'v=0' });
  assert.equal(r.status, 503);
  assert.equal((await r.json()).error.code, 'webrtc_disabled');
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(off.http + `/room/${room.id}`);
  await until('the HTTP-FLV player after WebRTC failed', () => page.evaluate(() => window.__roomcast?.kind === 'flv'), 20000);
  await page.waitForSelector('.stage[data-state=playing]', { timeout: 30000 });
  const dbg = await page.evaluate(() => window.__roomcast);
  assert.ok(dbg.ends.some((e) => e.includes('webrtc_disabled')), JSON.stringify(dbg.ends));
  assert.match(await page.textContent('.pill.kind'), /HTTP-FLV/);
  assert.deepEqual(page.errors, []);
  await ctx.close();
});

// Last: the WebRTC pages (player, studio with the camera) ran under the
// server's Content-Security-Policy without a violation.
test('no WebRTC page broke the Content-Security-Policy', () => {
  assert.deepEqual(cspViolations, []);
});
