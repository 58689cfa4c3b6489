// Co-hosts (连麦) in the studio: the room's members with their live state
// and a remove button, and the viewers' requests to join with accept and
// reject (docs/chat.md, "Co-hosts"). The list follows the chat's member
// events; the requests arrive in the chat and are answered through it.
import { api, type Member, type Room } from './api';
import { clear, h } from './dom';
import { reachable } from './format';
import { t } from './i18n';
import { LivePlayer } from './player';
import { emptyBlock, liveBadge, toast, toastError } from './ui';

/** A pending request to co-host, as the chat announced it. */
export interface CohostRequest {
  id: string;
  name: string;
  expiresAt: number;
}

/** What the studio's member panel keeps: the members and the requests. */
export class CohostState {
  members: Member[] = [];
  requests = new Map<string, CohostRequest>();

  /** Applies one chat frame; reports whether the members changed (the
   * caller reloads the room) or the requests did. */
  apply(f: Record<string, unknown>, now = Date.now()): 'members' | 'requests' | null {
    const user = (f.user ?? (f.member as { user?: unknown } | undefined)?.user) as { id?: string; name?: string } | undefined;
    switch (f.type) {
      case 'cohost_request':
        if (!user?.id) return null;
        this.requests.set(user.id, { id: user.id, name: user.name ?? user.id, expiresAt: Number(f.expires_at) || now + 60000 });
        return 'requests';
      case 'cohost_answer':
        if (!user?.id) return null;
        this.requests.delete(user.id);
        return 'requests';
      case 'member_joined':
      case 'member_left':
      case 'member_live':
      case 'member_offline':
        return 'members';
    }
    return null;
  }

  /** Drops the requests past their expiry; reports whether any went. */
  expire(now = Date.now()): boolean {
    let gone = false;
    for (const [id, r] of this.requests) {
      if (r.expiresAt <= now) {
        this.requests.delete(id);
        gone = true;
      }
    }
    return gone;
  }
}

export interface CohostPanel {
  el: HTMLElement;
  /** Feeds a chat frame the chat panel does not show. */
  frame(f: Record<string, unknown>): void;
  stop(): void;
}

/** The studio's co-host panel of room id; send answers through the chat. */
export function cohostPanel(id: string, members: Member[] | undefined, send: (cmd: Record<string, unknown>) => boolean): CohostPanel {
  const state = new CohostState();
  state.members = members ?? [];
  const list = h('ul', { class: 'member-list', 'data-testid': 'member-list' });
  const reqs = h('ul', { class: 'request-list', 'data-testid': 'cohost-requests' });
  const el = h('section', { class: 'panel', 'data-testid': 'cohost-panel' },
    h('h3', null, t('cohost.title')),
    h('p', { class: 'muted small' }, t('cohost.hint')),
    list,
    h('h4', null, t('cohost.requests')),
    reqs);

  const drawMembers = () => clear(list, state.members.map((m) => h('li', { class: 'member', 'data-user': m.user.id, 'data-live': String(m.live) },
    h('span', { class: 'member-name' }, m.user.name),
    h('span', { class: 'badge' }, m.role === 'host' ? t('cohost.host') : t('cohost.cohost')),
    m.live ? liveBadge() : h('span', { class: 'badge' }, t('cohost.offline')),
    m.role === 'cohost'
      ? h('button', { class: 'btn mini danger', type: 'button', 'data-testid': 'remove-cohost', onclick: async () => {
          if (!confirm(t('cohost.remove_confirm', { name: m.user.name }))) return;
          try {
            await api.removeCohost(id, m.user.id);
            toast(t('cohost.removed', { name: m.user.name }));
            await reload();
          } catch (e) {
            toastError(e);
          }
        } }, t('cohost.remove'))
      : null)));
  const drawRequests = () => {
    if (state.requests.size === 0) return clear(reqs, emptyBlock(t('cohost.no_requests')));
    clear(reqs, [...state.requests.values()].map((r) => h('li', { class: 'request', 'data-user': r.id },
      h('span', { class: 'member-name' }, r.name),
      h('button', { class: 'btn mini primary', type: 'button', 'data-testid': 'accept-cohost', onclick: () => answer('cohost_accept', r.id) }, t('cohost.accept')),
      h('button', { class: 'btn mini', type: 'button', 'data-testid': 'reject-cohost', onclick: () => answer('cohost_reject', r.id) }, t('cohost.reject')))));
  };
  const answer = (type: string, userID: string) => {
    if (!send({ type, user_id: userID })) toast(t('chat.disconnected'), 'error');
  };
  let stopped = false;
  const reload = async () => {
    try {
      const r = await api.room(id);
      if (stopped) return;
      state.members = r.members ?? [];
      drawMembers();
    } catch (e) {
      toastError(e);
    }
  };
  const timer = setInterval(() => {
    if (state.expire()) drawRequests();
  }, 1000);
  drawMembers();
  drawRequests();
  return {
    el,
    frame(f) {
      const what = state.apply(f);
      if (what === 'members') void reload();
      if (what === 'requests') drawRequests();
      if (f.type === 'cohost_answer') {
        const u = f.user as { name?: string } | undefined;
        const key = ('cohost.answer_' + String(f.answer)) as 'cohost.answer_accepted';
        toast(t(key, { name: u?.name ?? '' }));
      }
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

export interface MembersView {
  el: HTMLElement;
  /** Shows the room's live members (when asked to) as they are now. */
  update(r: Room): void;
  stop(): void;
}

/** The room page's "members side by side": each live member's own stream
 * (HTTP-FLV, muted) in a grid, on request, while the main player keeps the
 * programme. The button shows while two or more members are live. */
export function membersSideBySide(): MembersView {
  const grid = h('div', { class: 'member-grid', 'data-testid': 'member-grid', hidden: true });
  const btn = h('button', { class: 'btn mini', type: 'button', 'data-testid': 'members-toggle', hidden: true }, t('cohost.side_by_side'));
  const el = h('div', { class: 'members-view' }, btn, grid);
  let on = false;
  let live: Member[] = [];
  const players = new Map<string, { player: LivePlayer; tile: HTMLElement }>();
  const drop = (stream: string) => {
    players.get(stream)?.player.destroy();
    players.get(stream)?.tile.remove();
    players.delete(stream);
  };
  const draw = () => {
    grid.hidden = !on;
    const want = new Set(on ? live.map((m) => m.stream) : []);
    for (const s of [...players.keys()]) if (!want.has(s)) drop(s);
    for (const m of on ? live : []) {
      if (players.has(m.stream) || !m.play) continue;
      const video = h('video', { muted: true, playsinline: true, autoplay: true });
      video.muted = true;
      const tile = h('div', { class: 'member-tile', 'data-user': m.user.id }, video, h('span', { class: 'member-tile-name' }, m.user.name));
      grid.append(tile);
      const player = new LivePlayer(video, 'flv', reachable(m.play.flv, location.host), {
        state: (s) => (tile.dataset.state = s),
        end: () => (tile.dataset.state = 'ended'),
      });
      players.set(m.stream, { player, tile });
      void player.start();
    }
  };
  btn.addEventListener('click', () => {
    on = !on;
    btn.textContent = on ? t('cohost.programme_only') : t('cohost.side_by_side');
    draw();
  });
  return {
    el,
    update(r) {
      live = (r.members ?? []).filter((m) => m.live);
      btn.hidden = live.length < 2 && !on;
      draw();
    },
    stop() {
      on = false;
      draw();
    },
  };
}
