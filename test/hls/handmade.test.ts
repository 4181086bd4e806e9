// The hand-made playlists in test/fixtures/hls: cases no real fixture has, each with its exact expected plan.
import { join } from 'node:path';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaylistError } from '../../src/hls/errors.ts';
import { OriginError } from '../../src/domain/ports/origin.ts';
import { byKey, planOverHttp, rejection, rows } from './helpers.ts';
import { startDirectoryOrigin, type DirectoryOrigin } from '../helpers/directory-origin.ts';

const DIR = join(import.meta.dirname, '../fixtures/hls');

let a: DirectoryOrigin;
let b: DirectoryOrigin;
const names = (): Record<string, string> => ({ A: a.base, B: b.base });
const onlyA = () => ({ allowedHosts: [a.host] });
const both = () => ({ allowedHosts: [a.host, b.host] });

beforeAll(async () => {
  const moved = { status: 301, location: '/redirect-target/sub/media.m3u8' } as const;
  b = await startDirectoryOrigin({ root: DIR, redirects: { '/real/v1/moved.m3u8': moved } });
  a = await startDirectoryOrigin({
    root: DIR,
    rewrite: (s) => s.replaceAll('@@ORIGIN_B@@', b.base),
    redirects: {
      '/redirect/master.m3u8': '/real/v1/master.m3u8',
      '/real/v1/moved.m3u8': moved,
      '/redirect/evil.m3u8': `${b.base}/steering/a/media.m3u8`,
      '/redirect/cdn.m3u8': `${b.base}/real/v1/master.m3u8`,
    },
  });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
});

describe('EXT-X-DEFINE', () => {
  it('substitutes NAME/VALUE, QUERYPARAM from the master URL and IMPORT from the master before resolving', async () => {
    const plan = await planOverHttp(`${a.base}/define/master.m3u8?token=abc123`, onlyA());
    expect(rows(plan, names())).toEqual(
      byKey([
        'playlist A/define/master.m3u8 <- A/define/master.m3u8?token=abc123',
        'playlist A/define/renditions/audio-en.m3u8 <- A/define/renditions/audio-en.m3u8?token=abc123',
        'segment A/define/renditions/audio/en-1.aac <- A/define/renditions/audio/en-1.aac?token=abc123',
        'playlist A/define/renditions/avc-720.m3u8 <- A/define/renditions/avc-720.m3u8?token=abc123',
        'init A/define/renditions/segments/avc-init.mp4 <- A/define/renditions/segments/avc-init.mp4?token=abc123',
        'segment A/define/renditions/segments/avc-720-1.m4s <- A/define/renditions/segments/avc-720-1.m4s?token=abc123',
        'segment A/define/renditions/segments/avc-720-2.m4s <- A/define/renditions/segments/avc-720-2.m4s?token=abc123',
        'playlist A/define/renditions/subs-en.m3u8 <- A/define/renditions/subs-en.m3u8',
        'subtitle A/define/renditions/subs/en-renditions-1.vtt <- A/define/renditions/subs/en-renditions-1.vtt',
      ]),
    );
  });

  it('refuses a QUERYPARAM the master URL lacks, naming it', async () => {
    const err = await rejection(planOverHttp(`${a.base}/define/master.m3u8`, onlyA()));
    expect(err).toBeInstanceOf(PlaylistError);
    expect(err.code).toBe('BAD_DEFINE');
    expect(err.message).toMatch(/QUERYPARAM="token"/);
  });

  it.each([
    ['undefined-variable', /\{\$b\} is used but not defined/],
    ['import-in-master', /IMPORT="x" is not allowed in a multivariant playlist/],
    ['import-without-master', /IMPORT="x" but no multivariant playlist/],
    ['queryparam-missing', /QUERYPARAM="token"/],
    ['duplicate-define', /defines "a" twice/],
  ])('refuses bad/%s.m3u8', async (name, message) => {
    const err = await rejection(planOverHttp(`${a.base}/bad/${name}.m3u8`, onlyA()));
    expect(err.code).toBe('BAD_DEFINE');
    expect(err.message).toMatch(message);
    expect(err.retryable).toBe(false);
  });
});

