import { api, ApiError, type Replay, type Room } from '../api';
import { chatPanel } from '../chatpanel';
import { clear, h } from '../dom';
import { describe } from '../errors';
import { bytes, clock, count, reachable } from '../format';
import { lang, t, type Key } from '../i18n';
import { choosePlayer, detectCaps, kindName, LivePlayer, parsePreference, type Kind, type Preference } from '../player';
import type { Page } from '../router';
import { icon } from '../icons';
import { avatar, dateTime, elapsed, emptyBlock, errorBlock, liveBadge, loadingBlock } from '../ui';
import { membersSideBySide } from '../cohost';
import { cohostJoin } from './cohostjoin';

const PREF_KEY = 'roomcast.player';

/** What tests (and curious developers) can read: window.__roomcast. */
interface Debug {
  kind: Kind | null;
  url: string;
  /** 'auto' or the rendition chosen in the quality menu. */
  quality: string;
  state: string;
  ends: string[];
  /** Seconds behind live, as shown (null: unknown). */
  latency: number | null;
  /** Playing LL-HLS partial segments. */
  lowLatency: boolean;
}

type Overlay = 'loading' | 'buffering' | 'reconnecting' | 'ended' | 'idle' | 'unsupported' | 'deleted' | 'muted' | null;

/** The room: player, chat, likes, viewers and replays. */
export const roomPage: Page = (outlet, params, query) => {
  const id = params.id;
  const stop: Array<() => void> = [];
  const dbg: Debug = { kind: null, url: '', quality: 'auto', state: 'loading', ends: [], latency: null, lowLatency: false };
  (window as unknown as { __roomcast: Debug }).__roomcast = dbg;

  let pref: Preference = parsePreference(query.get('player') ?? localStorage.getItem(PREF_KEY));
  let room: Room | null = null;
  let player: LivePlayer | null = null;
  let replay: Replay | null = null;
  let retries = 0;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let watchTimer: ReturnType<typeof setInterval> | null = null;
  let left = false;
  // The room was deleted while on screen: nothing will play again.
  let gone = false;
  // In auto mode, FLV that fails twice before playing (a proxy that
  // buffers it, say) gives way to HLS for the rest of the visit.
  let flvFailures = 0;
  // In auto mode, WebRTC that fails before playing (UDP and the ICE-TCP
  // port blocked, an H.265 stream) gives way to FLV for the visit.
  let whepFailures = 0;
  let played = false;
  let ticks: Array<() => void> = [];
  stop.push(() => ticks.forEach((f) => f()));

  const video = h('video', { class: 'video', playsinline: true, 'webkit-playsinline': true, controls: false, 'data-testid': 'video' });
  const overlayText = h('div', { class: 'overlay-text' });
  const overlaySub = h('div', { class: 'overlay-sub' });
  const overlay = h('div', { class: 'overlay' }, h('span', { class: 'spinner' }), overlayText, overlaySub);
  const unmute = h('button', { class: 'btn unmute', hidden: true, onclick: () => { video.muted = false; unmute.hidden = true; } }, icon('muted'), ' ', t('player.unmute'));
  const select = h('select', { class: 'player-select', 'aria-label': t('player.choose') },
    h('option', { value: 'auto' }, t('player.auto')),
    h('option', { value: 'whep' }, 'WebRTC'),
    h('option', { value: 'flv' }, 'HTTP-FLV'),
    h('option', { value: 'hls' }, 'HLS'));
  select.value = pref;
  // Quality: Auto (the source over FLV; HLS players switch by themselves
  // over the multivariant playlist) or one rendition of the ladder.
  let quality = query.get('quality') ?? 'auto';
  const qualitySelect = h('select', { class: 'player-select', 'aria-label': t('player.quality'), 'data-testid': 'quality', hidden: true });
  const kindLabel = h('span', { class: 'pill kind' });
  const latencyLabel = h('span', { class: 'pill latency', hidden: true, 'data-testid': 'latency', title: t('player.latency_title') });
  const backLive = h('button', { class: 'btn', hidden: true, onclick: () => { replay = null; history.replaceState(null, '', `/room/${id}`); backLive.hidden = true; start(); } }, t('player.back_live'));
  const stage = h('div', { class: 'stage', 'data-state': 'loading' }, video, overlay, unmute,
    h('div', { class: 'stage-bar' }, kindLabel, latencyLabel, select, qualitySelect, backLive,
      h('button', { class: 'btn ghost icon', title: t('player.fullscreen'), onclick: () => void stage.requestFullscreen?.().catch(() => {}) }, icon('fullscreen'))));

  const info = h('div', { class: 'room-info' }, loadingBlock());
  const members = membersSideBySide();
  const viewersEl = h('span', { 'data-testid': 'viewers' });
  const replaysBox = h('div', { class: 'replay-list' });
  const join = cohostJoin(id, (cmd) => chat.send(cmd), () => void refresh());
  const chat = chatPanel(id, {
    onOther: (f) => join.frame(f),
    onNotice(kind) {
      if (kind === 'room_deleted') return roomGone();
      if (replay) return;
      if (kind === 'stream_ended') {
        stopPlayer();
        if (room) room.status = 'ended';
        show('ended');
        void refresh();
      } else if (kind === 'stream_started') {
        if (room) room.status = 'live';
        retries = 0;
        if (!player) start();
        void refresh();
      }
    },
    onPresence(_online, viewers) {
      viewersEl.textContent = count(viewers, lang());
    },
  });
  stop.push(() => chat.stop());
  stop.push(() => join.stop());

  outlet.append(h('div', { class: 'room-layout' },
    h('div', { class: 'room-main' }, stage, info, join.el),
    h('aside', { class: 'room-side' }, chat.el),
    h('section', { class: 'room-replays' }, h('h2', null, t('room.replays')), replaysBox)));

  select.addEventListener('change', () => {
    pref = parsePreference(select.value);
    flvFailures = 0;
    whepFailures = 0;
    localStorage.setItem(PREF_KEY, pref);
    retries = 0;
    start();
  });
  qualitySelect.addEventListener('change', () => {
    quality = qualitySelect.value;
    retries = 0;
    start();
  });

  /** Lists the room's renditions in the quality menu (hidden without). */
  function renderQuality(): void {
    const rds = (room?.status === 'live' && !replay && room.play?.renditions) || [];
    if (quality !== 'auto' && !rds.some((r) => r.name === quality)) quality = 'auto';
    qualitySelect.replaceChildren(
      h('option', { value: 'auto' }, t('player.auto')),
      ...rds.map((r) => h('option', { value: r.name }, r.name)));
    qualitySelect.value = quality;
    qualitySelect.hidden = rds.length === 0;
  }

  video.addEventListener('volumechange', () => (unmute.hidden = !video.muted));

  function show(o: Overlay): void {
    dbg.state = o ?? 'playing';
    stage.dataset.state = o ?? 'playing';
    kindLabel.hidden = o !== null || (pref !== 'auto' && !replay);
    overlay.hidden = o === null || o === 'muted';
    const text: Partial<Record<NonNullable<Overlay>, [Key, Key | '']>> = {
      loading: ['player.loading', ''],
      buffering: ['player.buffering', ''],
      reconnecting: ['player.reconnecting', 'player.reconnecting_sub'],
      ended: ['player.ended', 'player.ended_sub'],
      idle: ['player.idle', 'player.idle_sub'],
      unsupported: ['player.unsupported', 'player.unsupported_sub'],
      deleted: ['player.deleted', 'player.deleted_sub'],
    };
    const tx = o ? text[o] : undefined;
    overlay.classList.toggle('busy', o === 'loading' || o === 'buffering' || o === 'reconnecting');
    overlayText.textContent = tx ? t(tx[0]) : '';
    overlaySub.textContent = tx && tx[1] ? t(tx[1]) : '';
  }

  function stopPlayer(): void {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    player?.destroy();
    player = null;
  }

  /** The room was deleted (chat notice, or a 404 while reconnecting). */
  function roomGone(): void {
    gone = true;
    replay = null;
    stopPlayer();
    if (watchTimer) clearInterval(watchTimer);
    backLive.hidden = true;
    replaysBox.replaceChildren();
    show('deleted');
  }

  function start(): void {
    stopPlayer();
    if (left || gone || !room) return;
    if (replay) return playReplay(replay);
    // The room's cover behind the player: the live picture until the
    // video starts, or the host's (or last) cover while it is not live.
    video.poster = room.cover_url ? reachable(room.cover_url, location.host) : '';
    if (room.status !== 'live' || !room.play) {
      show(room.status === 'ended' ? 'ended' : 'idle');
      kindLabel.textContent = '';
      return;
    }
    renderQuality();
    const rd = quality === 'auto' ? undefined : room.play.renditions?.find((r) => r.name === quality);
    let effective: Preference = pref;
    if (pref === 'auto' && whepFailures >= 1) effective = flvFailures >= 2 ? 'hls' : 'flv';
    // A rendition of the quality ladder plays over HTTP-FLV or HLS.
    if (rd && effective !== 'hls') effective = 'flv';
    const kind = choosePlayer(effective, detectCaps(video));
    played = false;
    dbg.kind = kind;
    if (!kind) return show('unsupported');
    const src = rd ?? room.play;
    const url = reachable(kind === 'whep' ? room.play.whep : kind === 'flv' ? src.flv : src.hls, location.host);
    dbg.url = url;
    dbg.quality = rd ? rd.name : 'auto';
    kindLabel.textContent = kindName(kind);
    play(new LivePlayer(video, kind, url, {
      state(s) {
        if (s === 'playing') {
          retries = 0;
          played = true;
          if (kind === 'flv') flvFailures = 0;
        }
        show(s === 'playing' ? null : s === 'buffering' ? 'buffering' : retries > 0 ? 'reconnecting' : 'loading');
      },
      end(reason) {
        dbg.ends.push(reason);
        player = null;
        if (kind === 'flv' && !played && reason !== 'ended') flvFailures++;
        if (kind === 'whep' && !played && reason !== 'ended') whepFailures++;
        void afterEnd();
      },
    }));
  }

  // The protocol in use and how far behind live it plays, once a second.
  const latencyTimer = setInterval(() => {
    const p = player;
    const lat = p && !replay ? p.latency() : null;
    dbg.latency = lat;
    dbg.lowLatency = !!p && p.lowLatency();
    latencyLabel.hidden = lat === null || stage.dataset.state !== 'playing';
    if (lat !== null) latencyLabel.textContent = t('player.latency', { s: lat.toFixed(1) });
    if (p && !replay && p.kind === 'hls') kindLabel.textContent = dbg.lowLatency ? 'LL-HLS' : 'HLS';
  }, 1000);
  stop.push(() => clearInterval(latencyTimer));

  function play(p: LivePlayer): void {
    player = p;
    void p.start().then(() => {
      unmute.hidden = !video.muted;
    });
  }

  /** The stream stopped: reconnect while the room is live, else say it ended. */
  async function afterEnd(): Promise<void> {
    if (left || gone) return;
    show('reconnecting');
    try {
      room = await api.room(id);
      renderInfo();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return roomGone();
      /* network trouble: keep retrying below */
    }
    if (left || gone || player) return;
    if (room && room.status !== 'live') {
      show('ended');
      return;
    }
    const delay = Math.min(8000, 1000 * 2 ** retries);
    retries++;
    retryTimer = setTimeout(start, delay);
  }

  function playReplay(r: Replay): void {
    stopPlayer();
    replay = r;
    video.poster = r.poster_url ? reachable(r.poster_url, location.host) : '';
    backLive.hidden = room?.status !== 'live';
    const caps = detectCaps(video);
    const kind: Kind | null = caps.hlsjs ? 'hls' : caps.native ? 'native' : null;
    dbg.kind = kind;
    if (!kind) return show('unsupported');
    kindLabel.textContent = t('room.replay') + ' · ' + dateTime(r.started_at);
    play(new LivePlayer(video, kind, reachable(r.url, location.host), {
      state: (s) => show(s === 'playing' ? null : s === 'buffering' ? 'buffering' : 'loading'),
      end: (reason) => {
        dbg.ends.push(reason);
        player = null;
        show(null);
      },
    }, false));
  }

  function renderInfo(): void {
    if (!room) return;
    members.update(room);
    join.update(room);
    ticks.forEach((f) => f());
    ticks = [];
    viewersEl.textContent = count(room.viewers, lang());
    clear(info,
      h('div', { class: 'room-title-row' },
        h('h1', { class: 'room-title' }, room.title),
        room.status === 'live' ? [liveBadge(), h('span', { class: 'pill' }, elapsed(room.live_since, ticks))]
          : h('span', { class: 'badge ' + room.status, 'data-testid': 'room-status' }, t(room.status === 'ended' ? 'room.status_ended' : 'room.status_idle'))),
      h('div', { class: 'room-meta' },
        avatar(room.owner.name), h('strong', null, room.owner.name || t('room.anonymous_host')),
        h('span', { class: 'muted meta-item' }, icon('eye'), ' ', viewersEl, ' ', t('room.viewers')),
        h('span', { class: 'muted' }, '♥ ', count(room.likes, lang())),
        room.private && h('span', { class: 'badge' }, t('room.private'))),
      room.description && h('p', { class: 'room-desc' }, room.description),
      members.el);
    document.title = `${room.title} · roomcast`;
  }

  async function loadReplays(): Promise<void> {
    try {
      const { replays } = await api.replays(id, 20);
      if (gone) return;
      if (replays.length === 0) return clear(replaysBox, emptyBlock(t('room.no_replays')));
      clear(replaysBox, replays.map((r) => h('button', { class: 'replay-item', type: 'button', disabled: r.status === 'recording',
        onclick: () => { history.replaceState(null, '', `/room/${id}?replay=${r.id}`); playReplay(r); window.scrollTo({ top: 0, behavior: 'smooth' }); } },
        r.poster_url
          ? h('img', { class: 'replay-poster', src: reachable(r.poster_url, location.host), alt: '', loading: 'lazy', 'data-testid': 'replay-poster' })
          : h('span', { class: 'replay-play' }, icon('play')),
        h('span', null, dateTime(r.started_at)),
        h('span', { class: 'muted' }, r.status === 'recording' ? t('room.recording') : clock(r.duration_ms / 1000)),
        h('span', { class: 'muted' }, bytes(r.bytes)))));
    } catch (e) {
      if (!gone) clear(replaysBox, errorBlock(e, () => void loadReplays()));
    }
  }

  async function refresh(): Promise<void> {
    try {
      room = await api.room(id);
      renderInfo();
    } catch {
      /* the chat and player keep going; the next refresh may work */
    }
    void loadReplays();
  }

  async function load(): Promise<void> {
    show('loading');
    try {
      room = await api.room(id);
    } catch (e) {
      clear(info, errorBlock(e, () => void load()));
      show(null);
      overlay.hidden = false;
      overlayText.textContent = describe(e);
      overlaySub.textContent = '';
      return;
    }
    renderInfo();
    const rid = query.get('replay');
    if (rid) {
      try {
        replay = await api.replays(id, 100).then((x) => x.replays.find((r) => r.id === rid) ?? null);
      } catch {
        replay = null;
      }
    }
    start();
    void loadReplays();
  }
  void load();

  // While idle or ended, look for the host starting again (the chat
  // notice usually comes first).
  watchTimer = setInterval(() => {
    if (!replay && room && room.status === 'live' && !room.play?.renditions?.length) {
      // The ladder's renditions start a few seconds after the live.
      void api.room(id).then((r) => {
        if (left || !room || r.status !== 'live') return;
        room = r;
        renderQuality();
      }).catch(() => {});
      return;
    }
    if (!player && !retryTimer && !replay && room && room.status !== 'live') {
      void api.room(id).then((r) => {
        if (left) return;
        const was = room?.status;
        room = r;
        if (r.status === 'live' && was !== 'live') {
          renderInfo();
          retries = 0;
          start();
        }
      }).catch(() => {});
    }
  }, 5000);

  return () => {
    left = true;
    stopPlayer();
    members.stop();
    if (watchTimer) clearInterval(watchTimer);
    stop.forEach((f) => f());
    document.title = 'roomcast';
  };
};
