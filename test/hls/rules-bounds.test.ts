// The bounds and bookkeeping of enumeration, key mapping and line reading: each limit exact at its
// edge, each record of what was read kept, each message naming what it refuses.
import { describe, expect, it } from 'vitest';
import { parseAttributes } from '../../src/hls/attributes.ts';
import { enumerateClass, planClass } from '../../src/hls/enumerate.ts';
import { fileIdentity, keyForUrl, MAX_KEY_BYTES } from '../../src/hls/keys.ts';
import { readLines } from '../../src/hls/lines.ts';
import { scanPlaylist } from '../../src/hls/scan.ts';
import type { PlaylistFetcher } from '../../src/hls/types.ts';
import { H, endedMedia, LIMITS, memoryFetcher, planOptions, playlistErrorOf, rejection } from './helpers.ts';

describe('enumeration: what grows, what it costs, what it records', () => {
  it('lists the media playlists without EXT-X-ENDLIST, sorted, and nothing else', async () => {
    const f = memoryFetcher({
      [`${H}/m.m3u8`]:
        '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2\nz.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=3\ndone.m3u8',
      [`${H}/z.m3u8`]: '#EXTM3U\n#EXTINF:4,\nz1.ts\n',
      [`${H}/a.m3u8`]: '#EXTM3U\n#EXTINF:4,\na1.ts\n',
      [`${H}/done.m3u8`]: endedMedia('d1.ts'),
    });
    expect((await enumerateClass(`${H}/m.m3u8`, f, planOptions())).growing).toEqual([`${H}/a.m3u8`, `${H}/z.m3u8`]);
    const ended = memoryFetcher({ [`${H}/m.m3u8`]: endedMedia('a.ts') });
    expect((await enumerateClass(`${H}/m.m3u8`, ended, planOptions())).growing).toEqual([]);
  });

  it('stops once the playlists fetched exceed HLS_MAX_CRAWL_BYTES, and not at exactly the budget', async () => {
    const master = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n';
    const variant = endedMedia('a.ts');
    const f = () => memoryFetcher({ [`${H}/m.m3u8`]: master, [`${H}/v.m3u8`]: variant });
    const total = master.length + variant.length;
    const limits = (maxCrawlBytes: number) => planOptions({ limits: { ...LIMITS, maxCrawlBytes } });
    expect(await planClass(`${H}/m.m3u8`, f(), limits(total))).toHaveLength(3);
    const err = await rejection(planClass(`${H}/m.m3u8`, f(), limits(total - 1)));
    expect(err.code).toBe('CRAWL_TOO_LARGE');
    expect(err.message).toBe(
      `class ${H}/m.m3u8 fetched more than ${total - 1} bytes of playlists (HLS_MAX_CRAWL_BYTES); stopped at ${H}/v.m3u8`,
    );
  });

  it('takes a playlist of exactly HLS_MAX_PLAYLIST_BYTES', async () => {
    const body = endedMedia('a.ts');
    const f = memoryFetcher({ [`${H}/m.m3u8`]: body });
    expect(
      await planClass(`${H}/m.m3u8`, f, planOptions({ limits: { ...LIMITS, maxPlaylistBytes: body.length } })),
    ).toHaveLength(2);
  });

  it("records each playlist's length and digest as the fetcher reported them, its own length when it gave none", async () => {
    const body = endedMedia('a.ts');
    const fetcher = (bytes: number | undefined): PlaylistFetcher => ({
      fetchText: async (url) => ({ url, body, contentType: undefined, bytes, sha256: 'f'.repeat(64) }),
    });
    const masterOf = async (f: PlaylistFetcher) =>
      (await planClass(`${H}/m.m3u8`, f, planOptions())).find((p) => p.kind === 'playlist');
    const master = await masterOf(fetcher(999));
    expect(master).toMatchObject({ key: 'cdn.example.com/m.m3u8', bytes: 999, sha256: 'f'.repeat(64) });
    const again = await masterOf(fetcher(undefined));
    expect(again).toMatchObject({ bytes: body.length, sha256: 'f'.repeat(64) });
    const none = await masterOf(memoryFetcher({ [`${H}/m.m3u8`]: body }));
    expect(none).not.toHaveProperty('sha256');
  });

  it('names the playlist that referenced a URL it cannot key, and not for the master itself', async () => {
    const f = memoryFetcher({ [`${H}/m.m3u8`]: endedMedia('dir/') });
    const err = await rejection(planClass(`${H}/m.m3u8`, f, planOptions()));
    expect(err.message).toBe(`refusing ${H}/dir/: its path names a directory, not a file (referenced by ${H}/m.m3u8)`);
    const master = await rejection(planClass(`${H}/dir/`, memoryFetcher({}), planOptions()));
    expect(master.message).toBe(`refusing ${H}/dir/: its path names a directory, not a file`);
  });

  it('names the master URL it refuses, and why', async () => {
    expect((await rejection(planClass('not a url', memoryFetcher({}), planOptions()))).message).toBe(
      'master playlist URL "not a url" is not an absolute URL',
    );
    expect((await rejection(planClass('ftp://cdn.example.com/m.m3u8', memoryFetcher({}), planOptions()))).message).toBe(
      'master playlist URL ftp://cdn.example.com/m.m3u8 must be http(s)',
    );
    expect((await rejection(planClass('https://other.example/m.m3u8', memoryFetcher({}), planOptions()))).message).toBe(
      'host "other.example" is not in ORIGIN_ALLOWED_HOSTS: refusing master playlist https://other.example/m.m3u8',
    );
  });

  it('refuses a redirect to a host outside the allow-list, naming the redirect', async () => {
    const f = memoryFetcher({
      [`${H}/m.m3u8`]: { redirect: 'https://elsewhere.example/m.m3u8' },
      'https://elsewhere.example/m.m3u8': endedMedia('a.ts'),
    });
    const err = await rejection(planClass(`${H}/m.m3u8`, f, planOptions()));
    expect(err.message).toContain(`(referenced by a redirect from ${H}/m.m3u8)`);
  });

  it('a playlist fetched after a redirect to a non-http URL is refused', async () => {
    const f: PlaylistFetcher = {
      fetchText: async () => ({
        url: 'ftp://cdn.example.com/m.m3u8',
        body: endedMedia('a.ts'),
        contentType: undefined,
      }),
    };
    const err = await rejection(planClass(`${H}/m.m3u8`, f, planOptions()));
    expect(err.code).toBe('BAD_URI');
    expect(err.message).toBe(`playlist ${H}/m.m3u8 ended at ftp://cdn.example.com/m.m3u8, which is not http(s)`);
  });
});

