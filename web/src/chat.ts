// The room chat client (docs/chat.md): one WebSocket per room, frames as
// JSON objects or arrays of them, reconnection with back-off, and resume
// from the last message seen (?since=SEQ) so that nothing shows twice and
// nothing is lost across a reconnect.

export interface ChatUser {
  id: string;
  name: string;
}

export interface ChatMessage {
  type: 'chat';
  id: string;
  seq: number;
  user: ChatUser;
  text: string;
  ts: number;
}

export interface Welcome {
  type: 'welcome';
  room: string;
  user: ChatUser | null;
  can_send: boolean;
  can_moderate: boolean;
  likes: number;
  online: number;
  viewers: number;
  pinned?: string;
  last_seq: number;
  muted_until?: number;
}

export type ConnState = 'connecting' | 'open' | 'reconnecting' | 'stopped';

export interface ChatHandlers {
  welcome?(w: Welcome): void;
  /** A history frame: replace the list (resumed false) or append (true). */
  history?(messages: ChatMessage[], resumed: boolean, truncated: boolean): void;
  message?(m: ChatMessage): void;
  deleted?(id: string, seq: number): void;
  likes?(total: number): void;
  presence?(online: number, viewers: number): void;
  notice?(kind: string, text?: string): void;
  /**
   * The server skipped count messages (the newest being lastSeq) because
   * this client fell behind; missed follows once they are fetched.
   */
  skipped?(count: number, lastSeq: number): void;
  /** Messages fetched to fill a skip, oldest first: insert them by seq. */
  missed?(messages: ChatMessage[]): void;
  muted?(until: number): void;
  unmuted?(): void;
  /** The user was kicked or banned from the room; the client stops. */
  removed?(kind: 'kicked' | 'banned', until?: number): void;
  error?(code: string, message: string): void;
  state?(s: ConnState, detail: { attempt: number; delay?: number; code?: number; reason?: string }): void;
  /** Any other frame (co-host requests and member events: src/cohost.ts). */
  other?(f: Record<string, unknown>): void;
}

/** The subset of WebSocket the client uses (tests pass a fake). */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  readonly readyState: number;
}

export type SocketFactory = (url: string) => SocketLike;

/** Splits a frame into its objects: one object, or an array of them. */
export function parseFrame(data: unknown): Record<string, unknown>[] {
  if (typeof data !== 'string') return [];
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return [];
  }
  const items = Array.isArray(v) ? v : [v];
  return items.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object' && typeof (x as { type?: unknown }).type === 'string');
}

/** Close reasons and error codes after which reconnecting is pointless. */
const FINAL = new Set(['kicked', 'banned', 'flooding', 'too_many_connections']);

/**
 * Whether to reconnect after the socket closed with code and reason.
 * Normal closes the client asked for (1000) and refusals (1008 kicked,
 * banned, flooding, too many connections) are final; going away (1001),
 * "too slow" (1008), abnormal closes (1006: network, server restart) and
 * the rest are retried.
 */
export function shouldReconnect(code: number, reason: string): boolean {
  if (code === 1000) return false;
  if (code === 1008 && FINAL.has(reason)) return false;
  return true;
}

/** Exponential back-off with jitter: base·2^attempt, capped, ±25 %. */
export function backoffDelay(attempt: number, base = 500, max = 15000, rand: () => number = Math.random): number {
  const d = Math.min(max, base * 2 ** Math.min(attempt, 20));
  return Math.round(d * (0.75 + rand() * 0.5));
}

export interface ChatOptions {
  /** Builds the socket URL; since is the last seq seen (absent: none). */
  url: (since?: number) => string;
  handlers: ChatHandlers;
  socket?: SocketFactory;
  /** Back-off; tests pass small values or a fake timer. */
  base?: number;
  max?: number;
  rand?: () => number;
  setTimer?: (f: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
  /**
   * Fetches the messages before seq `before`, at most limit, oldest first
   * (GET /api/v1/rooms/{id}/messages): fills the gaps the server skipped.
   * Absent: skips are only reported.
   */
  fetchMissed?: (before: number, limit: number) => Promise<ChatMessage[]>;
  /**
   * Milliseconds to wait after a skipped notice before fetching (default
   * 250–1000, random): skips that come close together are fetched at once,
   * and the clients of a room that fell behind together do not all ask at
   * the same moment.
   */
  gapDelay?: () => number;
}

/** The most messages one gap fetch asks for (the API's page limit). */
export const MAX_GAP_FETCH = 500;

export class ChatClient {
  /** The seq of the newest message received; resume starts after it. */
  lastSeq = 0;
  /** Reconnections since the last successful welcome. */
  attempt = 0;
  private ws: SocketLike | null = null;
  private stopped = false;
  private finalReason = '';
  private timer: unknown = null;
  /** The skipped messages not yet fetched: their count and newest seq. */
  private gap: { count: number; last: number } | null = null;
  private gapTimer: unknown = null;
  private readonly o: Required<Omit<ChatOptions, 'handlers' | 'fetchMissed'>> & Pick<ChatOptions, 'fetchMissed'> & { handlers: ChatHandlers };