describe('multivariant extras', () => {
  it('copies the CONTENT-STEERING server URI and every pathway, each host under its own key segment', async () => {
    const plan = await planOverHttp(`${a.base}/steering/master.m3u8`, both());
    // Hosts are key segments named by their (random) ports: compare in the named order.
    expect(byKey(rows(plan, names()))).toEqual(
      byKey([
        `playlist B/steering/b/media.m3u8 <- B/steering/b/media.m3u8`,
        `segment B/steering/b/seg1.ts <- B/steering/b/seg1.ts`,
        'playlist A/steering/a/media.m3u8 <- A/steering/a/media.m3u8',
        'segment A/steering/a/seg1.ts <- A/steering/a/seg1.ts',
        'playlist A/steering/master.m3u8 <- A/steering/master.m3u8',
        'data A/steering/steering/manifest.json <- A/steering/steering/manifest.json',
      ]),
    );
  });

  it('refuses a pathway on a host outside ORIGIN_ALLOWED_HOSTS without fetching it', async () => {
    const before = b.server.stats().requests;
    const err = await rejection(planOverHttp(`${a.base}/steering/master.m3u8`, onlyA()));
    expect(err.code).toBe('HOST_NOT_ALLOWED');
    expect(err.message).toContain(`"${b.host}"`);
    expect(b.server.stats().requests).toBe(before);
  });

  it('copies SESSION-KEY and SESSION-DATA URIs, skips skd:, closed captions and muxed audio', async () => {
    const plan = await planOverHttp(`${a.base}/session/master.m3u8`, onlyA());
    expect(rows(plan, names())).toEqual(
      byKey([
        'playlist A/session/iframes.m3u8 <- A/session/iframes.m3u8',
        'key A/session/keys/session.key <- A/session/keys/session.key',
        'playlist A/session/master.m3u8 <- A/session/master.m3u8',
        'playlist A/session/media.m3u8 <- A/session/media.m3u8',
        'data A/session/meta/title.json <- A/session/meta/title.json',
        'segment A/session/seg1.ts <- A/session/seg1.ts',
        'segment A/session/seg2.ts <- A/session/seg2.ts',
      ]),
    );
  });
});

