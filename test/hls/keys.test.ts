import { describe, expect, it } from 'vitest';
import { PlaylistError } from '../../src/hls/errors.ts';
import { classRoot, classSegment, fileIdentity, keyForUrl } from '../../src/hls/keys.ts';

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
  it('mirrors host and path under the root, without query or fragment', () => {
    expect(key('https://cdn.example.com/vod/class-1/v1/seg-1.ts?sig=abc#t=1')).toBe(
      'lib/cdn.example.com/vod/class-1/v1/seg-1.ts',
    );
    expect(key('https://cdn.example.com/vod/a.ts', '')).toBe('cdn.example.com/vod/a.ts');
  });

  it('ignores the scheme and the case of the host', () => {
    expect(key('http://CDN.example.com/a.ts')).toBe('lib/cdn.example.com/a.ts');
  });

  it('puts every host (a different port is a different host) in its own segment', () => {
    expect(key('https://keys.example.com/k/1.key')).toBe('lib/keys.example.com/k/1.key');
    expect(key('https://cdn.example.com:8443/a.ts')).toBe('lib/cdn.example.com:8443/a.ts');
    expect(key('http://[::1]:8080/a.ts')).toBe('lib/[::1]:8080/a.ts');
    expect(key('https://bücher.example/a.ts')).toBe('lib/xn--bcher-kva.example/a.ts');
  });

  it('keeps a master-host path that looks like another host apart from that host (no _hosts/ collision)', () => {
    expect(key('https://cdn.example.com/_hosts/keys.example.com/k/seg.ts')).toBe(
      'lib/cdn.example.com/_hosts/keys.example.com/k/seg.ts',
    );
    expect(key('https://cdn.example.com/keys.example.com/k/seg.ts')).not.toBe(key('https://keys.example.com/k/seg.ts'));
  });

  it('decodes percent-encoding exactly once', () => {
    expect(key('https://cdn.example.com/a%20b/caf%C3%A9.ts')).toBe('lib/cdn.example.com/a b/café.ts');
    expect(key('https://cdn.example.com/a%2520b.ts')).toBe('lib/cdn.example.com/a%20b.ts');
    expect(key('https://cdn.example.com/100%25.ts')).toBe('lib/cdn.example.com/100%.ts');
    expect(key('https://cdn.example.com/bad%zz.ts')).toBe('lib/cdn.example.com/bad%zz.ts');
  });

  it('collapses empty segments, so a key never starts with "/"', () => {
    expect(key('https://cdn.example.com//a///b.ts', '')).toBe('cdn.example.com/a/b.ts');
    expect(key('https://cdn.example.com/a%2F%2Fb.ts', '')).toBe('cdn.example.com/a/b.ts');
  });

  it('refuses "." and ".." segments that appear once decoded', () => {
    expect(refused('https://cdn.example.com/a/..%2F..%2Fetc/passwd')).toMatch(/"\.\." segment/);
    // Decoded once, "%252e%252e" is the literal name "%2e%2e"; URL parsing already resolved "%2e%2e" itself.
    expect(key('https://cdn.example.com/a/%252e%252e/x')).toBe('lib/cdn.example.com/a/%2e%2e/x');
    expect(key('https://cdn.example.com/a/%2e%2e/x')).toBe('lib/cdn.example.com/x');
    expect(refused('https://cdn.example.com/a/.%2Fb.ts')).toMatch(/"\." or "\.\." segment/);
  });

  it('keeps names that merely contain dots', () => {
    expect(key('https://cdn.example.com/a/..b/c...ts')).toBe('lib/cdn.example.com/a/..b/c...ts');
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

  it("keys file: URLs relative to the master playlist's directory, refusing anything outside it", () => {
    const master = new URL('file:///srv/classes/c1/master.m3u8');
    expect(keyForUrl(new URL('file:///srv/classes/c1/v1/a%20b.ts'), master, '')).toBe('v1/a b.ts');
    expect(keyForUrl(new URL('https://cdn.example.com/x.ts'), master, '')).toBe('cdn.example.com/x.ts');
    expect(() => keyForUrl(new URL('file:///srv/classes/c2/a.ts'), master, '')).toThrow(
      /outside the master playlist's directory/,
    );
    expect(() => keyForUrl(new URL('file:///srv/classes/c1/a.ts'), MASTER, '')).toThrow(PlaylistError);
  });

  it("refuses a key that would exceed S3's limit once the host is added", () => {
    expect(refused(`https://cdn.example.com/${'a'.repeat(1025 - 'lib/cdn.example.com/'.length)}`)).toMatch(
      /1024 bytes/,
    );
  });
});

describe('class roots', () => {
  it('gives every class its own root under DEST_PREFIX', () => {
    expect(classRoot('media/', '666b31bc455009b96af2d00d')).toBe('media/666b31bc455009b96af2d00d/');
    expect(classRoot('', 'abc')).toBe('abc/');
  });

  it('encodes ids so that distinct ids never share a segment, and none escapes its root', () => {
    const ids = ['a/b', 'a%2Fb', '.', '..', '%2E', 'a b', 'a\u0000b', 'caf\u00e9', '..%2F'];
    const segments = ids.map(classSegment);
    expect(new Set(segments).size).toBe(ids.length);
    for (const s of segments) {
      expect(s).not.toMatch(/[/\p{Cc}]/u);
      expect(['.', '..']).not.toContain(s);
    }
    expect(classSegment('.')).toBe('%2E');
    expect(() => classSegment('')).toThrow(PlaylistError);
  });
});

describe('fileIdentity', () => {
  const id = (u: string) => fileIdentity(new URL(u));
  it('ignores scheme, query, fragment and percent-encoding case; keeps everything else apart', () => {
    expect(id('http://cdn.example.com/a.ts?x=1#t')).toBe(id('https://CDN.example.com/a.ts?x=2'));
    expect(id('https://cdn.example.com/caf%c3%a9.ts')).toBe(id('https://cdn.example.com/caf%C3%A9.ts'));
    expect(id('https://cdn.example.com/%41.ts')).toBe(id('https://cdn.example.com/A.ts'));
    expect(id('https://cdn.example.com/a%2Fb.ts')).not.toBe(id('https://cdn.example.com/a/b.ts'));
    expect(id('https://cdn.example.com//a.ts')).not.toBe(id('https://cdn.example.com/a.ts'));
    expect(id('https://cdn.example.com/bad%25zz.ts')).not.toBe(id('https://cdn.example.com/bad%zz.ts'));
    expect(id('https://cdn.example.com:8443/a.ts')).not.toBe(id('https://cdn.example.com/a.ts'));
  });
});