describe('keys: only a local class has file: files, and keys are bounded', () => {
  const master = new URL(`${H}/c/m.m3u8`);
  it('refuses a file: URL in a class served over http', () => {
    const err = playlistErrorOf(() => keyForUrl(new URL('file:///etc/passwd'), master, 'p/'));
    expect(err.message).toBe('refusing file:///etc/passwd: a file: URL in a class whose master is not a file');
  });

  it('takes a key of exactly MAX_KEY_BYTES, not one byte more', () => {
    const root = 'p/';
    const name = (n: number) => 'a'.repeat(n - root.length - 'cdn.example.com/'.length);
    expect(keyForUrl(new URL(`${H}/${name(MAX_KEY_BYTES)}`), master, root)).toHaveLength(MAX_KEY_BYTES);
    expect(playlistErrorOf(() => keyForUrl(new URL(`${H}/${name(MAX_KEY_BYTES + 1)}`), master, root)).code).toBe(
      'UNSAFE_KEY',
    );
  });

  it('refuses a key that would start with "/" (a root of "/")', () => {
    expect(playlistErrorOf(() => keyForUrl(new URL(`${H}/a.ts`), master, '/')).message).toBe(
      `refusing ${H}/a.ts: it maps to a key starting with "/"`,
    );
    expect(keyForUrl(new URL(`${H}/a/`.slice(0, -1)), master, 'p/')).toBe('p/cdn.example.com/a');
  });
});

describe('fileIdentity: one file, however its URL is written', () => {
  it('upper-cases escapes it keeps, decodes the unreserved ones only, lower-cases the host', () => {
    expect(fileIdentity(new URL('https://CDN.Example.com/a%2fb%7e%41.ts'))).toBe('cdn.example.com/a%2Fb~A.ts');
    expect(fileIdentity(new URL('https://cdn.example.com/%2d%2E%5f'))).toBe('cdn.example.com/-._');
    expect(fileIdentity(new URL('https://cdn.example.com/%20%2a'))).toBe('cdn.example.com/%20%2A');
  });

  it('identifies a local file by its path alone', () => {
    expect(fileIdentity(new URL('file:///srv/c/a.ts'))).toBe('/srv/c/a.ts');
  });
});

