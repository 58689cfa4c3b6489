// The room page's "join on camera" panel (连麦) for a signed-in viewer:
// ask the host over the room's chat, wait for the answer, and once a
// co-host, publish the camera and microphone over WHIP from this browser
// (the push URL of a co-host is its own member stream's). docs/chat.md,
// "Co-hosts".
import { session, type Room } from '../api';
import { clear, h } from '../dom';
import { t, type Key } from '../i18n';
import { browserLive } from './golive';

type State = 'guest' | 'host' | 'ask' | 'waiting' | 'cohost';

export interface CohostJoin {
  el: HTMLElement;
  /** Feeds a chat frame the chat panel does not show. */
  frame(f: Record<string, unknown>): void;
  /** Follows the room as loaded (its members). */
  update(r: Room): void;
  stop(): void;
}

/** Builds the panel of room id; send goes through the room's chat;
 * refresh reloads the room (the caller then calls update). */
export function cohostJoin(id: string, send: (cmd: Record<string, unknown>) => boolean, refresh: () => void): CohostJoin {
  const status = h('p', { class: 'muted small', 'data-testid': 'cohost-join-status' });
  const body = h('div');
  const title = h('h3', null, t('cohost.join_title'));
  const el = h('section', { class: 'panel cohost-join', 'data-testid': 'cohost-join', 'data-state': 'guest', hidden: true }, title, status, body);
  let state: State = 'guest';
  let cleanups: Array<() => void> = [];
  const me = () => session.user?.id ?? '';

  const dropLive = () => {
    cleanups.forEach((f) => f());
    cleanups = [];
  };
  const set = (s: State, note?: Key) => {
    if (s === state && !note) return;
    const was = state;
    state = s;
    el.dataset.state = s;
    el.hidden = s === 'host';
    // A co-host gets the go-live panel, with its own title and state.
    el.classList.toggle('panel', s !== 'cohost');
    title.hidden = status.hidden = s === 'cohost';
    if (note) status.textContent = t(note);
    else if (s !== was) status.textContent = '';
    if (was === 'cohost' && s !== 'cohost') dropLive();
    switch (s) {
      case 'guest':
        return clear(body, h('p', { class: 'muted' }, t('cohost.login_to_ask')));
      case 'ask':
        return clear(body, h('p', { class: 'muted small' }, t('cohost.join_hint')),
          h('button', { class: 'btn primary', type: 'button', 'data-testid': 'ask-cohost', onclick: () => {
            if (send({ type: 'cohost_request' })) set('waiting', 'cohost.waiting');
          } }, t('cohost.ask')));
      case 'waiting':
        return clear(body, h('button', { class: 'btn', type: 'button', 'data-testid': 'withdraw-cohost', onclick: () => {
          send({ type: 'cohost_cancel' });
        } }, t('cohost.withdraw')));
      case 'cohost':
        if (was !== 'cohost') {
          clear(body, browserLive(id, cleanups, { title: t('cohost.join_title'), hint: t('cohost.you_accepted'), goLive: t('cohost.join_live') }));
        }
        return;
    }
  };

  return {
    el,
    frame(f) {
      const user = (f.user ?? (f.member as { user?: unknown } | undefined)?.user) as { id?: string } | undefined;
      if (!me() || user?.id !== me()) return;
      switch (f.type) {
        case 'cohost_request':
          if (state === 'ask') set('waiting', 'cohost.waiting');
          return;
        case 'cohost_answer': {
          const answer = String(f.answer);
          if (answer === 'accepted') {
            refresh();
            return;
          }
          if (state === 'waiting') set('ask', `cohost.you_${answer}` as Key);
          return;
        }
        case 'member_joined':
        case 'member_left':
          refresh();
      }
    },
    update(r) {
      const uid = me();
      if (!uid) return set('guest');
      if (r.owner.id === uid) return set('host');
      const member = (r.members ?? []).some((m) => m.role === 'cohost' && m.user.id === uid);
      if (member) return set('cohost', state === 'cohost' ? undefined : 'cohost.you_accepted');
      if (state === 'cohost') return set('ask', 'cohost.you_removed');
      if (state === 'guest' || state === 'host') set('ask');
    },
    stop() {
      dropLive();
    },
  };
}
