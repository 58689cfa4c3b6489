import { api, type Replay, type Room } from '../api';
import { clear, h } from '../dom';
import { count, clock } from '../format';
import { lang, t } from '../i18n';
import { avatar, dateTime, elapsed, emptyBlock, errorBlock, liveBadge, loadingBlock, poll } from '../ui';
import type { Page } from '../router';
import { icon } from '../icons';
import { coverImage, refreshCovers } from '../covers';

/** Home: live rooms, then recent replays; refreshed every 8 s. */
export const homePage: Page = (outlet) => {
  const stop: Array<() => void> = [];
  const liveGrid = h('div', { class: 'grid', 'data-testid': 'live-rooms' }, loadingBlock());
  const replayGrid = h('div', { class: 'grid' }, loadingBlock());
  outlet.append(
    h('section', { class: 'hero' },
      h('h1', null, t('home.title')),
      h('p', null, t('home.subtitle')),
      h('a', { class: 'btn primary', href: '/studio' }, t('home.start'))),
    h('section', null, h('h2', null, t('home.live')), liveGrid),
    h('section', null, h('h2', null, t('home.replays')), replayGrid),
  );

  let tickers: Array<() => void> = [];
  let lastLive = '';
  poll(async () => {
    try {
      const { rooms } = await api.rooms({ status: 'live', limit: '48' });
      const key = JSON.stringify(rooms.map((r) => [r.id, r.title, r.viewers, r.live_since]));
      if (key === lastLive) return;
      lastLive = key;
      tickers.forEach((f) => f());
      tickers = [];
      if (rooms.length === 0) clear(liveGrid, emptyBlock(t('home.none_live')));
      else clear(liveGrid, rooms.map((r) => liveCard(r, tickers)));
    } catch (e) {
      lastLive = '';
      clear(liveGrid, errorBlock(e));
    }
  }, 8000, stop);
  stop.push(() => tickers.forEach((f) => f()));
  // Live covers change every -cover-interval (10 s): reload the visible ones.
  refreshCovers(liveGrid, 10000, stop);

  let lastReplays = '';
  poll(async () => {
    try {
      const { replays } = await api.recentReplays(12);
      const key = JSON.stringify(replays.map((r) => r.id));
      if (key === lastReplays) return;
      lastReplays = key;
      const cards = replays.flatMap((r) => (r.room ? [replayCard(r.room, r)] : []));
      if (cards.length === 0) clear(replayGrid, emptyBlock(t('home.none_replays')));
      else clear(replayGrid, cards);
    } catch (e) {
      lastReplays = '';
      clear(replayGrid, errorBlock(e));
    }
  }, 30000, stop);

  return () => stop.forEach((f) => f());
};

function cover(title: string): HTMLElement {
  let hash = 7;
  for (const c of title) hash = (hash * 33 + c.charCodeAt(0)) % 360;
  return h('div', { class: 'cover', style: `--h:${hash}` }, h('span', null, title.slice(0, 2)));
}

function liveCard(r: Room, stop: Array<() => void>): HTMLElement {
  return h('a', { class: 'card', href: `/room/${r.id}`, 'data-room': r.id },
    h('div', { class: 'thumb' },
      cover(r.title),
      r.cover_url ? coverImage(r.cover_url, r.title, true) : null,
      h('div', { class: 'thumb-top' }, liveBadge(), h('span', { class: 'pill' }, elapsed(r.live_since, stop))),
      h('div', { class: 'thumb-bottom' }, h('span', { class: 'pill' }, icon('eye'), ' ', count(r.viewers, lang()), ' ', t('room.viewers')))),
    h('div', { class: 'card-body' },
      avatar(r.owner.name),
      h('div', null,
        h('div', { class: 'card-title' }, r.title),
        h('div', { class: 'card-sub' }, r.owner.name || t('room.anonymous_host')))));
}

function replayCard(r: Room, rep: Replay): HTMLElement {
  return h('a', { class: 'card', href: `/room/${r.id}?replay=${rep.id}` },
    h('div', { class: 'thumb' },
      cover(r.title),
      rep.poster_url ? coverImage(rep.poster_url, r.title, false) : null,
      h('div', { class: 'thumb-top' }, h('span', { class: 'badge replay' }, t('room.replay'))),
      h('div', { class: 'thumb-bottom' }, h('span', { class: 'pill' }, clock(rep.duration_ms / 1000)))),
    h('div', { class: 'card-body' },
      avatar(r.owner.name),
      h('div', null,
        h('div', { class: 'card-title' }, r.title),
        h('div', { class: 'card-sub' }, `${r.owner.name} · ${dateTime(rep.started_at)}`))));
}
