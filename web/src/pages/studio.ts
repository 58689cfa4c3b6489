import { api, ApiError, session, type PushURL, type Room } from '../api';
import { chatPanel } from '../chatpanel';
import { cohostPanel } from '../cohost';
import { clear, copyText, h } from '../dom';
import { bitrate, bytes, clock, count, reachable } from '../format';
import { Sparkline } from '../graph';
import { lang, t } from '../i18n';
import type { Page } from '../router';
import { describe } from '../errors';
import { browserLive } from './golive';
import { dateTime, emptyBlock, errorBlock, liveBadge, loadingBlock, poll, toast, toastError } from '../ui';

/** The host's studio: rooms, push URLs, stream health, moderation, replays. */
export function studioPage(go: (href: string, replace?: boolean) => void): Page {
  return (outlet, params) => {
    if (!session.token) {
      go('/login?next=' + encodeURIComponent(location.pathname), true);
      return;
    }
    const stop: Array<() => void> = [];
    const list = h('div', { class: 'room-list' }, loadingBlock());
    const detail = h('div', { class: 'studio-detail' });
    const newForm = roomForm(null, async (input) => {
      const r = await api.createRoom(input);
      toast(t('studio.created'));
      go(`/studio/${r.id}`);
    });
    newForm.hidden = true;
    outlet.append(h('div', { class: 'studio' },
      h('aside', { class: 'studio-side' },
        h('div', { class: 'side-head' }, h('h2', null, t('studio.my_rooms')),
          h('button', { class: 'btn primary', type: 'button', onclick: () => (newForm.hidden = !newForm.hidden) }, '+ ', t('studio.new_room'))),
        newForm, list),
      detail));

    let rooms: Room[] = [];
    const loadList = async () => {
      try {
        rooms = (await api.rooms({ owner: 'me', limit: '100' })).rooms;
        if (rooms.length === 0) {
          clear(list, emptyBlock(t('studio.no_rooms')));
          newForm.hidden = false;
        } else {
          clear(list, rooms.map((r) => h('a', { class: 'room-row' + (r.id === params.id ? ' active' : ''), href: `/studio/${r.id}` },
            h('span', { class: 'room-row-title' }, r.title),
            r.status === 'live' ? liveBadge() : h('span', { class: 'badge ' + r.status }, t(r.status === 'ended' ? 'room.status_ended' : 'room.status_idle')))));
        }
        if (!params.id && rooms.length > 0) go(`/studio/${rooms[0].id}`, true);
      } catch (e) {
        clear(list, errorBlock(e, () => void loadList()));
      }
    };
    poll(loadList, 10000, stop);

    if (params.id) stop.push(roomDetail(detail, params.id, go, () => void loadList()));
    else clear(detail, emptyBlock(t('studio.pick_room')));
    return () => stop.forEach((f) => f());
  };
}

type RoomInput = { title: string; description: string; private: boolean; record: boolean };

