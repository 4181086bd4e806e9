// The edges of the HLS rules: inputs at the boundary of what each rule accepts, one rule per block.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAttributes } from '../../src/hls/attributes.ts';
import { planClass } from '../../src/hls/enumerate.ts';
import { PlaylistError } from '../../src/hls/errors.ts';
import { createFileFetcher } from '../../src/hls/file-fetcher.ts';
import { classRoot, classSegment, keyForUrl } from '../../src/hls/keys.ts';
import { scanPlaylist } from '../../src/hls/scan.ts';
import { H, endedMedia, memoryFetcher, planOptions, playlistErrorOf, rejection } from './helpers.ts';

describe('class segments: an id is its own segment, only "." and ".." are escaped', () => {
  it('keeps dots inside an id as they are', () => {
    expect(classSegment('v1.2')).toBe('v1.2');
    expect(classSegment('...')).toBe('...');
    expect(classSegment('.hidden')).toBe('.hidden');
    expect(classRoot('media/', 'course.2024:01')).toBe('media/course.2024%3A01/');
  });

  it('escapes an id that is exactly "." or "..", which S3 keys and URLs would read as a directory', () => {
    expect(classSegment('.')).toBe('%2E');
    expect(classSegment('..')).toBe('%2E%2E');
  });

  it('refuses an empty id', () => {
    const err = playlistErrorOf(() => classSegment(''));
    expect(err.code).toBe('UNSAFE_KEY');
    expect(err.message).toBe('a class id is empty');
  });
});

describe('keys: a URL whose path decodes to nothing names no file', () => {
  const master = new URL(`${H}/m.m3u8`);
  it.each([`${H}/%2F`, `${H}/%2F%2F`, `${H}/a/..%2F`])('refuses %s', (url) => {
    const err = playlistErrorOf(() => keyForUrl(new URL(url), master, 'p/'));
    expect(err.code).toBe('UNSAFE_KEY');
  });

  it('says the key would be empty', () => {
    expect(playlistErrorOf(() => keyForUrl(new URL(`${H}/%2F`), master, 'p/')).message).toBe(
      `refusing ${H}/%2F: it maps to an empty key`,
    );
  });
});

describe('attribute lists: every token is consumed, and the parse always ends', () => {
  it('skips a trailing bare token after an attribute', () => {
    expect([...parseAttributes('A=1,BARE')]).toEqual([['A', { value: '1', quoted: false }]]);
    expect([...parseAttributes('BARE')]).toEqual([]);
    expect([...parseAttributes('A="x",BARE')]).toEqual([['A', { value: 'x', quoted: true }]]);
  });

  it('skips a bare token between attributes, and keeps both sides', () => {
    expect(Object.fromEntries([...parseAttributes('A=1,BARE,B="2"')].map(([k, v]) => [k, v.value]))).toEqual({
      A: '1',
      B: '2',
    });
  });

  it('reads an attribute after a quoted value with no comma as the next one, and ignores spaces and tabs', () => {
    expect(Object.fromEntries([...parseAttributes(' \tA = "x" ,\t B=\t2 ')].map(([k, v]) => [k, v.value]))).toEqual({
      A: 'x',
      B: '2',
    });
  });

  it('reads an unquoted value up to the next comma, trimmed, and an empty one as empty', () => {
    expect([...parseAttributes('A= 1 ,B=')]).toEqual([
      ['A', { value: '1', quoted: false }],
      ['B', { value: '', quoted: false }],
    ]);
  });
});

describe('URIs: one of only whitespace names nothing', () => {
  it('ignores URI="  " and a URI that is only whitespace after substitution', () => {
    const text =
      '#EXTM3U\n#EXT-X-DEFINE:NAME="sp",VALUE="   "\n#EXT-X-MAP:URI="  "\n#EXT-X-KEY:METHOD=AES-128,URI="{$sp}"\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST';
    const refs = scanPlaylist(text, { baseUrl: new URL(`${H}/v/index.m3u8`) }).references;
    expect(refs.map((r) => `${r.kind} ${r.url.href}`)).toEqual([`segment ${H}/v/a.ts`]);
  });
});

