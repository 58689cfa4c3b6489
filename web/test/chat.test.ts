import { describe, expect, it } from 'vitest';
import { backoffDelay, ChatClient, parseFrame, shouldReconnect, type ChatMessage, type SocketLike } from '../src/chat';

class FakeSocket implements SocketLike {
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  readyState = 0;
  sent: string[] = [];
  closed: { code?: number; reason?: string } | null = null;
  constructor(readonly url: string) {}
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(v: unknown) {
    this.onmessage?.({ data: JSON.stringify(v) });
  }
  send(d: string) {
    this.sent.push(d);
  }
  close(code?: number, reason?: string) {
    this.closed = { code, reason };
    this.readyState = 3;
  }
  /** The server closes the connection. */
  drop(code: number, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

const msg = (seq: number, text = 'm' + seq): ChatMessage => ({ type: 'chat', id: 'msg_' + seq, seq, user: { id: 'u1', name: 'ann' }, text, ts: seq });
const welcome = { type: 'welcome', room: 'room_x', user: { id: 'u1', name: 'ann' }, can_send: true, can_moderate: false, likes: 5, online: 2, viewers: 3, last_seq: 0 };

function setup() {
  const sockets: FakeSocket[] = [];
  const timers: Array<{ f: () => void; ms: number }> = [];
  const shown: number[] = [];
  const events: string[] = [];
  const c = new ChatClient({
    url: (since) => 'ws://h/api/v1/rooms/room_x/chat' + (since !== undefined ? '?since=' + since : ''),
    socket: (u) => {
      const s = new FakeSocket(u);
      sockets.push(s);
      return s;
    },
    rand: () => 0.5,
    base: 100,
    max: 1000,
    setTimer: (f, ms) => {
      timers.push({ f, ms });
      return timers.length;
    },
    clearTimer: () => {},
    handlers: {
      history: (ms, resumed, truncated) => {
        if (!resumed) shown.length = 0;
        shown.push(...ms.map((m) => m.seq));
        events.push(`history resumed=${resumed} truncated=${truncated}`);
      },
      message: (m) => shown.push(m.seq),
      deleted: (id) => events.push('deleted ' + id),
      likes: (n) => events.push('likes ' + n),
      removed: (k) => events.push('removed ' + k),
      error: (code) => events.push('error ' + code),
      state: (s, d) => events.push(`state ${s}${d.delay !== undefined ? ' ' + d.delay : ''}`),
    },
  });
  return { c, sockets, timers, shown, events };
}

describe('parseFrame', () => {
  it('reads one object or an array of them, oldest first', () => {
    expect(parseFrame('{"type":"likes","total":3}')).toEqual([{ type: 'likes', total: 3 }]);
    expect(parseFrame('[{"type":"chat","seq":1},{"type":"likes","total":2}]').map((f) => f.type)).toEqual(['chat', 'likes']);
  });
  it('ignores garbage', () => {
    expect(parseFrame('not json')).toEqual([]);
    expect(parseFrame('[1,null,{"no":"type"}]')).toEqual([]);
    expect(parseFrame(new ArrayBuffer(2))).toEqual([]);
  });
});

describe('shouldReconnect', () => {
  it('retries going away, too slow and network losses', () => {
    expect(shouldReconnect(1001, 'server shutting down')).toBe(true);
    expect(shouldReconnect(1001, 'ping timeout')).toBe(true);
    expect(shouldReconnect(1008, 'too slow: send queue full')).toBe(true);
    expect(shouldReconnect(1006, '')).toBe(true);
    expect(shouldReconnect(1009, '')).toBe(true);
  });
  it('does not retry refusals or a normal close', () => {
    for (const r of ['kicked', 'banned', 'flooding', 'too_many_connections']) expect(shouldReconnect(1008, r)).toBe(false);
    expect(shouldReconnect(1000, '')).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('doubles up to the cap, with ±25 % jitter', () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, 500, 15000, () => 0.5))).toEqual([500, 1000, 2000, 4000, 15000]);
    expect(backoffDelay(0, 1000, 15000, () => 0)).toBe(750);
    expect(backoffDelay(0, 1000, 15000, () => 1)).toBe(1250);
  });
});

