// planClass over in-memory fetchers (order, dedupe, bounds, error propagation) and the local-file fetcher.
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planClass } from '../../src/hls/enumerate.ts';
import { PlaylistError } from '../../src/hls/errors.ts';
import { createFileFetcher } from '../../src/hls/file-fetcher.ts';
import { digestOfPlaylist } from '../../src/hls/reference-digest.ts';
import type { PlaylistFetcher } from '../../src/hls/types.ts';
import { OriginError } from '../../src/domain/ports/origin.ts';
import { H, endedMedia, LIMITS, memoryFetcher, planOptions, rejection } from './helpers.ts';

/** A playlist's reference digest: hex, what the plan id and the transfer compare. */
const HEX = expect.stringMatching(/^[0-9a-f]{64}$/) as unknown as string;

describe('planClass', () => {
  it('returns every file once, sorted by key, the first src winning a key', async () => {
    const f = memoryFetcher({
      [`${H}/c/master.m3u8`]:
        '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2\nhi.m3u8?v=1\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlo.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=3\nhi.m3u8?v=2',
      [`${H}/c/hi.m3u8?v=1`]: endedMedia('z.ts?sig=hi', 'a.ts'),
      [`${H}/c/lo.m3u8`]: endedMedia('z.ts?sig=lo', 'b.ts'),
    });
    const plan = await planClass(`${H}/c/master.m3u8`, f, planOptions({ destPrefix: 'lib' }));
    expect(plan).toEqual([
      { src: `${H}/c/a.ts`, key: 'lib/cdn.example.com/c/a.ts', kind: 'segment' },
      { src: `${H}/c/b.ts`, key: 'lib/cdn.example.com/c/b.ts', kind: 'segment' },
      { src: `${H}/c/hi.m3u8?v=1`, key: 'lib/cdn.example.com/c/hi.m3u8', kind: 'playlist', refs: HEX },
      { src: `${H}/c/lo.m3u8`, key: 'lib/cdn.example.com/c/lo.m3u8', kind: 'playlist', refs: HEX },
      { src: `${H}/c/master.m3u8`, key: 'lib/cdn.example.com/c/master.m3u8', kind: 'playlist', refs: HEX },
      { src: `${H}/c/z.ts?sig=hi`, key: 'lib/cdn.example.com/c/z.ts', kind: 'segment' },
    ]);
    expect(f.fetched).toEqual([`${H}/c/master.m3u8`, `${H}/c/hi.m3u8?v=1`, `${H}/c/lo.m3u8`]);
  });

  it('gives the same plan whatever order fetches finish in', async () => {
    const pages: Record<string, string> = {
      [`${H}/m.m3u8`]: `#EXTM3U\n${Array.from({ length: 12 }, (_, i) => `#EXT-X-STREAM-INF:BANDWIDTH=${i}\nv${i}.m3u8`).join('\n')}`,
    };
    for (let i = 0; i < 12; i++) pages[`${H}/v${i}.m3u8`] = endedMedia(`shared.ts?from=${i}`, `own-${i}.ts`);
    const inner = memoryFetcher(pages);
    const jittery: PlaylistFetcher = {
      async fetchText(url, o) {
        await new Promise((r) => setTimeout(r, Math.random() * 10));
        return inner.fetchText(url, o);
      },
    };
    const first = await planClass(`${H}/m.m3u8`, jittery, planOptions({ concurrency: 6 }));
    for (let run = 0; run < 3; run++)
      expect(await planClass(`${H}/m.m3u8`, jittery, planOptions({ concurrency: 6 }))).toEqual(first);
    expect(first.find((f) => f.key === 'cdn.example.com/shared.ts')?.src).toBe(`${H}/shared.ts?from=0`);
  });

  it('fetches a URI as a playlist if any reference says it is one, even after it was seen as a segment', async () => {
    const f = memoryFetcher({
      [`${H}/m.m3u8`]: '#EXTM3U\n#EXT-X-SESSION-DATA:DATA-ID="x",URI="v.m3u8"\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8',
      [`${H}/v.m3u8`]: endedMedia('s.ts'),
    });
    const plan = await planClass(`${H}/m.m3u8`, f, planOptions());
    expect(plan.map((p) => `${p.kind} ${p.key}`)).toEqual([
      'playlist cdn.example.com/m.m3u8',
      'segment cdn.example.com/s.ts',
      'playlist cdn.example.com/v.m3u8',
    ]);
  });

  it("treats rendition reports as siblings (no extra depth) and hands them the master's variables", async () => {
    const f = memoryFetcher({
      [`${H}/m.m3u8`]: '#EXTM3U\n#EXT-X-DEFINE:NAME="n",VALUE="x"\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8',
      [`${H}/a.m3u8`]: '#EXTM3U\n#EXT-X-DEFINE:IMPORT="n"\n#EXTINF:4,\na-{$n}.ts\n#EXT-X-RENDITION-REPORT:URI="b.m3u8"',
      [`${H}/b.m3u8`]: '#EXTM3U\n#EXT-X-DEFINE:IMPORT="n"\n#EXTINF:4,\nb-{$n}.ts\n#EXT-X-RENDITION-REPORT:URI="c.m3u8"',
      [`${H}/c.m3u8`]: '#EXTM3U\n#EXTINF:4,\nc.ts',
    });
    const plan = await planClass(`${H}/m.m3u8`, f, planOptions({ limits: { ...LIMITS, maxDepth: 1 } }));
    expect(plan.map((p) => p.key)).toEqual(
      ['a-x.ts', 'a.m3u8', 'b-x.ts', 'b.m3u8', 'c.m3u8', 'c.ts', 'm.m3u8'].map((k) => `cdn.example.com/${k}`),
    );
  });

  it("starts interstitial assets afresh: they cannot IMPORT the main presentation's variables", async () => {
    const f = memoryFetcher({
      [`${H}/m.m3u8`]: '#EXTM3U\n#EXT-X-DEFINE:NAME="n",VALUE="x"\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8',
      [`${H}/a.m3u8`]:
        '#EXTM3U\n#EXTINF:4,\na.ts\n#EXT-X-DATERANGE:ID="i",START-DATE="2024-01-01T00:00:00Z",X-ASSET-URI="ad.m3u8"',
      [`${H}/ad.m3u8`]: '#EXTM3U\n#EXT-X-DEFINE:IMPORT="n"\n#EXTINF:4,\n{$n}.ts',
    });
    expect((await rejection(planClass(`${H}/m.m3u8`, f, planOptions()))).code).toBe('BAD_DEFINE');
  });

  it('keys what a redirected playlist references where its copy sits, and fetches it from where it lives', async () => {
    const f = memoryFetcher({
      [`${H}/c/master.m3u8`]: { redirect: '/store/x/master.m3u8?t=9' },
      [`${H}/store/x/master.m3u8?t=9`]:
        '#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="t"\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv/index.m3u8?t={$t}',
      [`${H}/store/x/v/index.m3u8?t=9`]: endedMedia('s.ts'),
    });
    const plan = await planClass(`${H}/c/master.m3u8`, f, planOptions());
    expect(plan).toEqual([
      { src: `${H}/c/master.m3u8`, key: 'cdn.example.com/c/master.m3u8', kind: 'playlist', refs: HEX },
      {
        src: `${H}/store/x/v/index.m3u8?t=9`,
        key: 'cdn.example.com/c/v/index.m3u8',
        kind: 'playlist',
        refs: HEX,
        // Where its copy sits: what a transfer keys its references from, reading it alone (issue 18, case 1).
        base: `${H}/c/v/index.m3u8?t=9`,
      },
      { src: `${H}/store/x/v/s.ts`, key: 'cdn.example.com/c/v/s.ts', kind: 'segment' },
    ]);
    const v = plan[1]!;
    expect(
      digestOfPlaylist(endedMedia('s.ts'), {
        src: v.src,
        finalUrl: v.src,
        ...(v.base ? { base: v.base } : {}),
        root: '',
      }),
    ).toBe(v.refs);
  });

  it("refuses a fetcher's final URL on a host outside the allow-list", async () => {
    const f = memoryFetcher({
      [`${H}/m.m3u8`]: { redirect: 'https://elsewhere.example/m.m3u8' },
      'https://elsewhere.example/m.m3u8': endedMedia('a.ts'),
    });
    const err = await rejection(planClass(`${H}/m.m3u8`, f, planOptions()));
    expect(err.code).toBe('HOST_NOT_ALLOWED');
    expect(err.message).toContain('"elsewhere.example"');
  });

  it('passes fetch errors through unchanged, so the pipeline can retry transient ones', async () => {
    const transient = new OriginError('ORIGIN_HTTP_STATUS', 'origin answered HTTP 503', {
      url: `${H}/v.m3u8`,
      status: 503,
      retryable: true,
    });
    const f: PlaylistFetcher = {
      async fetchText(url) {
        if (url.endsWith('/m.m3u8'))
          return { url, body: '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8', contentType: undefined };
        throw transient;
      },
    };
    expect(await rejection(planClass(`${H}/m.m3u8`, f, planOptions()))).toBe(transient);
  });

  it('enforces HLS_MAX_PLAYLIST_BYTES itself, whatever the fetcher does', async () => {
    const f = memoryFetcher({ [`${H}/m.m3u8`]: endedMedia(...Array.from({ length: 200 }, (_, i) => `s${i}.ts`)) });
    const err = await rejection(
      planClass(`${H}/m.m3u8`, f, planOptions({ limits: { ...LIMITS, maxPlaylistBytes: 1024 } })),
    );
    expect(err).toBeInstanceOf(PlaylistError);
    expect(err.code).toBe('PLAYLIST_TOO_LARGE');
    expect(err.message).toMatch(/over the 1024-byte cap \(HLS_MAX_PLAYLIST_BYTES\)/);
  });

  it('stops at the file cap while reading, not after', async () => {
    let served = 0;
    const f: PlaylistFetcher = {
      async fetchText(url) {
        served++;
        return { url, body: endedMedia(...Array.from({ length: 1000 }, (_, i) => `s${i}.ts`)), contentType: undefined };
      },
    };
    const err = await rejection(planClass(`${H}/m.m3u8`, f, planOptions({ limits: { ...LIMITS, maxFiles: 10 } })));
    expect(err.code).toBe('TOO_MANY_FILES');
    expect(err.message).toMatch(/s9\.ts/);
    expect(served).toBe(1);
  });

  it('refuses master URLs it cannot fetch', async () => {
    const f = memoryFetcher({});
    expect((await rejection(planClass('not a url', f, planOptions()))).code).toBe('BAD_URI');
    expect((await rejection(planClass('ftp://cdn.example.com/m.m3u8', f, planOptions()))).code).toBe('BAD_URI');
    expect((await rejection(planClass('https://other.example/m.m3u8', f, planOptions()))).code).toBe(
      'HOST_NOT_ALLOWED',
    );
    expect(f.fetched).toEqual([]);
  });

  it("honours an abort signal, reporting it as the crawl's deadline (retryable)", async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    const err = await rejection(
      planClass(
        `${H}/m.m3u8`,
        memoryFetcher({ [`${H}/m.m3u8`]: endedMedia('a.ts') }),
        planOptions({ signal: ac.signal }),
      ),
    );
    expect(err).toMatchObject({ code: 'CRAWL_DEADLINE', retryable: true });
    expect(err.message).toBe(`crawl of ${H}/m.m3u8 stopped before it finished: stop`);
  });

  it('allows hosts by wildcard and skips non-http(s) references silently', async () => {
    const f = memoryFetcher({
      [`${H}/m.m3u8`]:
        '#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://k"\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="https://keys.example.com/k"\n#EXTINF:4,\ndata:,x\n#EXTINF:4,\nfile:///etc/passwd\n#EXTINF:4,\na.ts',
    });
    const plan = await planClass(`${H}/m.m3u8`, f, planOptions({ allowedHosts: ['*.example.com'] }));
    expect(plan.map((p) => p.key)).toEqual(['cdn.example.com/a.ts', 'cdn.example.com/m.m3u8', 'keys.example.com/k']);
  });
});

