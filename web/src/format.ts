// Formatting helpers (pure; unit-tested).

/** Duration in seconds as H:MM:SS or M:SS. */
export function clock(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const p = (n: number) => String(n).padStart(2, '0');
  return hh > 0 ? `${hh}:${p(mm)}:${p(ss)}` : `${mm}:${p(ss)}`;
}

/** Bits per second as "2.5 Mbps" / "640 kbps". */
export function bitrate(bps: number): string {
  if (!isFinite(bps) || bps <= 0) return '0 kbps';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(bps >= 1e7 ? 0 : 1)} Mbps`;
  return `${Math.round(bps / 1e3)} kbps`;
}

/** Bytes as "1.2 GB" etc. */
export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 || v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** Compact counts: 1234 → 1.2k (en) / 1234 → 1234, 12345 → 1.2万 (zh). */
export function count(n: number, lang: string): string {
  if (lang.startsWith('zh')) {
    if (n >= 1e8) return `${(n / 1e8).toFixed(1)}亿`;
    if (n >= 1e4) return `${(n / 1e4).toFixed(1)}万`;
    return String(n);
  }
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/**
 * The server builds media URLs from its configured public address, which
 * defaults to 127.0.0.1. A browser on another machine cannot reach that, so
 * a loopback host is replaced by the page's host (keeping the port and the
 * signature); other hosts (a CDN, a public name) are left alone.
 */
export function reachable(url: string, pageHost: string): string {
  try {
    const u = new URL(url);
    const loop = ['127.0.0.1', 'localhost', '[::1]', '0.0.0.0'];
    const pageName = pageHost.replace(/:\d+$/, '');
    if (loop.includes(u.hostname) && !loop.includes(pageName) && pageName !== '') {
      u.hostname = pageName;
    }
    return u.toString();
  } catch {
    return url;
  }
}