describe('ChatClient', () => {
  it('resumes after the last message seen, without duplicates', () => {
    const { c, sockets, timers, shown, events } = setup();
    c.start();
    expect(sockets[0].url).toBe('ws://h/api/v1/rooms/room_x/chat');
    sockets[0].open();
    sockets[0].frame(welcome);
    sockets[0].frame({ type: 'history', resumed: false, truncated: false, messages: [msg(1), msg(2)] });
    sockets[0].frame([msg(3), { type: 'likes', total: 9 }]);
    sockets[0].frame(msg(3)); // a duplicate is dropped
    expect(shown).toEqual([1, 2, 3]);
    expect(c.lastSeq).toBe(3);

    sockets[0].drop(1001, 'server shutting down');
    expect(events).toContain('state reconnecting 100');
    expect(timers).toHaveLength(1);
    timers[0].f();
    expect(sockets[1].url).toBe('ws://h/api/v1/rooms/room_x/chat?since=3');
    sockets[1].open();
    sockets[1].frame({ ...welcome, last_seq: 5 });
    // The server may overlap; only what is new is shown.
    sockets[1].frame({ type: 'history', resumed: true, truncated: false, messages: [msg(3), msg(4), msg(5)] });
    sockets[1].frame(msg(6));
    expect(shown).toEqual([1, 2, 3, 4, 5, 6]);
    expect(c.lastSeq).toBe(6);
  });

  it('backs off while the server stays away, and resets after a welcome', () => {
    const { c, sockets, timers } = setup();
    c.start();
    sockets[0].drop(1006);
    timers[0].f();
    sockets[1].drop(1006);
    timers[1].f();
    sockets[2].drop(1006);
    expect(timers.map((t) => t.ms)).toEqual([100, 200, 400]);
    timers[2].f();
    sockets[3].open();
    sockets[3].frame(welcome);
    expect(c.attempt).toBe(0);
    sockets[3].drop(1001);
    expect(timers[3].ms).toBe(100);
    // Nothing was received, so there is nothing to resume from.
    timers[3].f();
    expect(sockets[4].url).toBe('ws://h/api/v1/rooms/room_x/chat');
  });

  it('reports a truncated resume', () => {
    const { c, sockets, timers, events } = setup();
    c.start();
    sockets[0].frame({ type: 'history', resumed: false, truncated: false, messages: [msg(10)] });
    sockets[0].drop(1006);
    timers[0].f();
    sockets[1].frame({ type: 'history', resumed: true, truncated: true, messages: [msg(300)] });
    expect(events).toContain('history resumed=true truncated=true');
  });

  it('stops for good when kicked or banned', () => {
    const { c, sockets, timers, events } = setup();
    c.start();
    sockets[0].open();
    sockets[0].frame({ type: 'kicked', until: 123 });
    sockets[0].drop(1008, 'kicked');
    expect(events).toContain('removed kicked');
    expect(events.at(-1)).toBe('state stopped');
    expect(timers).toHaveLength(0);

    const b = setup();
    b.c.start();
    // A refused connection: error frame, then close; the reason may be lost.
    b.sockets[0].frame({ type: 'error', code: 'banned', message: 'banned' });
    b.sockets[0].drop(1006, '');
    expect(b.timers).toHaveLength(0);
    expect(b.events).toContain('removed banned');
  });

  it('does not reconnect after stop', () => {
    const { c, sockets, timers } = setup();
    c.start();
    sockets[0].open();
    expect(c.send({ type: 'chat', text: 'hi' })).toBe(true);
    expect(sockets[0].sent).toEqual(['{"type":"chat","text":"hi"}']);
    c.stop();
    expect(sockets[0].closed?.code).toBe(1000);
    sockets[0].drop(1006);
    expect(timers).toHaveLength(0);
    expect(c.send({ type: 'chat', text: 'late' })).toBe(false);
  });

  it('passes deletions and likes on', () => {
    const { c, sockets, events } = setup();
    c.start();
    sockets[0].frame([{ type: 'deleted', id: 'msg_1', seq: 1 }, { type: 'likes', total: 42 }, { type: 'pong' }]);
    expect(events).toContain('deleted msg_1');
    expect(events).toContain('likes 42');
  });

  it('fetches what a skipped notice says was missed, once for close skips', async () => {
    const fetches: Array<[number, number]> = [];
    const missed: number[][] = [];
    const skips: string[] = [];
    const timers: Array<{ f: () => void; ms: number }> = [];
    const sockets: FakeSocket[] = [];
    const shown: number[] = [];
    const c = new ChatClient({
      url: (since) => 'ws://h/chat' + (since !== undefined ? '?since=' + since : ''),
      socket: (u) => {
        const s = new FakeSocket(u);
        sockets.push(s);
        return s;
      },
      setTimer: (f, ms) => {
        timers.push({ f, ms });
        return timers.length;
      },
      clearTimer: () => {},
      gapDelay: () => 300,
      fetchMissed: async (before, limit) => {
        fetches.push([before, limit]);
        // The server's page: the newest `limit` before `before`, oldest first.
        return Array.from({ length: limit }, (_, i) => msg(before - limit + i));
      },
      handlers: {
        message: (m) => shown.push(m.seq),
        skipped: (n, last) => skips.push(`${n}@${last}`),
        missed: (ms) => missed.push(ms.map((m) => m.seq)),
      },
    });
    c.start();
    sockets[0].open();
    sockets[0].frame([msg(1), msg(2)]);
    sockets[0].frame([{ type: 'notice', kind: 'skipped', count: 3, last_seq: 5 }, msg(6)]);
    sockets[0].frame([{ type: 'notice', kind: 'skipped', count: 2, last_seq: 8 }, msg(9)]);
    expect(skips).toEqual(['3@5', '2@8']);
    expect(shown).toEqual([1, 2, 6, 9]);
    expect(c.lastSeq).toBe(9);
    // One fetch for both gaps, after the delay.
    expect(timers.map((t) => t.ms)).toEqual([300]);
    expect(fetches).toEqual([]);
    timers[0].f();
    await Promise.resolve();
    await Promise.resolve();
    expect(fetches).toEqual([[9, 5]]);
    expect(missed).toEqual([[4, 5, 6, 7, 8]]);

    // A reconnect resumes after the newest message, skipped ones included.
    sockets[0].drop(1006);
    timers[1].f();
    expect(sockets[1].url).toBe('ws://h/chat?since=9');
  });

  it('caps a gap fetch, reports a failed one, and stops fetching after stop', async () => {
    const errors: string[] = [];
    const timers: Array<() => void> = [];
    const sockets: FakeSocket[] = [];
    let fail = true;
    const fetches: Array<[number, number]> = [];
    const c = new ChatClient({
      url: () => 'ws://h/chat',
      socket: (u) => {
        const s = new FakeSocket(u);
        sockets.push(s);
        return s;
      },
      setTimer: (f) => timers.push(f),
      clearTimer: () => {},
      gapDelay: () => 0,
      fetchMissed: async (before, limit) => {
        fetches.push([before, limit]);
        if (fail) throw new Error('offline');
        return [];
      },
      handlers: { error: (code) => errors.push(code), missed: () => errors.push('missed after stop') },
    });
    c.start();
    sockets[0].frame({ type: 'notice', kind: 'skipped', count: 9000, last_seq: 9100 });
    timers[0]();
    await Promise.resolve();
    await Promise.resolve();
    expect(fetches).toEqual([[9101, 500]]);
    expect(errors).toEqual(['skipped_fetch_failed']);

    fail = false;
    sockets[0].frame({ type: 'notice', kind: 'skipped', count: 1, last_seq: 9200 });
    c.stop();
    timers[1]();
    await Promise.resolve();
    expect(fetches).toHaveLength(1);
    expect(errors).toEqual(['skipped_fetch_failed']);
  });

  it('ignores a malformed skipped notice', () => {
    const { c, sockets, events } = setup();
    c.start();
    sockets[0].frame({ type: 'notice', kind: 'skipped', count: 'x' });
    sockets[0].frame({ type: 'notice', kind: 'skipped', count: 2, last_seq: -1 });
    expect(c.lastSeq).toBe(0);
    expect(events.filter((e) => e.startsWith('error'))).toEqual([]);
  });
});
