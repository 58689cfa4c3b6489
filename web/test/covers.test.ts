import { describe, expect, it } from 'vitest';
import { withStamp } from '../src/covers';

describe('withStamp', () => {
  it('adds t= to a URL without a query', () => {
    expect(withStamp('http://h/live/s.jpg', 5)).toBe('http://h/live/s.jpg?t=5');
  });
  it('keeps a private room signature', () => {
    expect(withStamp('http://h/live/s.jpg?txSecret=a&txTime=b', 7)).toBe('http://h/live/s.jpg?txSecret=a&txTime=b&t=7');
  });
});