describe('multivariant playlists: recognised by any tag only they carry', () => {
  it.each([
    ['EXT-X-STREAM-INF', '#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8'],
    ['EXT-X-I-FRAME-STREAM-INF', '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI="i.m3u8"'],
    ['EXT-X-IMAGE-STREAM-INF', '#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=1,URI="img.m3u8"'],
    ['EXT-X-MEDIA', '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="a.m3u8"'],
    ['EXT-X-SESSION-DATA', '#EXT-X-SESSION-DATA:DATA-ID="com.x",URI="d.json"'],
    ['EXT-X-SESSION-KEY', '#EXT-X-SESSION-KEY:METHOD=AES-128,URI="k.bin"'],
    ['EXT-X-CONTENT-STEERING', '#EXT-X-CONTENT-STEERING:SERVER-URI="s.json"'],
  ])('%s alone makes a playlist multivariant, whose stray URI lines are junk', (_tag, tagLines) => {
    const s = scanPlaylist(`#EXTM3U\n${tagLines}\njunk-after.txt\n`, { baseUrl: new URL(`${H}/m.m3u8`) });
    expect(s.type).toBe('multivariant');
    expect(s.references.map((r) => r.url.href)).not.toContain(`${H}/junk-after.txt`);
    expect(s.ended).toBe(false);
  });

  it('a media playlist is not multivariant, and says whether it ended', () => {
    const url = { baseUrl: new URL(`${H}/v.m3u8`) };
    expect(scanPlaylist(endedMedia('a.ts'), url)).toMatchObject({ type: 'media', ended: true });
    expect(scanPlaylist('#EXTM3U\n#EXTINF:4,\na.ts\n', url)).toMatchObject({ type: 'media', ended: false });
  });
});

describe('QUERYPARAM: a redirect that drops the query still defines the variable', () => {
  it('takes the value from the URL the playlist was requested with', async () => {
    const f = memoryFetcher({
      [`${H}/c/master.m3u8?t=9`]: { redirect: '/store/x/master.m3u8' },
      [`${H}/store/x/master.m3u8`]:
        '#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="t"\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8?t={$t}',
      [`${H}/store/x/v.m3u8?t=9`]: endedMedia('s.ts'),
    });
    const plan = await planClass(`${H}/c/master.m3u8?t=9`, f, planOptions());
    expect(plan.map((p) => `${p.key} <- ${p.src}`)).toEqual([
      `cdn.example.com/c/master.m3u8 <- ${H}/c/master.m3u8?t=9`,
      `cdn.example.com/c/s.ts <- ${H}/store/x/s.ts`,
      `cdn.example.com/c/v.m3u8 <- ${H}/store/x/v.m3u8?t=9`,
    ]);
  });

  it('without a redirect, the playlist URL is the only source', async () => {
    const f = memoryFetcher({
      [`${H}/m.m3u8`]: '#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="t"\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8?t={$t}',
    });
    expect((await rejection(planClass(`${H}/m.m3u8`, f, planOptions()))).code).toBe('BAD_DEFINE');
  });
});

describe('local classes: "//host/x" under a file: master is neither a local file nor http', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flants-hls-host-'));
    await mkdir(join(dir, 'class'), { recursive: true });
    await writeFile(join(dir, 'class/master.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n//host/x.m3u8\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses file://host/x, saying to serve the class over http(s)', async () => {
    const err = await rejection(
      planClass(pathToFileURL(join(dir, 'class/master.m3u8')).href, createFileFetcher(join(dir, 'class')), {
        ...planOptions({ allowedHosts: [], allowFiles: true }),
      }),
    );
    expect(err).toBeInstanceOf(PlaylistError);
    expect(err.code).toBe('BAD_URI');
    expect(err.message).toBe(
      'cannot resolve file://host/x.m3u8 under a local master playlist; serve the class over http(s) instead',
    );
  });
});
