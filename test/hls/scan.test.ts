// The pure, one-playlist parts: attribute lists, line reading, variables and the scanner (no HTTP).
import { describe, expect, it } from 'vitest';
import { parseAttributes } from '../../src/hls/attributes.ts';
import { readLines } from '../../src/hls/lines.ts';
import { scanPlaylist, type ScanContext } from '../../src/hls/scan.ts';
import { playlistErrorOf } from './helpers.ts';

const BASE = new URL('https://cdn.example.com/vod/class-1/master.m3u8');

function scan(text: string, ctx: Partial<ScanContext> = {}) {
  return scanPlaylist(text, { baseUrl: BASE, ...ctx });
}

function refs(text: string, ctx: Partial<ScanContext> = {}): string[] {
  return scan(text, ctx).references.map((r) => `${r.kind}${r.playlist ? `(${r.playlist.role})` : ''} ${r.url.href}`);
}

describe('parseAttributes', () => {
  it('reads quoted values with commas, unquoted values, and tolerates spaces and trailing commas', () => {
    const a = parseAttributes('BANDWIDTH=1, CODECS="avc1.4d401f,mp4a.40.2" ,URI="a b.m3u8",AUDIO="x",');
    expect(Object.fromEntries([...a].map(([k, v]) => [k, v.value]))).toEqual({
      BANDWIDTH: '1',
      CODECS: 'avc1.4d401f,mp4a.40.2',
      URI: 'a b.m3u8',
      AUDIO: 'x',
    });
    expect(a.get('URI')?.quoted).toBe(true);
    expect(a.get('BANDWIDTH')?.quoted).toBe(false);
  });

  it('survives an unterminated quote and bare tokens', () => {
    expect(parseAttributes('JUNK,URI="never-closed').get('URI')?.value).toBe('never-closed');
    expect(parseAttributes(undefined).size).toBe(0);
  });
});

describe('readLines', () => {
  it('drops the BOM, blank lines and comments, splits CRLF, CR and LF, trims padding', () => {
    const lines = readLines('\ufeff#EXTM3U\r\n\r\n# comment\r#EXT-X-VERSION:3  \n\t seg.ts \t\n');
    expect(lines).toEqual([
      { type: 'tag', name: 'EXTM3U', value: undefined, line: 1 },
      { type: 'tag', name: 'EXT-X-VERSION', value: '3', line: 4 },
      { type: 'uri', uri: 'seg.ts', line: 5 },
    ]);
  });
});