describe('media playlists', () => {
  it('keeps every EXT-X-KEY of several KEYFORMATs, every EXT-X-MAP, one copy per byte-ranged file', async () => {
    const plan = await planOverHttp(`${a.base}/multikey/media.m3u8`, onlyA());
    expect(rows(plan, names())).toEqual(
      byKey([
        'playlist A/multikey/media.m3u8 <- A/multikey/media.m3u8',
        'key A/multikey/keys/playready.bin <- A/multikey/keys/playready.bin',
        'key A/multikey/keys/clear.key <- A/multikey/keys/clear.key',
        'init A/multikey/init-1.mp4 <- A/multikey/init-1.mp4',
        'segment A/multikey/seg-1.m4s <- A/multikey/seg-1.m4s',
        'segment A/multikey/seg-2.m4s <- A/multikey/seg-2.m4s',
        'init A/multikey/main.mp4 <- A/multikey/main.mp4',
        'key A/multikey/keys/rotated.key <- A/multikey/keys/rotated.key?v=2',
        'init A/multikey/init-3.mp4 <- A/multikey/init-3.mp4',
        'segment A/multikey/seg-3.m4s <- A/multikey/seg-3.m4s',
      ]),
    );
  });

  it('(why a scanner of our own: hls-parser keeps only the last of several keys)', async () => {
    const text = await (await fetch(`${a.base}/multikey/media.m3u8`)).text();
    HLS.setOptions({ silent: true });
    const p = HLS.parse(text);
    expect(p.isMasterPlaylist).toBe(false);
    if (!p.isMasterPlaylist) expect(p.segments[0]?.key?.uri).toBe('keys/clear.key');
  });

  it('follows LL-HLS parts and rendition reports; skips preload hints and GAP segments and parts', async () => {
    const plan = await planOverHttp(`${a.base}/llhls/master.m3u8`, onlyA());
    const side = (s: string) => [
      `playlist A/llhls/${s}.m3u8 <- A/llhls/${s}.m3u8`,
      `init A/llhls/${s}/init.mp4 <- A/llhls/${s}/init.mp4`,
      `segment A/llhls/${s}/seg1.mp4 <- A/llhls/${s}/seg1.mp4`,
      `segment A/llhls/${s}/seg3.part1.mp4 <- A/llhls/${s}/seg3.part1.mp4`,
      `segment A/llhls/${s}/seg3.mp4 <- A/llhls/${s}/seg3.mp4`,
      `segment A/llhls/${s}/seg4.part1.mp4 <- A/llhls/${s}/seg4.part1.mp4`,
    ];
    expect(rows(plan, names())).toEqual(
      byKey([
        'playlist A/llhls/master.m3u8 <- A/llhls/master.m3u8',
        ...side('low'),
        ...side('high'),
        'playlist A/llhls/only-reported.m3u8 <- A/llhls/only-reported.m3u8',
        'segment A/llhls/reported/seg1.mp4 <- A/llhls/reported/seg1.mp4',
        'segment A/llhls/reported/seg2.part1.mp4 <- A/llhls/reported/seg2.part1.mp4',
      ]),
    );
    for (const p of ['master', 'low', 'high', 'only-reported']) expect(a.hits.get(`/llhls/${p}.m3u8`)).toBe(1);
  });

  it('follows interstitial X-ASSET-URI playlists and copies X-ASSET-LIST', async () => {
    const plan = await planOverHttp(`${a.base}/interstitial/master.m3u8`, onlyA());
    expect(rows(plan, names())).toEqual(
      byKey([
        'playlist A/interstitial/ads/ad1/ad.m3u8 <- A/interstitial/ads/ad1/ad.m3u8',
        'segment A/interstitial/ads/ad1/ad-1.ts <- A/interstitial/ads/ad1/ad-1.ts',
        'segment A/interstitial/ads/ad1/ad-2.ts <- A/interstitial/ads/ad1/ad-2.ts',
        'playlist A/interstitial/ads/ad1/master.m3u8 <- A/interstitial/ads/ad1/master.m3u8',
        'data A/interstitial/ads/pod.json <- A/interstitial/ads/pod.json',
        'playlist A/interstitial/main.m3u8 <- A/interstitial/main.m3u8',
        'segment A/interstitial/main1.ts <- A/interstitial/main1.ts',
        'segment A/interstitial/main2.ts <- A/interstitial/main2.ts',
        'playlist A/interstitial/master.m3u8 <- A/interstitial/master.m3u8',
      ]),
    );
  });

  it('reads CRLF, a UTF-8 BOM, blank lines, comments and padding', async () => {
    const plan = await planOverHttp(`${a.base}/crlf/master.m3u8`, onlyA());
    expect(rows(plan, names())).toEqual(
      byKey([
        'playlist A/crlf/master.m3u8 <- A/crlf/master.m3u8',
        'playlist A/crlf/media.m3u8 <- A/crlf/media.m3u8',
        'init A/crlf/init.mp4 <- A/crlf/init.mp4',
        'segment A/crlf/seg1.ts <- A/crlf/seg1.ts',
        'segment A/crlf/seg2.ts <- A/crlf/seg2.ts',
      ]),
    );
  });

  it('decodes percent-encoding once, drops queries and fragments, resolves ./ and ../, skips non-http schemes', async () => {
    const plan = await planOverHttp(`${a.base}/encoding/media.m3u8`, { ...onlyA(), prefix: 'lib/' });
    expect(rows(plan, names())).toEqual(
      byKey([
        'playlist lib/A/encoding/media.m3u8 <- A/encoding/media.m3u8',
        'segment lib/A/encoding/b/seg 1.ts <- A/encoding/b/seg%201.ts',
        'segment lib/A/encoding/seg%20x.ts <- A/encoding/seg%2520x.ts',
        'segment lib/A/encoding/café.ts <- A/encoding/caf%C3%A9.ts',
        'segment lib/A/encoding/naïve.ts <- A/encoding/na%C3%AFve.ts',
        'segment lib/A/encoding/with space.ts <- A/encoding/with%20space.ts',
        'segment lib/A/encoding/q.ts <- A/encoding/q.ts?sig=1',
        'segment lib/A/abs/root.ts <- A/abs/root.ts',
        'segment lib/A/up.ts <- A/up.ts',
        'segment lib/A/way-up.ts <- A/way-up.ts',
        'segment lib/A/encoding/dir/double/slash.ts <- A/encoding/dir//double///slash.ts',
      ]),
    );
  });
});

