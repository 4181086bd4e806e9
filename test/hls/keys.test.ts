import { describe, expect, it } from 'vitest';
import { PlaylistError } from '../../src/hls/errors.ts';
import { keyForUrl } from '../../src/hls/keys.ts';

const MASTER = new URL('https://cdn.example.com/vod/class-1/master.m3u8?token=1');
const key = (url: string, prefix = 'lib/') => keyForUrl(new URL(url), MASTER, prefix);

function refused(url: string): string {
  try {
    key(url);
  } catch (err) {
    expect(err).toBeInstanceOf(PlaylistError);
    expect((err as PlaylistError).code).toBe('UNSAFE_KEY');
    return (err as Error).message;
  }
  throw new Error(`expected ${url} to be refused`);
}

describe('keyForUrl', () => {
  it('mirrors the path under the prefix, without query or fragment', () => {
    expect(key('https://cdn.example.com/vod/class-1/v1/seg-1.ts?sig=abc#t=1')).toBe('lib/vod/class-1/v1/seg-1.ts');
    expect(key('https://cdn.example.com/vod/a.ts', '')).toBe('vod/a.ts');
  });

  it('ignores the scheme and the case of the host', () => {
    expect(key('http://CDN.example.com/a.ts')).toBe('lib/a.ts');
  });

  it('puts other hosts (a different port is a different host) under _hosts/<host>/', () => {
    expect(key('https://keys.example.com/k/1.key')).toBe('lib/_hosts/keys.example.com/k/1.key');
    expect(key('https://cdn.example.com:8443/a.ts')).toBe('lib/_hosts/cdn.example.com:8443/a.ts');
    expect(key('http://[::1]:8080/a.ts')).toBe('lib/_hosts/[::1]:8080/a.ts');
  });

  it('decodes percent-encoding exactly once', () => {
    expect(key('https://cdn.example.com/a%20b/caf%C3%A9.ts')).toBe('lib/a b/café.ts');
    expect(key('https://cdn.example.com/a%2520b.ts')).toBe('lib/a%20b.ts');
    expect(key('https://cdn.example.com/100%25.ts')).toBe('lib/100%.ts');
    expect(key('https://cdn.example.com/bad%zz.ts')).toBe('lib/bad%zz.ts');
  });

  it('collapses empty segments, so a key never starts with "/"', () => {
    expect(key('https://cdn.example.com//a///b.ts', '')).toBe('a/b.ts');
    expect(key('https://cdn.example.com/a%2F%2Fb.ts', '')).toBe('a/b.ts');
  });

  it('refuses "." and ".." segments that appear once decoded', () => {
    expect(refused('https://cdn.example.com/a/..%2F..%2Fetc/passwd')).toMatch(/"\.\." segment/);
    // Decoded once, "%252e%252e" is the literal name "%2e%2e"; URL parsing already resolved "%2e%2e" itself.
    expect(key('https://cdn.example.com/a/%252e%252e/x')).toBe('lib/a/%2e%2e/x');
    expect(key('https://cdn.example.com/a/%2e%2e/x')).toBe('lib/x');
    expect(refused('https://cdn.example.com/a/.%2Fb.ts')).toMatch(/"\." or "\.\." segment/);
  });

  it('keeps names that merely contain dots', () => {
    expect(key('https://cdn.example.com/a/..b/c...ts')).toBe('lib/a/..b/c...ts');
  });

  it('refuses control characters, directories, over-long keys and non-http schemes', () => {
    expect(refused('https://cdn.example.com/a%0Ab.ts')).toMatch(/control characters/);
    expect(refused('https://cdn.example.com/a%7F.ts')).toMatch(/control characters/);
    expect(refused('https://cdn.example.com/dir/')).toMatch(/directory/);
    expect(refused('https://cdn.example.com/')).toMatch(/directory/);
    expect(refused(`https://cdn.example.com/${'é'.repeat(600)}.ts`)).toMatch(/1024 bytes/);
    expect(refused('skd://key-id')).toMatch(/never copied/);
    expect(refused('data:text/plain,abc')).toMatch(/never copied/);
  });

  it('keys file: URLs relative to the master playlist\'s directory, refusing anything outside it', () => {
    const master = new URL('file:///srv/classes/c1/master.m3u8');
    expect(keyForUrl(new URL('file:///srv/classes/c1/v1/a%20b.ts'), master, '')).toBe('v1/a b.ts');
    expect(keyForUrl(new URL('https://cdn.example.com/x.ts'), master, '')).toBe('_hosts/cdn.example.com/x.ts');
    expect(() => keyForUrl(new URL('file:///srv/classes/c2/a.ts'), master, '')).toThrow(/outside the master playlist's directory/);
    expect(() => keyForUrl(new URL('file:///srv/classes/c1/a.ts'), MASTER, '')).toThrow(PlaylistError);
  });
});
