import { api, session, type Room, type StreamStats, type User } from '../api';
import { append, clear, h } from '../dom';
import { bitrate, clock, count } from '../format';
import { lang, t } from '../i18n';
import type { Page } from '../router';
import { dateTime, emptyBlock, errorBlock, loadingBlock, poll, toast, toastError } from '../ui';

/** Admin: live streams with stats and a kick button; users with ban/unban. */
export function adminPage(go: (href: string, replace?: boolean) => void): Page {
  return (outlet) => {
    const me = session.user;
    if (!session.token) {
      go('/login?next=/admin', true);
      return;
    }
    if (me?.role !== 'admin') {
      outlet.append(emptyBlock(t('admin.only')));
      return;
    }
    const stop: Array<() => void> = [];
    const streamsBox = h('div', { class: 'table-wrap' }, loadingBlock());
    const usersBox = h('div', { class: 'table-wrap' }, loadingBlock());
    const more = h('button', { class: 'btn', type: 'button', hidden: true }, t('admin.more'));
    outlet.append(
      h('h1', null, t('admin.title')),
      h('section', { class: 'panel' }, h('h2', null, t('admin.streams')), streamsBox),
      h('section', { class: 'panel' }, h('h2', null, t('admin.users')), usersBox, more));

    poll(async () => {
      try {
        const [{ streams }, { rooms }] = await Promise.all([api.streams(), api.rooms({ status: 'live', limit: '100' })]);
        const byStream = new Map<string, Room>(rooms.map((r) => [r.stream, r]));
        if (streams.length === 0) return clear(streamsBox, emptyBlock(t('admin.no_streams')));
        clear(streamsBox, h('table', { class: 'table streams', 'data-testid': 'streams' },
          h('thead', null, h('tr', null, ...['admin.col_stream', 'admin.col_bitrate', 'admin.col_video', 'admin.col_viewers', 'admin.col_uptime', 'admin.col_from']
            .map((k) => h('th', null, t(k as 'admin.col_stream'))), h('th', null, ''))),
          h('tbody', null, streams.map((s) => streamRow(s, byStream.get(s.name))))));
      } catch (e) {
        clear(streamsBox, errorBlock(e));
      }
    }, 3000, stop);

    let cursor = '';
    let table: HTMLTableSectionElement | null = null;
    const loadUsers = async (reset: boolean) => {
      try {
        if (reset) cursor = '';
        const page = await api.users(cursor);
        if (reset || !table) {
          table = h('tbody', null);
          clear(usersBox, h('table', { class: 'table users', 'data-testid': 'users' },
            h('thead', null, h('tr', null, h('th', null, t('admin.col_user')), h('th', null, t('admin.col_role')), h('th', null, t('admin.col_created')), h('th', null, t('admin.col_state')), h('th', null, ''))),
            table));
        }
        append(table, page.users.map((u) => userRow(u, me.id)));
        cursor = page.next_cursor;
        more.hidden = !cursor;
      } catch (e) {
        clear(usersBox, errorBlock(e, () => void loadUsers(true)));
      }
    };
    more.addEventListener('click', () => void loadUsers(false));
    void loadUsers(true);
    return () => stop.forEach((f) => f());
  };
}

function streamRow(s: StreamStats, room?: Room): HTMLElement {
  const kick = h('button', { class: 'btn mini danger', type: 'button', 'data-stream': s.name, disabled: !s.publisher }, t('admin.kick'));
  kick.addEventListener('click', async () => {
    if (!confirm(t('admin.kick_confirm', { name: room?.title ?? s.name }))) return;
    kick.disabled = true;
    try {
      await api.kickStream(s.name);
      toast(t('admin.kicked'));
    } catch (e) {
      kick.disabled = false;
      toastError(e);
    }
  });
  return h('tr', null,
    h('td', null, room ? h('a', { href: `/room/${room.id}` }, room.title) : s.name,
      h('div', { class: 'muted small mono' }, room ? `${room.owner.name} · ${s.name.slice(0, 12)}…` : '')),
    h('td', { class: 'mono' }, bitrate(s.bitrate_in)),
    h('td', { class: 'mono' }, s.video ? `${s.video.codec} ${s.video.width ?? '?'}×${s.video.height ?? '?'} ${Math.round(s.video.fps)}fps` : '–'),
    h('td', { class: 'mono' }, count(s.viewers, lang())),
    h('td', { class: 'mono' }, clock(s.uptime)),
    h('td', { class: 'mono small' }, s.publisher ? `${s.publisher.protocol} ${s.publisher.remote_addr}` : t('studio.reconnecting')),
    h('td', null, kick));
}

function userRow(u: User, meID: string): HTMLElement {
  const state = h('td', null);
  const btn = h('button', { class: 'btn mini', type: 'button', disabled: u.id === meID });
  const render = () => {
    state.replaceChildren(u.banned ? h('span', { class: 'badge warn' }, t('admin.banned')) : h('span', { class: 'muted' }, t('admin.active')));
    btn.textContent = u.banned ? t('admin.unban') : t('admin.ban');
    btn.className = 'btn mini' + (u.banned ? '' : ' danger');
  };
  render();
  btn.addEventListener('click', async () => {
    if (!u.banned && !confirm(t('admin.ban_confirm', { name: u.name || u.id }))) return;
    btn.disabled = true;
    try {
      u = u.banned ? await api.unban(u.id) : await api.ban(u.id);
      render();
    } catch (e) {
      toastError(e);
    } finally {
      btn.disabled = false;
    }
  });
  return h('tr', null,
    h('td', null, u.name || h('span', { class: 'muted' }, t('admin.wechat_user')), h('div', { class: 'muted small mono' }, u.id)),
    h('td', null, u.role === 'admin' ? h('span', { class: 'badge' }, t('admin.role_admin')) : t('admin.role_user')),
    h('td', null, dateTime(u.created_at)),
    state,
    h('td', null, btn));
}
