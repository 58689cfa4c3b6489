import { describe, expect, it } from 'vitest';
import { bitrate, bytes, clock, count, reachable } from '../src/format';
import { pickLang } from '../src/i18n';

describe('format', () => {
  it('clock', () => {
    expect(clock(0)).toBe('0:00');
    expect(clock(65.9)).toBe('1:05');
    expect(clock(3600 + 61)).toBe('1:01:01');
    expect(clock(-5)).toBe('0:00');
  });
  it('bitrate', () => {
    expect(bitrate(0)).toBe('0 kbps');
    expect(bitrate(640_000)).toBe('640 kbps');
    expect(bitrate(2_500_000)).toBe('2.5 Mbps');
    expect(bitrate(25_000_000)).toBe('25 Mbps');
  });
  it('bytes', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(5 * 1024 * 1024 + 200_000)).toBe('5.2 MB');
  });
  it('count by language', () => {
    expect(count(12345, 'zh-CN')).toBe('1.2万');
    expect(count(12345, 'en')).toBe('12.3k');
    expect(count(999, 'en')).toBe('999');
  });
  it('reachable replaces a loopback host by the page host', () => {
    expect(reachable('http://127.0.0.1:8080/live/s.flv?txSecret=a&txTime=B', '192.168.1.5:8080'))
      .toBe('http://192.168.1.5:8080/live/s.flv?txSecret=a&txTime=B');
    expect(reachable('rtmp://127.0.0.1:1935/live/s?x=1', 'live.example.com')).toBe('rtmp://live.example.com:1935/live/s?x=1');
    expect(reachable('http://127.0.0.1:8080/live/s.flv', '127.0.0.1:8080')).toBe('http://127.0.0.1:8080/live/s.flv');
    expect(reachable('https://cdn.example.com/live/s.m3u8', '10.0.0.1')).toBe('https://cdn.example.com/live/s.m3u8');
  });
});

describe('pickLang', () => {
  it('follows the stored choice, then the browser', () => {
    expect(pickLang('en', ['zh-CN'])).toBe('en');
    expect(pickLang(null, ['zh-TW', 'en'])).toBe('zh-CN');
    expect(pickLang(null, ['en-US', 'zh-CN'])).toBe('en');
    expect(pickLang(null, ['fr-FR', 'en-GB'])).toBe('en');
    expect(pickLang(null, [])).toBe('zh-CN');
    expect(pickLang('xx', ['de'])).toBe('zh-CN');
  });
});