describe('createFileFetcher (flants plan <file>)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flants-hls-'));
    await mkdir(join(dir, 'class/v1'), { recursive: true });
    await writeFile(join(dir, 'class/master.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv1/index.m3u8\n');
    await writeFile(join(dir, 'class/v1/index.m3u8'), endedMedia('a b.ts', '../init.mp4'));
    await writeFile(join(dir, 'secret.m3u8'), endedMedia('secret.ts'));
    await writeFile(join(dir, 'class/escape.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n../secret.m3u8\n');
    await symlink(join(dir, 'secret.m3u8'), join(dir, 'class/link.m3u8'));
    await writeFile(join(dir, 'class/via-link.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlink.m3u8\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const master = (name: string) => pathToFileURL(join(dir, 'class', name)).href;
  const fetcher = () => createFileFetcher(join(dir, 'class'));
  const fileOpts = planOptions({ allowedHosts: [], allowFiles: true });

  it("plans a local class with file: sources and keys relative to the master's directory", async () => {
    const plan = await planClass(master('master.m3u8'), fetcher(), fileOpts);
    expect(plan.map((p) => `${p.kind} ${p.key}`)).toEqual([
      'segment init.mp4',
      'playlist master.m3u8',
      'segment v1/a b.ts',
      'playlist v1/index.m3u8',
    ]);
    expect(plan[0]?.src).toBe(pathToFileURL(join(dir, 'class/init.mp4')).href);
  });

  it('refuses file: masters unless asked to (a catalog URL must never read local files)', async () => {
    expect((await rejection(planClass(master('master.m3u8'), fetcher(), planOptions()))).code).toBe('BAD_URI');
  });

  it('refuses to read or list anything outside that directory, symlinks included', async () => {
    expect((await rejection(planClass(master('escape.m3u8'), fetcher(), fileOpts))).code).toBe('UNSAFE_KEY');
    const viaLink = await rejection(planClass(master('via-link.m3u8'), fetcher(), fileOpts));
    expect(viaLink.code).toBe('UNSAFE_KEY');
    expect(viaLink.message).toMatch(/outside/);
  });

  it('reports missing and oversized files', async () => {
    expect((await rejection(planClass(master('nope.m3u8'), fetcher(), fileOpts))).code).toBe('FILE_NOT_FOUND');
    const big = await rejection(
      planClass(
        master('master.m3u8'),
        fetcher(),
        planOptions({ allowedHosts: [], allowFiles: true, limits: { ...LIMITS, maxPlaylistBytes: 10 } }),
      ),
    );
    expect(big.code).toBe('PLAYLIST_TOO_LARGE');
  });
});
