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

export type PlayerState = 'loading' | 'playing' | 'buffering';

export interface PlayerEvents {
  state(s: PlayerState): void;
  /** The stream ended or failed for good; the caller decides what next. */
  end(reason: string): void;
}

interface Engine {
  destroy(): void;
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
    this.engine = {
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
    const hls = new Hls(
      this.live
        ? { lowLatencyMode: true, liveSyncDurationCount: 2, manifestLoadingMaxRetry: 4, levelLoadingMaxRetry: 4 }
        : {},
    );
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (data.fatal) this.fail(`hls ${data.type}: ${data.details}`);
    });
    hls.loadSource(this.url);
    hls.attachMedia(this.video);
    this.engine = { destroy: () => hls.destroy() };
  }

  private startNative(): void {
    const v = this.video;
    const onErr = () => this.fail('native: ' + (v.error?.message || v.error?.code || 'error'));
    v.addEventListener('error', onErr);
    this.off.push(() => v.removeEventListener('error', onErr));
    v.src = this.url;
    this.engine = {
      destroy: () => {
        v.removeAttribute('src');
        v.load();
      },
    };
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