describe('lines and attributes at their edges', () => {
  it('drops a BOM only at the very start', () => {
    expect(readLines('\ufeff#EXTM3U')).toEqual([{ type: 'tag', name: 'EXTM3U', value: undefined, line: 1 }]);
    expect(readLines('#EXTM3U\na\ufeff.ts')[1]).toEqual({ type: 'uri', uri: 'a\ufeff.ts', line: 2 });
  });

  it('reads a tag with a colon right after "#" as a name and a value, trimmed', () => {
    expect(readLines('#EXT-X-A :  v ')).toEqual([{ type: 'tag', name: 'EXT-X-A', value: 'v', line: 1 }]);
    expect(readLines('#EXT-X-B  ')).toEqual([{ type: 'tag', name: 'EXT-X-B', value: undefined, line: 1 }]);
  });

  it('reads a quoted value after a tab, and keeps its commas', () => {
    expect([...parseAttributes('A=\t"x,y"')]).toEqual([['A', { value: 'x,y', quoted: true }]]);
    expect([...parseAttributes('A="x",B="y"')].map(([k, v]) => `${k}=${v.value}`)).toEqual(['A=x', 'B=y']);
    expect([...parseAttributes('A="x" junk,B=2')].map(([k, v]) => `${k}=${v.value}`)).toEqual(['A=x', 'B=2']);
  });
});

describe('variables at their edges', () => {
  const scanAt = (url: string, text: string) => scanPlaylist(text, { baseUrl: new URL(url) });
  const define = '#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="a b"\n#EXTINF:4,\ns.ts?t={$a b}';

  it('matches a QUERYPARAM name written with "+" for a space, and skips a pair with no name', () => {
    const text = '#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="t"\n#EXTINF:4,\ns.ts?v={$t}';
    expect(scanAt(`${H}/p.m3u8?=x&t=1`, text).references[0]!.url.href).toBe(`${H}/s.ts?v=1`);
    expect(playlistErrorOf(() => scanAt(`${H}/p.m3u8?=1`, text)).code).toBe('BAD_DEFINE');
    expect(playlistErrorOf(() => scanAt(`${H}/p.m3u8?a+b=1`, define)).code).toBe('BAD_DEFINE');
  });

  it('says what is wrong with a definition', () => {
    const at = (d: string) => playlistErrorOf(() => scanAt(`${H}/p.m3u8`, `#EXTM3U\n${d}\n#EXTINF:4,\ns.ts`)).message;
    expect(at('#EXT-X-DEFINE:VALUE="1"')).toBe(
      `${H}/p.m3u8 line 2: EXT-X-DEFINE needs exactly one of NAME, IMPORT or QUERYPARAM`,
    );
    expect(at('#EXT-X-DEFINE:NAME="a.b",VALUE="1"')).toBe(
      `${H}/p.m3u8 line 2: EXT-X-DEFINE NAME="a.b" is not a valid variable name`,
    );
    expect(at('#EXT-X-DEFINE:NAME="a",VALUE=1')).toBe(`${H}/p.m3u8 line 2: EXT-X-DEFINE NAME="a" has no quoted VALUE`);
  });

  it('leaves text without a reference as it is, and a "{$" with no name too', () => {
    const s = scanAt(`${H}/p.m3u8`, '#EXTM3U\n#EXTINF:4,\na{$.ts\n#EXTINF:4,\nb$x}.ts');
    expect(s.references.map((r) => r.uri)).toEqual(['a{$.ts', 'b$x}.ts']);
  });
});

describe('scan: what a reference records', () => {
  it('names a URI line by the tag "URI", and cuts an invalid URI to 200 characters in the message', () => {
    const s = scanPlaylist('#EXTM3U\n#EXTINF:4,\na.ts', { baseUrl: new URL(`${H}/p.m3u8`) });
    expect(s.references[0]).toMatchObject({ tag: 'URI', line: 3, kind: 'segment' });
    const long = `http://[${'x'.repeat(300)}`;
    const err = playlistErrorOf(() =>
      scanPlaylist(`#EXTM3U\n#EXTINF:4,\n${long}`, { baseUrl: new URL(`${H}/p.m3u8`) }),
    );
    expect(err.message).toBe(`${H}/p.m3u8 line 3: URI URI "${long.slice(0, 200)}" is not a valid URI`);
  });
});

describe('attribute lists: separators', () => {
  it('skips leading, doubled and trailing commas and spaces around names', () => {
    const names = (t: string) => [...parseAttributes(t)].map(([k, v]) => `${k}=${v.value}`);
    expect(names(',A=1')).toEqual(['A=1']);
    expect(names(', ,A=1,,\tB=2, ,')).toEqual(['A=1', 'B=2']);
    expect(names(' , ')).toEqual([]);
  });
});
