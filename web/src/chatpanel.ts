import { api, session } from './api';
import { ChatClient, type ChatMessage, type Welcome } from './chat';
import { h } from './dom';
import { describe, describeChat } from './errors';
import { count } from './format';
import { lang, t } from './i18n';
import { avatar, toast } from './ui';
import { icon } from './icons';

export interface ChatPanelOptions {
  /** Called with room notices (stream_started, stream_ended, room_deleted, …). */
  onNotice?(kind: string): void;
  onPresence?(online: number, viewers: number): void;
  /** Show the pin form (the studio). */
  pinForm?: boolean;
  /** Called with the frames the panel does not show (co-hosts). */
  onOther?(f: Record<string, unknown>): void;
}

export interface ChatPanel {
  el: HTMLElement;
  stop(): void;
  /** Sends a command frame; false while disconnected. */
  send(cmd: Record<string, unknown>): boolean;
}

/** The room chat: history, sending, likes, presence and moderation. */
export function chatPanel(roomID: string, o: ChatPanelOptions = {}): ChatPanel {
  let me: Welcome['user'] = null;
  let canModerate = false;
  let likes = 0;
  let pendingLikes = 0;
  let likeTimer: ReturnType<typeof setTimeout> | null = null;
  const items = new Map<string, HTMLElement>();

  const status = h('span', { class: 'chat-status' });
  const online = h('span', { class: 'chat-online', 'data-testid': 'online' });
  const pinned = h('div', { class: 'pinned', hidden: true });
  const list = h('div', { class: 'chat-list', 'data-testid': 'chat-list', 'aria-live': 'polite' });
  const input = h('input', { class: 'chat-input', maxlength: 500, placeholder: t('chat.placeholder'), 'aria-label': t('chat.placeholder'), disabled: true });
  const send = h('button', { class: 'btn primary', type: 'submit', disabled: true }, t('chat.send'));
  const likeCount = h('span', { class: 'like-count', 'data-testid': 'like-count' }, '0');
  const likeBtn = h('button', { class: 'like', type: 'button', 'aria-label': t('chat.like'), title: t('chat.like') },
    h('span', { class: 'heart' }, '♥'), likeCount);
  const form = h('form', { class: 'chat-form' }, input, send);
  const guestNote = h('div', { class: 'chat-guest', hidden: true },
    h('a', { href: '/login?next=' + encodeURIComponent(location.pathname + location.search) }, t('chat.login')), ' ', t('chat.login_suffix'));
  const pinInput = h('input', { placeholder: t('studio.pin_placeholder'), maxlength: 500 });
  const pinBox = o.pinForm
    ? h('form', { class: 'pin-form', hidden: true }, pinInput,
        h('button', { class: 'btn', type: 'submit' }, t('studio.pin')),
        h('button', { class: 'btn ghost', type: 'button', onclick: () => moderate('unpin', {}) }, t('studio.unpin')))
    : null;

  const el = h('div', { class: 'chat' },
    h('div', { class: 'chat-head' }, h('strong', null, t('chat.title')), online, status),
    pinned, list, pinBox,
    h('div', { class: 'chat-foot' }, guestNote, form, likeBtn));

  const atBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const scroll = (force = false) => {
    if (force || atBottom()) list.scrollTop = list.scrollHeight;
  };

  function system(text: string, kind = 'info'): void {
    const stick = atBottom();
    list.append(h('div', { class: `sys ${kind}` }, text));
    while (list.children.length > 300) list.firstElementChild?.remove();
    if (stick) scroll(true);
  }

  function setLikes(n: number): void {
    likes = n;
    likeCount.textContent = count(n + pendingLikes, lang());
    likeCount.dataset.total = String(n + pendingLikes);
  }

  function renderMessage(m: ChatMessage): HTMLElement {
    const mine = me?.id === m.user.id;
    const row = h('div', { class: 'msg' + (mine ? ' mine' : ''), 'data-id': m.id, 'data-seq': String(m.seq) },
      avatar(m.user.name),
      h('div', { class: 'msg-body' },
        h('span', { class: 'msg-user' }, m.user.name || t('chat.someone')),
        h('span', { class: 'msg-text' }, m.text)));
    if (canModerate && !mine) {
      const menu = h('div', { class: 'msg-mod' },
        modButton(t('mod.delete'), () => moderate('delete', { message_id: m.id })),
        modButton(t('mod.mute'), () => moderate('mute', { user_id: m.user.id, seconds: 600 }, t('mod.muted_user', { name: m.user.name }))),
        modButton(t('mod.kick'), () => moderate('kick', { user_id: m.user.id, seconds: 300 }, t('mod.kicked_user', { name: m.user.name }))),
        modButton(t('mod.ban'), () => {
          if (confirm(t('mod.ban_confirm', { name: m.user.name }))) moderate('ban', { user_id: m.user.id }, t('mod.banned_user', { name: m.user.name }));
        }));
      row.append(menu);
    } else if (canModerate && mine) {
      row.append(h('div', { class: 'msg-mod' }, modButton(t('mod.delete'), () => moderate('delete', { message_id: m.id }))));
    }
    return row;
  }

  function modButton(label: string, f: () => void): HTMLElement {
    return h('button', { class: 'mini', type: 'button', onclick: f }, label);
  }

  async function moderate(action: string, body: Record<string, unknown>, done?: string): Promise<void> {
    try {
      await api.moderate(roomID, action, body);
      if (done) toast(done);
    } catch (e) {
      toast(describe(e), 'error');
    }
  }

  function add(m: ChatMessage): void {
    if (items.has(m.id)) return;
    list.querySelector('.sys.hint')?.remove();
    const stick = atBottom();
    const row = renderMessage(m);
    items.set(m.id, row);
    list.append(row);
    while (items.size > 300) {
      const first = items.keys().next().value as string;
      items.get(first)?.remove();
      items.delete(first);
    }
    if (stick || me?.id === m.user.id) scroll(true);
  }

  /** Puts a fetched older message in its place by seq (a skipped gap). */
  function insert(m: ChatMessage): void {
    if (items.has(m.id)) return;
    const row = renderMessage(m);
    let after: HTMLElement | null = null;
    for (const r of items.values()) {
      if (Number(r.dataset.seq) > m.seq) {
        after = r;
        break;
      }
    }
    items.set(m.id, row);
    if (after) list.insertBefore(row, after);
    else list.append(row);
  }

  function showPinned(text?: string): void {
    pinned.hidden = !text;
    pinned.replaceChildren(h('span', { class: 'pin-icon' }, icon('pin')), text ?? '');
  }

  function setCanSend(ok: boolean, why = ''): void {
    input.disabled = !ok;
    send.disabled = !ok;
    input.placeholder = ok ? t('chat.placeholder') : why;
  }

  let mutedTimer: ReturnType<typeof setTimeout> | null = null;
  function mutedUntil(until: number): void {
    setCanSend(false, t('chat.muted_until', { time: new Date(until).toLocaleTimeString() }));
    if (mutedTimer) clearTimeout(mutedTimer);
    mutedTimer = setTimeout(() => setCanSend(!!me), Math.max(0, until - Date.now()));
  }

  const client = new ChatClient({
    fetchMissed: async (before, limit) => (await api.messages(roomID, before, limit)).messages,
    url: (since) => {
      const u = new URL(`/api/v1/rooms/${encodeURIComponent(roomID)}/chat`, location.href);
      u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
      if (session.token) u.searchParams.set('token', session.token);
      if (since !== undefined) u.searchParams.set('since', String(since));
      return u.toString();
    },
    handlers: {
      other: (f) => o.onOther?.(f),
      state(s, d) {
        el.dataset.state = s;
        status.className = 'chat-status ' + s;
        status.textContent = s === 'open' ? '' : s === 'stopped' ? t('chat.disconnected') : t('chat.connecting');
        if (s === 'reconnecting' && d.delay !== undefined && d.attempt === 1) system(t('chat.reconnecting'), 'warn');
      },
      welcome(w) {
        me = w.user;
        canModerate = w.can_moderate;
        el.classList.toggle('can-moderate', canModerate);
        if (pinBox) pinBox.hidden = !canModerate;
        guestNote.hidden = !!w.user;
        form.hidden = !w.user;
        setCanSend(w.can_send, t('chat.cannot_send'));
        if (w.muted_until && w.muted_until > Date.now()) mutedUntil(w.muted_until);
        pendingLikes = 0;
        setLikes(w.likes);
        online.textContent = t('chat.online', { n: count(w.online, lang()) });
        o.onPresence?.(w.online, w.viewers);
        showPinned(w.pinned);
      },
      history(msgs, resumed, truncated) {
        if (!resumed) {
          items.forEach((x) => x.remove());
          items.clear();
          list.replaceChildren();
          if (msgs.length === 0) system(t('chat.empty'), 'info hint');
        }
        if (truncated) system(t('chat.truncated'), 'warn');
        msgs.forEach(add);
        scroll(true);
      },
      message: add,
      skipped(n) {
        system(t('chat.skipped', { n: count(n, lang()) }), 'warn');
      },
      missed(msgs) {
        const stick = atBottom();
        msgs.forEach(insert);
        if (stick) scroll(true);
      },
      deleted(id) {
        items.get(id)?.remove();
        items.delete(id);
      },
      likes: setLikes,
      presence(n, viewers) {
        online.textContent = t('chat.online', { n: count(n, lang()) });
        o.onPresence?.(n, viewers);
      },
      notice(kind, text) {
        if (kind === 'pinned') showPinned(text);
        else if (kind === 'unpinned') showPinned();
        else if (kind === 'stream_started') system(t('chat.stream_started'));
        else if (kind === 'stream_ended') system(t('chat.stream_ended'));
        else if (kind === 'room_deleted') system(t('chat.room_deleted'), 'error');
        o.onNotice?.(kind);
      },
      muted: mutedUntil,
      unmuted() {
        if (mutedTimer) clearTimeout(mutedTimer);
        setCanSend(!!me);
        system(t('chat.unmuted'));
      },
      removed(kind, until) {
        setCanSend(false, t('chat.cannot_send'));
        system(kind === 'banned'
          ? (until ? t('chat.banned_until', { time: new Date(until).toLocaleString() }) : t('chat.banned'))
          : t('chat.kicked', { time: until ? new Date(until).toLocaleTimeString() : '' }), 'error');
      },
      error(code, message) {
        if (code === 'banned' || code === 'kicked') return; // told by removed
        if (code === 'skipped_fetch_failed') return void system(t('chat.skipped_fetch_failed'), 'warn');
        system(describeChat(code, message), 'error');
      },
    },
  });
  client.start();

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (!client.send({ type: 'chat', text })) return void system(t('chat.not_connected'), 'warn');
    input.value = '';
  });

  likeBtn.addEventListener('click', () => {
    if (!me) return void toast(t('chat.like_login'));
    pendingLikes++;
    setLikes(likes);
    const heart = h('span', { class: 'float-heart', style: `--x:${Math.round(Math.random() * 40 - 20)}px` }, '♥');
    likeBtn.append(heart);
    setTimeout(() => heart.remove(), 1200);
    if (!likeTimer) {
      likeTimer = setTimeout(() => {
        likeTimer = null;
        const n = Math.min(100, pendingLikes);
        if (client.send({ type: 'like', count: n })) {
          // The server's total arrives within ~0.5 s and includes these.
          likes += n;
          pendingLikes -= n;
          setLikes(likes);
        }
      }, 250);
    }
  });

  pinBox?.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = pinInput.value.trim();
    if (!text) return;
    void moderate('pin', { text }).then(() => (pinInput.value = ''));
  });

  return {
    el,
    send: (cmd) => client.send(cmd),
    stop() {
      client.stop();
      if (likeTimer) clearTimeout(likeTimer);
      if (mutedTimer) clearTimeout(mutedTimer);
    },
  };
}
