// Room covers and replay posters: JPEGs the server makes (live covers
// change every -cover-interval while a room is live).
import { h } from './dom';
import { reachable } from './format';

/** withStamp adds t=STAMP to url (a fresh copy of a live cover). */
export function withStamp(url: string, stamp: number): string {
  return url + (url.includes('?') ? '&' : '?') + 't=' + stamp;
}

/**
 * An <img> of a cover over the card's placeholder; it removes itself if the
 * picture cannot be loaded (the placeholder shows again). A live cover is
 * marked for refreshCovers.
 */
export function coverImage(url: string, alt: string, live: boolean): HTMLImageElement {
  const src = reachable(url, location.host);
  const img = h('img', { class: 'cover-img', src, alt, loading: 'lazy', decoding: 'async', 'data-testid': live ? 'live-cover' : 'poster' });
  if (live) img.dataset.liveCover = src;
  img.addEventListener('error', () => img.remove(), { once: true });
  return img;
}

/**
 * Reloads the live covers inside root every interval while the page is
 * visible, only those on screen, swapping each in once the new picture has
 * loaded (no flash). The timer is stopped through stop.
 */
export function refreshCovers(root: HTMLElement, interval: number, stop: Array<() => void>): void {
  const onScreen = new Set<Element>();
  const io = typeof IntersectionObserver === 'function'
    ? new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (e.isIntersecting) onScreen.add(e.target);
        else onScreen.delete(e.target);
      }
    })
    : null;
  const watched = new WeakSet<Element>();
  const timer = setInterval(() => {
    const imgs = Array.from(root.querySelectorAll<HTMLImageElement>('img[data-live-cover]'));
    for (const img of imgs) {
      if (io && !watched.has(img)) {
        watched.add(img);
        io.observe(img);
        onScreen.add(img); // until the observer says otherwise
      }
    }
    if (document.visibilityState !== 'visible') return;
    for (const img of imgs) {
      if (io && !onScreen.has(img)) continue;
      const next = new Image();
      next.onload = () => { img.src = next.src; };
      next.src = withStamp(img.dataset.liveCover ?? img.src, Date.now());
    }
  }, interval);
  stop.push(() => {
    clearInterval(timer);
    io?.disconnect();
  });
}
