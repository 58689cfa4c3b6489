import { h, type Child } from './dom';
import { describe } from './errors';
import { t } from './i18n';
import { clock } from './format';

/** A short message at the bottom of the screen. */
export function toast(text: string, kind: 'info' | 'error' = 'info'): void {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div', { id: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(box);
  }
  const el = h('div', { class: `toast ${kind}` }, text);
  box.appendChild(el);
  setTimeout(() => el.classList.add('out'), 3500);
  setTimeout(() => el.remove(), 4000);
}

export function toastError(e: unknown): void {
  toast(describe(e), 'error');
}

/** A block shown in place of content that failed to load, with a retry. */
export function errorBlock(e: unknown, retry?: () => void): HTMLElement {
  return h(
    'div',
    { class: 'state error', role: 'alert' },
    h('div', { class: 'state-title' }, t('state.failed')),
    h('div', { class: 'state-text' }, describe(e)),
    retry && h('button', { class: 'btn', onclick: retry }, t('action.retry')),
  );
}

export function emptyBlock(text: string, ...more: Child[]): HTMLElement {
  return h('div', { class: 'state empty' }, h('div', { class: 'state-text' }, text), ...more);
}

export function loadingBlock(): HTMLElement {
  return h('div', { class: 'state loading' }, h('span', { class: 'spinner' }), t('state.loading'));
}

export function liveBadge(): HTMLElement {
  return h('span', { class: 'badge live' }, h('span', { class: 'dot' }), t('room.live'));
}

/** A span showing how long since `since`, ticking every second. */
export function elapsed(since: string | null, stop: Array<() => void>): HTMLElement {
  const el = h('span', { class: 'elapsed' });
  if (!since) return el;
  const start = Date.parse(since);
  const tick = () => (el.textContent = clock((Date.now() - start) / 1000));
  tick();
  const id = setInterval(tick, 1000);
  stop.push(() => clearInterval(id));
  return el;
}

/** Runs f now and every ms milliseconds, without overlapping, until stopped. */
export function poll(f: () => Promise<void>, ms: number, stop: Array<() => void>): void {
  let live = true;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = async () => {
    try {
      await f();
    } finally {
      if (live) timer = setTimeout(run, ms);
    }
  };
  void run();
  stop.push(() => {
    live = false;
    if (timer) clearTimeout(timer);
  });
}

export function avatar(name: string): HTMLElement {
  const letter = (name || '?').slice(0, 1).toUpperCase();
  let hash = 0;
  for (const c of name) hash = (hash * 31 + c.charCodeAt(0)) % 360;
  return h('span', { class: 'avatar', style: `background:hsl(${hash} 60% 45%)`, 'aria-hidden': 'true' }, letter);
}

export function dateTime(iso: string): string {
  return new Date(iso).toLocaleString(document.documentElement.lang || undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}
