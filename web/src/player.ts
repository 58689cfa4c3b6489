// Live player: HTTP-FLV through mpegts.js where Media Source Extensions
// exist (lowest latency), HLS through hls.js, or the browser's own HLS
// (Safari on iOS). The libraries are loaded on demand.

export type Preference = 'auto' | 'flv' | 'hls';
export type Kind = 'flv' | 'hls' | 'native';

/** What the browser can do (see detectCaps). */
export interface Caps {
  /** mpegts.js can play live FLV (MSE with H.264/AAC). */
  flv: boolean;
  /** hls.js is supported (MSE). */
  hlsjs: boolean;
  /** The video element plays HLS itself. */
  native: boolean;
}

/**
 * Picks the player for a preference: auto is FLV, then HLS; a preference
 * the browser cannot honour falls back to what it can; null when nothing
 * can play.
 */
export function choosePlayer(pref: Preference, caps: Caps): Kind | null {
  const hls: Kind | null = caps.hlsjs ? 'hls' : caps.native ? 'native' : null;
  const flv: Kind | null = caps.flv ? 'flv' : null;
  if (pref === 'hls') return hls ?? flv;
  return flv ?? hls;
}

/** Reads a preference from ?player= or storage; anything else is auto. */
export function parsePreference(v: string | null | undefined): Preference {
  return v === 'flv' || v === 'hls' ? v : 'auto';
}

export function detectCaps(video: HTMLVideoElement): Caps {
  const MS = (window as unknown as { MediaSource?: { isTypeSupported(t: string): boolean } }).MediaSource ??
    (window as unknown as { ManagedMediaSource?: { isTypeSupported(t: string): boolean } }).ManagedMediaSource;
  const mse = !!MS && MS.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"');
  return {
    flv: mse && typeof ReadableStream !== 'undefined',
    hlsjs: mse,
    native: video.canPlayType('application/vnd.apple.mpegurl') !== '',
  };
}

/** Seconds past hls.js's target latency after which the HLS player jumps
 * back to the live edge (after 2 s that far behind). */
const CATCH_UP_AFTER = 2;

export type PlayerState = 'loading' | 'playing' | 'buffering';

export interface PlayerEvents {
  state(s: PlayerState): void;
  /** The stream ended or failed for good; the caller decides what next. */
  end(reason: string): void;
}

interface Engine {
  destroy(): void;
  /** Seconds behind live, or null when unknown (see LivePlayer.latency). */
  latency(): number | null;
  /** The engine plays Low-Latency HLS partial segments. */
  lowLatency?(): boolean;
}

/** Plays one URL in a video element until destroyed. */
export class LivePlayer {
  private engine: Engine | null = null;
  private destroyed = false;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private lastTime = -1;
  private stuckSince = 0;
  private readonly off: Array<() => void> = [];

  constructor(
    readonly video: HTMLVideoElement,
    readonly kind: Kind,
    readonly url: string,
    readonly ev: PlayerEvents,
    readonly live = true,
  ) {}

  async start(): Promise<void> {
    const v = this.video;
    this.ev.state('loading');
    const on = (name: string, f: () => void) => {
      v.addEventListener(name, f);
      this.off.push(() => v.removeEventListener(name, f));
    };
    on('waiting', () => this.ev.state('buffering'));
    on('stalled', () => this.ev.state('buffering'));
    on('playing', () => this.ev.state('playing'));
    on('ended', () => this.fail('ended'));
    if (this.kind === 'flv') await this.startFLV();
    else if (this.kind === 'hls') await this.startHLS();
    else this.startNative();
    if (this.destroyed) return;
    v.muted = v.muted || !userActivated();
    v.play().catch(() => {
      // Autoplay refused: play muted, the user can unmute.
      v.muted = true;
      v.play().catch(() => {});
    });
    if (this.live) {
      // A live picture that does not move for 12 s is a dead connection.
      this.watchdog = setInterval(() => {
        const t = v.currentTime;
        if (t !== this.lastTime || v.paused) {
          this.lastTime = t;
          this.stuckSince = Date.now();
        } else if (Date.now() - this.stuckSince > 12000) {
          this.fail('stalled');
        }
      }, 1000);
      this.stuckSince = Date.now();
    }
  }

