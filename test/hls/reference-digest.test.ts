// Issue 18, case 1: "the same playlist" is the files it names, resolved to keys, not its bytes.
import { describe, expect, it } from 'vitest';
import { volatilePlaylist } from '../../lab/origin-server.ts';
import { digestOfPlaylist } from '../../src/hls/reference-digest.ts';

const SRC = 'https://cdn.example.com/vod/c1/v1/index.m3u8';
const ROOT = 'media/c1/';
const digest = (text: string, at: Partial<Parameters<typeof digestOfPlaylist>[1]> = {}) =>
  digestOfPlaylist(text, { src: SRC, finalUrl: SRC, root: ROOT, ...at });

const MEDIA = [
  '#EXTM3U',
  '#EXT-X-TARGETDURATION:4',
  '#EXT-X-MAP:URI="init.mp4"',
  '#EXTINF:4,',
  'seg-1.m4s',
  '#EXTINF:4,',
  'seg-2.m4s',
  '#EXT-X-ENDLIST',
  '',
].join('\n');

describe('reference digest', () => {
  it('is the same for the same references in other bytes: tokens in query strings, comments, dates, durations', () => {
    const other = [
      '#EXTM3U',
      '# generated 2026-01-01T00:00:00Z by edge-7',
      '#EXT-X-TARGETDURATION:5',
      '#EXT-X-MAP:URI="init.mp4?token=abc"',
      '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z',
      '#EXTINF:4.004,',
      'seg-1.m4s?token=abc&session=9',
      '#EXTINF:3.996,',
      'https://cdn.example.com/vod/c1/v1/seg-2.m4s?token=abc',
      '#EXT-X-ENDLIST',
    ].join('\r\n');
    expect(digest(other)).toBe(digest(MEDIA));
    // What the lab's volatile origin serves on two requests: other bytes each time, the same digest.
    const a = volatilePlaylist(MEDIA, 'token', 1, new Date(0));
    const b = volatilePlaylist(MEDIA, 'token', 2, new Date(1000));
    expect(a).not.toBe(b);
    expect(digest(a)).toBe(digest(MEDIA));
    expect(digest(b)).toBe(digest(MEDIA));
    expect(digest(MEDIA)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs when a segment is added, removed, renamed or moved, or the order changes', () => {
    const base = digest(MEDIA);
    expect(digest(MEDIA.replace('#EXT-X-ENDLIST', '#EXTINF:4,\nseg-3.m4s\n#EXT-X-ENDLIST'))).not.toBe(base);
    expect(digest(MEDIA.replace('#EXTINF:4,\nseg-2.m4s\n', ''))).not.toBe(base);
    expect(digest(MEDIA.replace('seg-2.m4s', 'seg-2b.m4s'))).not.toBe(base);
    expect(digest(MEDIA.replace('seg-2.m4s', '../v2/seg-2.m4s'))).not.toBe(base);
    expect(
      digest(MEDIA.replace('seg-1.m4s', 'TMP').replace('seg-2.m4s', 'seg-1.m4s').replace('TMP', 'seg-2.m4s')),
    ).not.toBe(base);
    // A session id in the path names other files: the `session` mode of the lab's origin.
    const master = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv1/index.m3u8\n';
    const at = {
      src: 'https://cdn.example.com/vod/c1/master.m3u8',
      finalUrl: 'https://cdn.example.com/vod/c1/master.m3u8',
    };
    expect(digest(volatilePlaylist(master, 'session', 1, new Date(0)), at)).not.toBe(
      digest(volatilePlaylist(master, 'session', 2, new Date(0)), at),
    );
  });

  it('differs when what a player fetches from a file differs: its kind or its byte range', () => {
    expect(digest(MEDIA.replace('#EXT-X-MAP:URI="init.mp4"', '#EXTINF:1,\ninit.mp4'))).not.toBe(digest(MEDIA));
    const ranged = (r: string) => `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n#EXT-X-BYTERANGE:${r}\nall.ts\n`;
    expect(digest(ranged('1000@0'))).not.toBe(digest(ranged('1000@1000')));
    expect(digest(ranged('1000@0'))).not.toBe(digest(ranged('2000@0')));
    // A media playlist that lost its EXT-X-ENDLIST (cut short by a connection's close, or live again) is another.
    expect(digest(MEDIA.replace('#EXT-X-ENDLIST\n', ''))).not.toBe(digest(MEDIA));
    // An implicit offset is the explicit one it stands for.
    const two = (second: string) =>
      `#EXTM3U\n#EXTINF:4,\n#EXT-X-BYTERANGE:1000@0\nall.ts\n#EXTINF:4,\n#EXT-X-BYTERANGE:${second}\nall.ts\n`;
    expect(digest(two('500'))).toBe(digest(two('500@1000')));
  });

  it('keys relative references where the playlist sits in the layout, and ignores schemes nothing copies', () => {
    // Fetched from a redirect target, keyed where the crawler keyed it: the same digest as unredirected.
    const moved = digest(MEDIA, { finalUrl: 'https://edge.example.com/store/x/index.m3u8' });
    expect(moved).toBe(digest(MEDIA));
    expect(digest(MEDIA, { base: 'https://cdn.example.com/vod/c1/v9/index.m3u8' })).not.toBe(digest(MEDIA));
    expect(digest(MEDIA.replace('#EXT-X-MAP', '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://k1"\n#EXT-X-MAP'))).toBe(
      digest(MEDIA),
    );
    // IMPORTed variables: a playlist read alone is scanned with the values the crawl found.
    const imports = '#EXTM3U\n#EXT-X-DEFINE:IMPORT="v"\n#EXTINF:4,\n{$v}/seg-1.m4s\n';
    expect(digest(imports, { vars: { v: 'a' } })).not.toBe(digest(imports, { vars: { v: 'b' } }));
    expect(() => digest(imports)).toThrow(/IMPORT/);
  });
});