describe('redirects', () => {
  it('fetches relative URIs from the final URL, and keys them where the copy of the playlist sits', async () => {
    const plan = await planOverHttp(`${a.base}/redirect/master.m3u8`, onlyA());
    expect(rows(plan, names())).toEqual(
      byKey([
        'playlist A/redirect/master.m3u8 <- A/redirect/master.m3u8',
        'playlist A/redirect/low/index.m3u8 <- A/real/v1/low/index.m3u8',
        'init A/redirect/init.mp4 <- A/real/v1/init.mp4',
        'segment A/redirect/low/seg1.ts <- A/real/v1/low/seg1.ts',
        'playlist A/redirect/moved.m3u8 <- A/real/v1/moved.m3u8',
        'key A/key.bin <- A/redirect-target/key.bin',
        'segment A/redirect/part1.ts <- A/redirect-target/sub/part1.ts',
        'segment A/abs/seg.ts <- A/abs/seg.ts',
      ]),
    );
  });

  it('keeps a class redirected to another allowed host under the master host', async () => {
    const plan = await planOverHttp(`${a.base}/redirect/cdn.m3u8`, both());
    expect(rows(plan, names())).toEqual(
      byKey([
        'playlist A/redirect/cdn.m3u8 <- A/redirect/cdn.m3u8',
        'playlist A/redirect/low/index.m3u8 <- B/real/v1/low/index.m3u8',
        'init A/redirect/init.mp4 <- B/real/v1/init.mp4',
        'segment A/redirect/low/seg1.ts <- B/real/v1/low/seg1.ts',
        'playlist A/redirect/moved.m3u8 <- B/real/v1/moved.m3u8',
        'key A/key.bin <- B/redirect-target/key.bin',
        'segment A/redirect/part1.ts <- B/redirect-target/sub/part1.ts',
        'segment A/abs/seg.ts <- B/abs/seg.ts',
      ]),
    );
  });

  it('refuses a redirect to a host outside ORIGIN_ALLOWED_HOSTS, naming it, without fetching there', async () => {
    const before = b.server.stats().requests;
    const err = await rejection(planOverHttp(`${a.base}/redirect/evil.m3u8`, onlyA()));
    expect(err).toBeInstanceOf(OriginError);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`"${b.host}"`);
    expect(err.message).toContain('ORIGIN_ALLOWED_HOSTS');
    expect(b.server.stats().requests).toBe(before);
  });
});

describe('bounds', () => {
  it('fetches each playlist once however often masters reference each other', async () => {
    const plan = await planOverHttp(`${a.base}/loop/a.m3u8`, onlyA());
    expect(rows(plan, names())).toEqual(
      byKey([
        'playlist A/loop/a.m3u8 <- A/loop/a.m3u8',
        'playlist A/loop/b.m3u8 <- A/loop/b.m3u8',
        'playlist A/loop/media.m3u8 <- A/loop/media.m3u8',
        'segment A/loop/seg1.ts <- A/loop/seg1.ts',
      ]),
    );
    for (const p of ['a', 'b', 'media']) expect(a.hits.get(`/loop/${p}.m3u8`)).toBe(1);
  });

  it('refuses masters nested deeper than HLS_MAX_DEPTH before fetching the next one', async () => {
    const err = await rejection(planOverHttp(`${a.base}/deep/level0.m3u8`, onlyA()));
    expect(err.code).toBe('TOO_DEEP');
    expect(err.message).toMatch(/level4\.m3u8.*deeper than 3 \(HLS_MAX_DEPTH\)/);
    expect(a.hits.get('/deep/level4.m3u8')).toBeUndefined();
    const plan = await planOverHttp(`${a.base}/deep/level0.m3u8`, { ...onlyA(), limits: { maxDepth: 5 } });
    expect(plan).toHaveLength(7);
  });

  it('counts interstitial assets as a level: master → media → asset master → asset media is depth 3', async () => {
    const err = await rejection(
      planOverHttp(`${a.base}/interstitial/master.m3u8`, { ...onlyA(), limits: { maxDepth: 2 } }),
    );
    expect(err.code).toBe('TOO_DEEP');
  });

  it('refuses more playlists than HLS_MAX_PLAYLISTS as soon as it sees them', async () => {
    const before = a.hits.get('/llhls/high.m3u8') ?? 0;
    const err = await rejection(
      planOverHttp(`${a.base}/llhls/master.m3u8`, { ...onlyA(), limits: { maxPlaylists: 2 } }),
    );
    expect(err.code).toBe('TOO_MANY_PLAYLISTS');
    expect(err.message).toMatch(/more than 2 playlists \(HLS_MAX_PLAYLISTS\)/);
    expect(a.hits.get('/llhls/high.m3u8') ?? 0).toBe(before);
  });

  it('refuses more files than HLS_MAX_FILES', async () => {
    const err = await rejection(planOverHttp(`${a.base}/multikey/media.m3u8`, { ...onlyA(), limits: { maxFiles: 5 } }));
    expect(err.code).toBe('TOO_MANY_FILES');
    expect(err.message).toMatch(/more than 5 files \(HLS_MAX_FILES\)/);
  });

  it('refuses a playlist over HLS_MAX_PLAYLIST_BYTES, declared or streamed', async () => {
    const big = `#EXTM3U\n#EXT-X-TARGETDURATION:4\n${'#EXTINF:4,\nsegment-with-a-long-name.ts\n'.repeat(100)}`;
    a.put('/big/declared.m3u8', big);
    a.put('/big/streamed.m3u8', big);
    // Streamed: chunked, no Content-Length to refuse it by before reading.
    for (const [path, framing] of [
      ['/big/declared.m3u8', 'length'],
      ['/big/streamed.m3u8', 'chunked'],
    ] as const) {
      a.server.setFaults({ framing });
      const err = await rejection(
        planOverHttp(`${a.base}${path}`, { ...onlyA(), limits: { maxPlaylistBytes: 2048 } }),
      ).finally(() => a.server.setFaults({}));
      expect(err.code).toBe('PLAYLIST_TOO_LARGE');
      expect(err.message).toContain('HLS_MAX_PLAYLIST_BYTES');
      expect(err.retryable).toBe(false);
    }
  });
});