  constructor(o: ChatOptions) {
    this.o = {
      socket: (u) => new WebSocket(u) as unknown as SocketLike,
      base: 500,
      max: 15000,
      rand: Math.random,
      setTimer: (f, ms) => setTimeout(f, ms),
      clearTimer: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
      gapDelay: () => 250 + Math.random() * 750,
      ...o,
    };
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Closes the connection for good. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.o.clearTimer(this.timer);
    this.timer = null;
    if (this.gapTimer !== null) this.o.clearTimer(this.gapTimer);
    this.gapTimer = null;
    this.gap = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close(1000, 'bye');
    }
    this.o.handlers.state?.('stopped', { attempt: this.attempt });
  }

  get connected(): boolean {
    return !!this.ws && this.ws.readyState === 1;
  }

  /** Sends one command; false when not connected. */
  send(cmd: Record<string, unknown>): boolean {
    if (!this.ws || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(cmd));
    return true;
  }

  private connect(): void {
    const h = this.o.handlers;
    h.state?.(this.attempt === 0 ? 'connecting' : 'reconnecting', { attempt: this.attempt });
    const ws = this.o.socket(this.o.url(this.lastSeq > 0 ? this.lastSeq : undefined));
    this.ws = ws;
    this.finalReason = '';
    ws.onmessage = (ev) => {
      for (const f of parseFrame(ev.data)) this.handle(f);
    };
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const reason = ev.reason || this.finalReason;
      if (this.stopped) return;
      if (!shouldReconnect(ev.code, reason) || FINAL.has(this.finalReason)) {
        this.stopped = true;
        h.state?.('stopped', { attempt: this.attempt, code: ev.code, reason });
        return;
      }
      const delay = backoffDelay(this.attempt, this.o.base, this.o.max, this.o.rand);
      this.attempt++;
      h.state?.('reconnecting', { attempt: this.attempt, delay, code: ev.code, reason });
      this.timer = this.o.setTimer(() => {
        this.timer = null;
        if (!this.stopped) this.connect();
      }, delay);
    };
  }

  private handle(f: Record<string, unknown>): void {
    const h = this.o.handlers;
    switch (f.type) {
      case 'welcome':
        this.attempt = 0;
        h.state?.('open', { attempt: 0 });
        h.welcome?.(f as unknown as Welcome);
        break;
      case 'history': {
        const resumed = f.resumed === true;
        const all = Array.isArray(f.messages) ? (f.messages as ChatMessage[]) : [];
        // A resume sends what came after lastSeq; drop anything older in
        // case of overlap. A fresh history replaces the list.
        const msgs = resumed ? all.filter((m) => m.seq > this.lastSeq) : all;
        for (const m of msgs) if (m.seq > this.lastSeq) this.lastSeq = m.seq;
        h.history?.(msgs, resumed, f.truncated === true);
        break;
      }
      case 'chat': {
        const m = f as unknown as ChatMessage;
        if (typeof m.seq !== 'number' || m.seq <= this.lastSeq) break;
        this.lastSeq = m.seq;
        h.message?.(m);
        break;
      }
      case 'deleted':
        h.deleted?.(String(f.id), Number(f.seq));
        break;
      case 'likes':
        h.likes?.(Number(f.total));
        break;
      case 'presence':
        h.presence?.(Number(f.online), Number(f.viewers));
        break;
      case 'notice':
        if (f.kind === 'skipped') this.skipped(Number(f.count), Number(f.last_seq));
        else h.notice?.(String(f.kind), typeof f.text === 'string' ? f.text : undefined);
        break;
      case 'muted':
        h.muted?.(Number(f.until));
        break;
      case 'unmuted':
        h.unmuted?.();
        break;
      case 'kicked':
      case 'banned':
        this.finalReason = f.type;
        h.removed?.(f.type, typeof f.until === 'number' ? f.until : undefined);
        break;
      case 'error': {
        const code = String(f.code ?? 'internal');
        if (FINAL.has(code)) this.finalReason = code;
        if (code === 'banned' || code === 'kicked') h.removed?.(code);
        h.error?.(code, String(f.message ?? ''));
        break;
      }
      default:
        h.other?.(f); // pong, co-host frames, frames this client does not know
        break;
    }
  }

  /**
   * A skipped notice: the server dropped count messages up to lastSeq for
   * this client. Live messages go on after lastSeq (a resume too); the gap
   * is fetched over REST a moment later, together with any gap that
   * follows meanwhile.
   */
  private skipped(count: number, lastSeq: number): void {
    if (!(count > 0) || !(lastSeq > 0)) return;
    if (lastSeq > this.lastSeq) this.lastSeq = lastSeq;
    this.gap = { count: (this.gap?.count ?? 0) + count, last: Math.max(this.gap?.last ?? 0, lastSeq) };
    this.o.handlers.skipped?.(count, lastSeq);
    if (!this.o.fetchMissed || this.gapTimer !== null) return;
    this.gapTimer = this.o.setTimer(() => {
      this.gapTimer = null;
      void this.fetchGap();
    }, this.o.gapDelay());
  }

  private async fetchGap(): Promise<void> {
    const gap = this.gap;
    this.gap = null;
    if (!gap || this.stopped || !this.o.fetchMissed) return;
    let msgs: ChatMessage[];
    try {
      msgs = await this.o.fetchMissed(gap.last + 1, Math.min(gap.count, MAX_GAP_FETCH));
    } catch (e) {
      if (!this.stopped) this.o.handlers.error?.('skipped_fetch_failed', e instanceof Error ? e.message : String(e));
      return;
    }
    if (this.stopped) return;
    this.o.handlers.missed?.(msgs.filter((m) => typeof m.seq === 'number' && m.seq <= gap.last));
  }
}