  private async startFLV(): Promise<void> {
    const mpegts = (await import('mpegts.js')).default;
    if (this.destroyed) return;
    mpegts.LoggingControl.enableAll = false;
    const p = mpegts.createPlayer(
      { type: 'flv', isLive: true, url: this.url, hasAudio: true, hasVideo: true },
      {
        enableStashBuffer: false,
        liveBufferLatencyChasing: true,
        liveBufferLatencyMaxLatency: 3,
        liveBufferLatencyMinRemain: 0.5,
        lazyLoad: false,
        autoCleanupSourceBuffer: true,
      },
    );
    p.on(mpegts.Events.ERROR, (type: string, detail: string) => this.fail(`flv ${type}: ${detail}`));
    p.on(mpegts.Events.LOADING_COMPLETE, () => this.fail('ended'));
    p.attachMediaElement(this.video);
    p.load();
    const v = this.video;
    this.engine = {
      // FLV carries no wall clock: what is received but not yet shown.
      latency: () => (v.buffered.length ? Math.max(0, v.buffered.end(v.buffered.length - 1) - v.currentTime) : null),
      destroy: () => {
        try {
          p.pause();
          p.unload();
          p.detachMediaElement();
          p.destroy();
        } catch {
          /* already torn down */
        }
      },
    };
  }

  private async startHLS(): Promise<void> {
    const Hls = (await import('hls.js')).default;
    if (this.destroyed) return;
    // Low-latency mode plays LL-HLS partial segments PART-HOLD-BACK behind
    // the live edge (the server's playlists say 3 parts); a classic playlist
    // plays its default 3 segments behind. No liveSync* setting: it would
    // override PART-HOLD-BACK.
    const hls = new Hls(
      this.live
        ? { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5, manifestLoadingMaxRetry: 4, levelLoadingMaxRetry: 4 }
        : {},
    );
    let parts = false;
    hls.on(Hls.Events.LEVEL_LOADED, (_e, data) => {
      parts = !!data.details.partList?.length;
    });
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (data.fatal) this.fail(`hls ${data.type}: ${data.details}`);
    });
    // hls.js speeds up only when close to its target latency: after a long
    // stall (a busy device, a network hiccup) jump back to the live edge
    // instead of staying seconds behind.
    const v = this.video;
    let behindSince = 0;
    const catchUp = this.live
      ? setInterval(() => {
          const target = hls.targetLatency ?? 0;
          const edge = hls.liveSyncPosition;
          if (v.paused || !target || edge === null || edge === undefined || hls.latency <= target + CATCH_UP_AFTER) {
            behindSince = 0;
            return;
          }
          if (!behindSince) behindSince = Date.now();
          else if (Date.now() - behindSince > 2000) {
            behindSince = 0;
            v.currentTime = edge;
          }
        }, 500)
      : null;
    hls.loadSource(this.url);
    hls.attachMedia(this.video);
    this.engine = {
      destroy: () => {
        if (catchUp) clearInterval(catchUp);
        hls.destroy();
      },
      // The playing media's wall-clock time comes from the playlist's
      // EXT-X-PROGRAM-DATE-TIME (the server's clock when the media
      // arrived); without it, hls.js's distance to the playlist's edge.
      latency: () => {
        const at = hls.playingDate;
        if (at && at.getTime() > 0) return Math.max(0, (Date.now() - at.getTime()) / 1000);
        return Number.isFinite(hls.latency) && hls.latency > 0 ? hls.latency : null;
      },
      lowLatency: () => parts,
    };
  }

  private startNative(): void {
    const v = this.video;
    const onErr = () => this.fail('native: ' + (v.error?.message || v.error?.code || 'error'));
    v.addEventListener('error', onErr);
    this.off.push(() => v.removeEventListener('error', onErr));
    v.src = this.url;
    this.engine = {
      latency: () => {
        // Safari maps EXT-X-PROGRAM-DATE-TIME to getStartDate().
        const start = (v as unknown as { getStartDate?(): Date }).getStartDate?.();
        const t = start?.getTime();
        return t && Number.isFinite(t) ? Math.max(0, (Date.now() - t) / 1000 - v.currentTime) : null;
      },
      destroy: () => {
        v.removeAttribute('src');
        v.load();
      },
    };
  }

  /** Seconds the picture is behind live, or null when not known yet. */
  latency(): number | null {
    return this.engine?.latency() ?? null;
  }

  /** The player plays Low-Latency HLS partial segments. */
  lowLatency(): boolean {
    return this.engine?.lowLatency?.() ?? false;
  }

  private fail(reason: string): void {
    if (this.destroyed) return;
    this.destroy();
    this.ev.end(reason);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    for (const f of this.off) f();
    this.engine?.destroy();
    this.engine = null;
  }
}

function userActivated(): boolean {
  const ua = (navigator as unknown as { userActivation?: { hasBeenActive: boolean } }).userActivation;
  return !!ua?.hasBeenActive;
}