describe('scanPlaylist: what is a playlist', () => {
  it.each([
    ['empty', '', /body is empty/],
    ['whitespace', ' \r\n\t\n', /body is empty/],
    ['HTML', '<!DOCTYPE html>\n<html></html>', /does not start with #EXTM3U \(line 1 is "<!DOCTYPE html>"\)/],
    ['missing header', '#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts', /does not start with #EXTM3U/],
    ['binary', '#EXTM3U\n\u0000\u0001', /binary/],
    ['header later', '#EXTINF:4,\na.ts\n#EXTM3U', /does not start with #EXTM3U/],
  ])('refuses %s', (_name, text, message) => {
    const err = playlistErrorOf(() => scan(text));
    expect(err.code).toBe('NOT_A_PLAYLIST');
    expect(err.message).toMatch(message);
    expect(err.message).toContain(BASE.href);
  });

  it('accepts comments and blank lines before #EXTM3U, like hls-parser and players', () => {
    expect(refs('# made by hand\n\n#EXTM3U\n#EXTINF:4,\na.ts')).toEqual([
      'segment https://cdn.example.com/vod/class-1/a.ts',
    ]);
  });

  it('accepts a bare #EXTM3U as an empty playlist', () => {
    expect(scan('#EXTM3U').references).toEqual([]);
  });
});

describe('scanPlaylist: multivariant playlists', () => {
  const master = [
    '#EXTM3U',
    '#EXT-X-CONTENT-STEERING:SERVER-URI="/steer.json"',
    '#EXT-X-SESSION-DATA:DATA-ID="a",URI="meta.json"',
    '#EXT-X-SESSION-DATA:DATA-ID="b",VALUE="x"',
    '#EXT-X-SESSION-KEY:METHOD=AES-128,URI="k.key"',
    '#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="skd://fp",KEYFORMAT="com.apple.streamingkeydelivery"',
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="audio/en.m3u8"',
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="muxed"',
    '#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="v",NAME="angle2",URI="angle2.m3u8"',
    '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="s",NAME="en",URI="subs/en.m3u8"',
    '#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="en",INSTREAM-ID="CC1",URI="never.m3u8"',
    '#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO="a"',
    '',
    '# a comment between the tag and its URI',
    'v1/index.m3u8?sig=1',
    '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI="v1/iframes.m3u8"',
    '#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=1,URI="thumbs.m3u8"',
    'stray-line-players-ignore',
  ].join('\n');

  it('lists variants, renditions with a URI, i-frame and image playlists, session data and keys, steering', () => {
    const s = scan(master);
    expect(s.type).toBe('multivariant');
    expect(refs(master)).toEqual([
      'data https://cdn.example.com/steer.json',
      'data https://cdn.example.com/vod/class-1/meta.json',
      'key https://cdn.example.com/vod/class-1/k.key',
      'key skd://fp',
      'playlist(rendition) https://cdn.example.com/vod/class-1/audio/en.m3u8',
      'playlist(rendition) https://cdn.example.com/vod/class-1/angle2.m3u8',
      'playlist(subtitles) https://cdn.example.com/vod/class-1/subs/en.m3u8',
      'playlist(variant) https://cdn.example.com/vod/class-1/v1/index.m3u8?sig=1',
      'playlist(iframe) https://cdn.example.com/vod/class-1/v1/iframes.m3u8',
      'playlist(image) https://cdn.example.com/vod/class-1/thumbs.m3u8',
    ]);
  });

  it('keeps URI lines of a playlist that mixes master tags with EXTINF segments', () => {
    const mixed =
      '#EXTM3U\n#EXT-X-SESSION-DATA:DATA-ID="x",VALUE="y"\n#EXTINF:4,\na.ts\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8';
    expect(refs(mixed)).toEqual([
      'segment https://cdn.example.com/vod/class-1/a.ts',
      'playlist(variant) https://cdn.example.com/vod/class-1/v.m3u8',
    ]);
  });

  it('reports the line of each reference', () => {
    expect(scan(master).references.find((r) => r.tag === 'EXT-X-STREAM-INF')?.line).toBe(15);
  });
});

describe('scanPlaylist: media playlists', () => {
  it('lists segments, every MAP and KEY (several KEYFORMATs), parts and reports; skips GAP and preload hints', () => {
    const text = [
      '#EXTM3U',
      '#EXT-X-TARGETDURATION:4',
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://a",KEYFORMAT="com.apple.streamingkeydelivery"',
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="https://keys.example.com/pr",KEYFORMAT="com.microsoft.playready"',
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="clear.key",KEYFORMAT="identity"',
      '#EXT-X-MAP:URI="init1.mp4"',
      '#EXTINF:4,',
      '#EXT-X-BYTERANGE:100@0',
      'a.mp4',
      '#EXT-X-DISCONTINUITY',
      '#EXT-X-KEY:METHOD=NONE,URI="ignored.key"',
      '#EXT-X-MAP:URI="init2.mp4",BYTERANGE="720@0"',
      '#EXT-X-GAP',
      '#EXTINF:4,',
      'missing.mp4',
      '#EXT-X-PART:DURATION=1,URI="p1.mp4"',
      '#EXT-X-PART:DURATION=1,URI="p2.mp4",GAP=YES',
      '#EXTINF:4,',
      'b.mp4',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="next.mp4"',
      '#EXT-X-RENDITION-REPORT:URI="../other/index.m3u8",LAST-MSN=3',
      '#EXT-X-DATERANGE:ID="ad",CLASS="com.apple.hls.interstitial",START-DATE="2024-01-01T00:00:00Z",X-ASSET-URI="ad.m3u8",X-ASSET-LIST="ads.json"',
    ].join('\n');
    const s = scan(text, { role: 'variant' });
    expect(s.type).toBe('media');
    expect(refs(text, { role: 'variant' })).toEqual([
      'key skd://a',
      'key https://keys.example.com/pr',
      'key https://cdn.example.com/vod/class-1/clear.key',
      'init https://cdn.example.com/vod/class-1/init1.mp4',
      'segment https://cdn.example.com/vod/class-1/a.mp4',
      'init https://cdn.example.com/vod/class-1/init2.mp4',
      'segment https://cdn.example.com/vod/class-1/p1.mp4',
      'segment https://cdn.example.com/vod/class-1/b.mp4',
      'playlist(variant) https://cdn.example.com/vod/other/index.m3u8',
      'playlist(asset) https://cdn.example.com/vod/class-1/ad.m3u8',
      'data https://cdn.example.com/vod/class-1/ads.json',
    ]);
    const report = s.references.find((r) => r.tag === 'EXT-X-RENDITION-REPORT');
    expect(report?.playlist).toEqual({ role: 'variant', sameLevel: true, newPresentation: false });
    expect(s.references.find((r) => r.tag === 'EXT-X-DATERANGE')?.playlist?.newPresentation).toBe(true);
  });

  it('marks the segments of a subtitles rendition as subtitle (and its reports as subtitles too)', () => {
    const text =
      '#EXTM3U\n#EXTINF:4,\nen-1.vtt\n#EXT-X-PART:DURATION=1,URI="en-2.part.vtt"\n#EXT-X-RENDITION-REPORT:URI="fr.m3u8"';
    expect(refs(text, { role: 'subtitles' })).toEqual([
      'subtitle https://cdn.example.com/vod/class-1/en-1.vtt',
      'subtitle https://cdn.example.com/vod/class-1/en-2.part.vtt',
      'playlist(subtitles) https://cdn.example.com/vod/class-1/fr.m3u8',
    ]);
  });

  it('ignores empty URIs and reports unresolvable ones', () => {
    expect(refs('#EXTM3U\n#EXT-X-MAP:URI=""\n#EXTINF:4,\na.ts')).toEqual([
      'segment https://cdn.example.com/vod/class-1/a.ts',
    ]);
    const err = playlistErrorOf(() => scan('#EXTM3U\n#EXTINF:4,\nhttp://exa mple.com/a.ts'));
    expect(err.code).toBe('BAD_URI');
    expect(err.message).toMatch(/line 3/);
  });

  it('resolves against the URL it is given (the final URL after redirects)', () => {
    const r = refs('#EXTM3U\n#EXTINF:4,\nseg.ts', {
      baseUrl: new URL('https://edge.example.com/real/path/index.m3u8'),
    });
    expect(r).toEqual(['segment https://edge.example.com/real/path/seg.ts']);
  });
});

describe('scanPlaylist: EXT-X-DEFINE', () => {
  it('substitutes NAME/VALUE in URI lines and quoted attributes, after the definition only', () => {
    const text =
      '#EXTM3U\n#EXT-X-DEFINE:NAME="d",VALUE="dir"\n#EXT-X-MAP:URI="{$d}/init.mp4"\n#EXTINF:4,\n{$d}/{$d}.ts';
    expect(refs(text)).toEqual([
      'init https://cdn.example.com/vod/class-1/dir/init.mp4',
      'segment https://cdn.example.com/vod/class-1/dir/dir.ts',
    ]);
    expect(playlistErrorOf(() => scan('#EXTM3U\n#EXTINF:4,\n{$d}.ts\n#EXT-X-DEFINE:NAME="d",VALUE="x"')).code).toBe(
      'BAD_DEFINE',
    );
  });

  it('allows an empty VALUE and substitutes every occurrence once (no recursion)', () => {
    const text =
      '#EXTM3U\n#EXT-X-DEFINE:NAME="e",VALUE=""\n#EXT-X-DEFINE:NAME="x",VALUE="{$e}"\n#EXTINF:4,\na{$e}b{$x}.ts';
    expect(refs(text)).toEqual(['segment https://cdn.example.com/vod/class-1/ab%7B$e%7D.ts']);
  });

  it('takes QUERYPARAM from the playlist URL, falling back to the requested URL when a redirect dropped it', () => {
    const text = '#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="t"\n#EXTINF:4,\ns.ts?t={$t}';
    expect(refs(text, { baseUrl: new URL('https://h.example/a.m3u8?t=x%20y') })).toEqual([
      'segment https://h.example/s.ts?t=x%20y',
    ]);
    expect(
      refs(text, { baseUrl: new URL('https://h.example/b.m3u8'), requestUrl: new URL('https://h.example/a.m3u8?t=1') }),
    ).toEqual(['segment https://h.example/s.ts?t=1']);
    expect(playlistErrorOf(() => scan(text, { baseUrl: new URL('https://h.example/a.m3u8?t=') })).code).toBe(
      'BAD_DEFINE',
    );
    // As written, not decoded: a signed token must come back byte for byte.
    expect(refs(text, { baseUrl: new URL('https://h.example/a.m3u8?x=1&t=ab+c%2Bd%3D%3D') })).toEqual([
      'segment https://h.example/s.ts?t=ab+c%2Bd%3D%3D',
    ]);
  });

  it('IMPORTs only in media playlists, only what the multivariant playlist defined', () => {
    const media = '#EXTM3U\n#EXT-X-DEFINE:IMPORT="v"\n#EXTINF:4,\n{$v}.ts';
    expect(refs(media, { importable: new Map([['v', 'imported']]) })).toEqual([
      'segment https://cdn.example.com/vod/class-1/imported.ts',
    ]);
    expect(playlistErrorOf(() => scan(media)).code).toBe('BAD_DEFINE');
    expect(playlistErrorOf(() => scan(media, { importable: new Map([['w', 'x']]) })).code).toBe('BAD_DEFINE');
  });

  it("returns a multivariant playlist's variables for its media playlists", () => {
    const s = scan('#EXTM3U\n#EXT-X-DEFINE:NAME="a",VALUE="1"\n#EXT-X-STREAM-INF:BANDWIDTH=1\n{$a}.m3u8');
    expect([...s.variables]).toEqual([['a', '1']]);
  });

  it.each([
    ['two forms', '#EXT-X-DEFINE:NAME="a",VALUE="1",IMPORT="a"'],
    ['no form', '#EXT-X-DEFINE:VALUE="1"'],
    ['no value', '#EXT-X-DEFINE:NAME="a"'],
    ['bad name', '#EXT-X-DEFINE:NAME="a b",VALUE="1"'],
  ])('refuses a DEFINE with %s', (_name, tag) => {
    const err = playlistErrorOf(() => scan(`#EXTM3U\n${tag}\n#EXTINF:4,\na.ts`));
    expect(err.code).toBe('BAD_DEFINE');
    expect(err.message).toMatch(/line 2/);
  });
});