describe('refusals', () => {
  it.each([
    ['bad/no-extm3u.m3u8', 'NOT_A_PLAYLIST', /does not start with #EXTM3U/],
    ['bad/html.m3u8', 'NOT_A_PLAYLIST', /<!DOCTYPE html>/],
    ['bad/variant-html.m3u8', 'NOT_A_PLAYLIST', /bad\/html\.m3u8 is not an HLS playlist/],
    ['bad/traversal.m3u8', 'UNSAFE_KEY', /"\.\." segment/],
    ['bad/control.m3u8', 'UNSAFE_KEY', /control characters/],
    ['bad/directory.m3u8', 'UNSAFE_KEY', /names a directory/],
    ['bad/foreign.m3u8', 'HOST_NOT_ALLOWED', /host "evil\.example" is not in ORIGIN_ALLOWED_HOSTS/],
  ])('%s → %s', async (path, code, message) => {
    const err = await rejection(planOverHttp(`${a.base}/${path}`, onlyA()));
    expect(err).toBeInstanceOf(PlaylistError);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('\n');
    expect(err.retryable).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['binary', Buffer.from([0x47, 0x40, 0x00, 0x10, 0x00, 0x00, 0xb0, 0x0d, 0x0a, 0x23, 0x45, 0x58, 0x54])],
    ['json', '{"error":"not found"}'],
    ['bom-only', '\ufeff\r\n'],
    ['binary-after-header', Buffer.concat([Buffer.from('#EXTM3U\n'), Buffer.from([0x00, 0xff, 0x00])])],
  ])('refuses a %s body as NOT_A_PLAYLIST', async (name, body) => {
    a.put(`/body/${name}.m3u8`, body);
    const err = await rejection(planOverHttp(`${a.base}/body/${name}.m3u8`, onlyA()));
    expect(err.code).toBe('NOT_A_PLAYLIST');
  });

  it('lets origin errors through unchanged: 503 stays retryable, 404 does not', async () => {
    // The lab origin's faults: a 5xx (500 or 503) for every request, then the file gone (404).
    a.put('/status/503.m3u8', '#EXTM3U\n');
    a.server.setFaults({ http5xx: 1 });
    const e503 = await rejection(planOverHttp(`${a.base}/status/503.m3u8`, onlyA())).finally(() =>
      a.server.setFaults({ gone: ['/status/404.m3u8'] }),
    );
    expect(e503).toBeInstanceOf(OriginError);
    expect(e503.retryable).toBe(true);
    const e404 = await rejection(planOverHttp(`${a.base}/status/404.m3u8`, onlyA())).finally(() =>
      a.server.setFaults({}),
    );
    expect(e404).toBeInstanceOf(OriginError);
    expect(e404.retryable).toBe(false);
  });

  it('refuses a master URL on a host outside the allow-list before any request', async () => {
    const before = b.server.stats().requests;
    const err = await rejection(planOverHttp(`${b.base}/llhls/master.m3u8`, onlyA()));
    expect(err.code).toBe('HOST_NOT_ALLOWED');
    expect(b.server.stats().requests).toBe(before);
  });
});
