import { describe, expect, it } from 'vitest';
import { choosePlayer, parsePreference, type Caps } from '../src/player';

const desktop: Caps = { flv: true, hlsjs: true, native: false };
const safariMac: Caps = { flv: true, hlsjs: true, native: true };
const iosSafari: Caps = { flv: false, hlsjs: false, native: true };
const nothing: Caps = { flv: false, hlsjs: false, native: false };

describe('choosePlayer', () => {
  it('prefers HTTP-FLV where MSE exists', () => {
    expect(choosePlayer('auto', desktop)).toBe('flv');
    expect(choosePlayer('auto', safariMac)).toBe('flv');
    expect(choosePlayer('flv', desktop)).toBe('flv');
  });
  it('plays HLS with hls.js when asked, native HLS without MSE', () => {
    expect(choosePlayer('hls', desktop)).toBe('hls');
    expect(choosePlayer('hls', safariMac)).toBe('hls');
    expect(choosePlayer('hls', iosSafari)).toBe('native');
  });
  it('falls back to HLS when FLV cannot play', () => {
    expect(choosePlayer('auto', iosSafari)).toBe('native');
    expect(choosePlayer('flv', iosSafari)).toBe('native');
    expect(choosePlayer('auto', { flv: false, hlsjs: true, native: false })).toBe('hls');
  });
  it('falls back to FLV when HLS cannot play', () => {
    expect(choosePlayer('hls', { flv: true, hlsjs: false, native: false })).toBe('flv');
  });
  it('answers null when nothing plays', () => {
    for (const p of ['auto', 'flv', 'hls'] as const) expect(choosePlayer(p, nothing)).toBeNull();
  });
});

describe('parsePreference', () => {
  it('accepts flv and hls, anything else is auto', () => {
    expect(parsePreference('flv')).toBe('flv');
    expect(parsePreference('hls')).toBe('hls');
    for (const v of [null, undefined, '', 'auto', 'FLV', 'WHEP', 'rtmp']) expect(parsePreference(v)).toBe('auto');
  });
});

describe('WebRTC first', () => {
  const rtc: Caps = { webrtc: true, flv: true, hlsjs: true, native: false };
  it('auto and whep pick WHEP where RTCPeerConnection exists', () => {
    expect(choosePlayer('auto', rtc)).toBe('whep');
    expect(choosePlayer('whep', rtc)).toBe('whep');
  });
  it('an explicit FLV or HLS preference is kept', () => {
    expect(choosePlayer('flv', rtc)).toBe('flv');
    expect(choosePlayer('hls', rtc)).toBe('hls');
  });
  it('whep falls back to FLV, then HLS', () => {
    expect(choosePlayer('whep', desktop)).toBe('flv');
    expect(choosePlayer('whep', iosSafari)).toBe('native');
    expect(choosePlayer('hls', { webrtc: true, flv: false, hlsjs: false, native: false })).toBe('whep');
  });
  it('parses whep', () => {
    expect(parsePreference('whep')).toBe('whep');
  });
});
