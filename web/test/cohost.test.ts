import { describe, expect, it } from 'vitest';
import { CohostState } from '../src/cohost';

describe('CohostState', () => {
  it('keeps requests until answered or expired', () => {
    const s = new CohostState();
    expect(s.apply({ type: 'cohost_request', user: { id: 'u1', name: 'ann' }, expires_at: 1000 }, 0)).toBe('requests');
    expect(s.apply({ type: 'cohost_request', user: { id: 'u2', name: 'bo' }, expires_at: 5000 }, 0)).toBe('requests');
    expect([...s.requests.keys()]).toEqual(['u1', 'u2']);
    expect(s.apply({ type: 'cohost_answer', user: { id: 'u2', name: 'bo' }, answer: 'accepted' })).toBe('requests');
    expect([...s.requests.keys()]).toEqual(['u1']);
    expect(s.expire(999)).toBe(false);
    expect(s.expire(1000)).toBe(true);
    expect(s.requests.size).toBe(0);
  });

  it('asks for a reload on member events and ignores the rest', () => {
    const s = new CohostState();
    for (const type of ['member_joined', 'member_left', 'member_live', 'member_offline']) {
      expect(s.apply({ type, member: { user: { id: 'u1', name: 'ann' } } })).toBe('members');
    }
    expect(s.apply({ type: 'pong' })).toBe(null);
    expect(s.apply({ type: 'cohost_request' })).toBe(null);
  });
});