function roomForm(r: Room | null, save: (input: RoomInput) => Promise<void>): HTMLFormElement {
  const title = h('input', { name: 'title', required: true, maxlength: 100, value: r?.title ?? '', placeholder: t('studio.title_hint') });
  const desc = h('textarea', { name: 'description', maxlength: 2000, rows: 3, placeholder: t('studio.desc_hint') });
  desc.value = r?.description ?? '';
  const priv = h('input', { type: 'checkbox', name: 'private', checked: r?.private ?? false });
  const rec = h('input', { type: 'checkbox', name: 'record', checked: r?.record ?? true });
  const msg = h('div', { class: 'form-error', role: 'alert' });
  const btn = h('button', { class: 'btn primary', type: 'submit' }, r ? t('action.save') : t('studio.create'));
  const form = h('form', { class: 'room-form' },
    h('label', null, t('studio.title'), title),
    h('label', null, t('studio.desc'), desc),
    h('label', { class: 'check' }, priv, t('studio.private')),
    h('label', { class: 'check' }, rec, t('studio.record')),
    msg, btn);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.textContent = '';
    if (!title.value.trim()) return void (msg.textContent = t('studio.title_required'));
    btn.disabled = true;
    try {
      await save({ title: title.value.trim(), description: desc.value, private: priv.checked, record: rec.checked });
    } catch (err) {
      msg.textContent = describe(err);
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}

function copyRow(label: string, value: string, testid: string): HTMLElement {
  return h('div', { class: 'copy-row' },
    h('span', { class: 'copy-label' }, label),
    h('code', { class: 'copy-value', 'data-testid': testid }, value),
    h('button', { class: 'btn mini', type: 'button', onclick: async () => toast((await copyText(value)) ? t('studio.copied') : t('studio.copy_failed')) }, t('studio.copy')));
}

function roomDetail(el: HTMLElement, id: string, go: (href: string) => void, changed: () => void): () => void {
  const stop: Array<() => void> = [];
  clear(el, loadingBlock());
  let stopped = false;

  void (async () => {
    let room: Room;
    try {
      room = await api.room(id);
    } catch (e) {
      clear(el, errorBlock(e));
      return;
    }
    if (stopped) return;

    // Stream health.
    const healthBadge = h('span', { 'data-testid': 'stream-status' });
    const stat = (k: string) => h('div', { class: 'stat' }, h('div', { class: 'stat-v', 'data-testid': 'stat-' + k }, '–'), h('div', { class: 'stat-k' }, t(('studio.stat_' + k) as 'studio.stat_bitrate')));
    const stats = { bitrate: stat('bitrate'), fps: stat('fps'), resolution: stat('resolution'), viewers: stat('viewers'), uptime: stat('uptime') };
    const spark = new Sparkline(60);
    const setStat = (k: keyof typeof stats, v: string) => ((stats[k].firstElementChild as HTMLElement).textContent = v);
    const health = h('section', { class: 'panel' },
      h('div', { class: 'panel-head' }, h('h3', null, t('studio.stream')), healthBadge),
      h('div', { class: 'stats' }, Object.values(stats)),
      spark.canvas,
      h('div', { class: 'muted small' }, t('studio.graph_hint')));
    poll(async () => {
      try {
        const s = await api.roomStream(id);
        healthBadge.replaceChildren(s.publisher ? liveBadge() : h('span', { class: 'badge warn' }, t('studio.reconnecting')));
        healthBadge.dataset.live = s.publisher ? 'true' : 'false';
        setStat('bitrate', bitrate(s.bitrate_in));
        (stats.bitrate.firstElementChild as HTMLElement).dataset.bps = String(s.bitrate_in);
        setStat('fps', s.video?.fps ? s.video.fps.toFixed(s.video.fps % 1 ? 1 : 0) : '–');
        setStat('resolution', s.video?.width ? `${s.video.width}×${s.video.height}` : '–');
        setStat('viewers', count(s.viewers, lang()));
        setStat('uptime', clock(s.uptime));
        spark.push(s.bitrate_in / 1000);
      } catch (e) {
        if (e instanceof ApiError && e.code === 'stream_not_found') {
          healthBadge.replaceChildren(h('span', { class: 'badge' }, t('studio.offline')));
          healthBadge.dataset.live = 'false';
          for (const k of Object.keys(stats) as Array<keyof typeof stats>) setStat(k, '–');
          spark.push(0);
        } else {
          healthBadge.replaceChildren(h('span', { class: 'badge warn' }, t('state.failed')));
        }
      }
    }, 2000, stop);

    // Push URL.
    const pushBox = h('div', { class: 'push' }, h('p', { class: 'muted' }, t('studio.push_hint')));
    const showPush = (p: PushURL) => {
      const url = reachable(p.url, location.host);
      const server = reachable(p.server, location.host);
      const expires = new Date(p.expires_at);
      clear(pushBox,
        copyRow(t('studio.push_url'), url, 'push-url'),
        h('h4', null, 'OBS'),
        copyRow(t('studio.obs_server'), server, 'obs-server'),
        copyRow(t('studio.obs_key'), p.stream_key, 'obs-key'),
        h('h4', null, 'WebRTC (WHIP)'),
        copyRow('WHIP', reachable(p.whip, location.host), 'whip-url'),
        h('p', { class: 'muted small' }, t('studio.expires', { time: expires.toLocaleString() })),
        h('pre', { class: 'cmd' }, `ffmpeg -re -i input.mp4 -c:v libx264 -preset veryfast -tune zerolatency -g 50 -c:a aac -f flv '${url}'`));
    };
    const pushBtn = h('button', { class: 'btn primary', type: 'button', onclick: async () => {
      try {
        showPush(await api.pushURL(id));
      } catch (e) {
        toastError(e);
      }
    } }, t('studio.get_push'));
    const push = h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h3', null, t('studio.push')), pushBtn), pushBox);

    // Cover.
    const coverImg = h('img', { class: 'studio-cover', alt: '', 'data-testid': 'studio-cover', hidden: !room.cover_url });
    if (room.cover_url) coverImg.src = reachable(room.cover_url, location.host);
    const coverInput = h('input', { type: 'file', accept: 'image/jpeg,image/png,image/webp', 'data-testid': 'cover-file', hidden: true });
    coverInput.addEventListener('change', async () => {
      const file = coverInput.files?.[0];
      coverInput.value = '';
      if (!file) return;
      try {
        room = await api.setCover(id, file);
        if (room.cover_url) {
          coverImg.src = reachable(room.cover_url, location.host);
          coverImg.hidden = false;
        }
        toast(t('studio.cover_saved'));
        changed();
      } catch (e) {
        toastError(e);
      }
    });
    const cover = h('div', { class: 'studio-cover-row' },
      h('h4', null, t('studio.cover')), coverImg,
      h('p', { class: 'muted small' }, t('studio.cover_hint')),
      coverInput,
      h('button', { class: 'btn', type: 'button', onclick: () => coverInput.click() }, t('studio.cover_choose')));

    // Settings.
    const settings = h('section', { class: 'panel' }, h('h3', null, t('studio.settings')), cover,
      roomForm(room, async (input) => {
        room = await api.updateRoom(id, input);
        toast(t('studio.saved'));
        changed();
      }),
      h('div', { class: 'danger' },
        h('button', { class: 'btn danger', type: 'button', onclick: async () => {
          if (!confirm(t('studio.delete_confirm', { title: room.title }))) return;
          try {
            await api.deleteRoom(id);
            toast(t('studio.deleted'));
            go('/studio');
          } catch (e) {
            toastError(e);
          }
        } }, t('studio.delete_room'))));

    // Chat with moderation.
    let cohosts: ReturnType<typeof cohostPanel> | null = null;
    const chat = chatPanel(id, { pinForm: true, onOther: (f) => cohosts?.frame(f) });
    stop.push(() => chat.stop());
    cohosts = cohostPanel(id, room.members, chat.send);
    stop.push(() => cohosts?.stop());
    const moderation = h('section', { class: 'panel' }, h('h3', null, t('studio.moderation')),
      h('p', { class: 'muted small' }, t('studio.moderation_hint')), chat.el);

    // Replays.
    const repBox = h('div', null, loadingBlock());
    const loadReplays = async () => {
      try {
        const { replays } = await api.replays(id, 50);
        if (replays.length === 0) return clear(repBox, emptyBlock(t('room.no_replays')));
        clear(repBox, h('table', { class: 'table' },
          h('thead', null, h('tr', null, h('th', null, t('studio.replay_start')), h('th', null, t('studio.replay_len')), h('th', null, t('studio.replay_size')), h('th', null, ''))),
          h('tbody', null, replays.map((r) => h('tr', null,
            h('td', null, h('a', { href: `/room/${id}?replay=${r.id}` }, dateTime(r.started_at))),
            h('td', null, r.status === 'recording' ? t('room.recording') : clock(r.duration_ms / 1000)),
            h('td', null, bytes(r.bytes)),
            h('td', null, h('button', { class: 'btn mini danger', type: 'button', disabled: r.status === 'recording', onclick: async () => {
              if (!confirm(t('studio.delete_replay_confirm'))) return;
              try {
                await api.deleteReplay(r.id);
                toast(t('studio.deleted'));
                void loadReplays();
              } catch (e) {
                toastError(e);
              }
            } }, t('action.delete'))))))));
      } catch (e) {
        clear(repBox, errorBlock(e, () => void loadReplays()));
      }
    };
    poll(loadReplays, 15000, stop);
    const replays = h('section', { class: 'panel' }, h('h3', null, t('room.replays')), repBox);

    clear(el,
      h('div', { class: 'detail-head' },
        h('h1', null, room.title),
        h('a', { class: 'btn', href: `/room/${id}` }, t('studio.open_room'))),
      h('div', { class: 'detail-grid' }, health, browserLive(id, stop), push, cohosts.el, moderation, settings, replays));
  })();

  return () => {
    stopped = true;
    stop.forEach((f) => f());
  };
}
