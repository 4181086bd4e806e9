// Handmade DASH manifests through the crawler's planClass/enumerateClass: what is followed, what is
// refused, and that the reference digest read again (transfer, change check) agrees with the crawl's.
import { describe, expect, it } from 'vitest';
import { isMpdText, scanMpd } from '../../src/dash/scan.ts';
import { enumerateClass, planClass } from '../../src/hls/enumerate.ts';
import { PlaylistError } from '../../src/hls/errors.ts';
import { digestOfPlaylist } from '../../src/hls/reference-digest.ts';
import type { PlanOptions, PlaylistFetcher } from '../../src/hls/types.ts';
import { OriginError } from '../../src/domain/ports/origin.ts';
import { LIMITS, memoryFetcher, rejection } from '../hls/helpers.ts';

const HOST = 'cdn.example.com';
const URL0 = `https://${HOST}/lib/class/manifest.mpd`;
const OPTS: PlanOptions = { limits: LIMITS, destPrefix: 'c/', allowedHosts: [HOST] };

function mpd(body: string, attrs = 'type="static" mediaPresentationDuration="PT8S"'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:xlink="http://www.w3.org/1999/xlink" ${attrs}>\n${body}\n</MPD>\n`;
}

async function keys(text: string, opts: Partial<PlanOptions> = {}): Promise<string[]> {
  const files = await planClass(URL0, memoryFetcher({ [URL0]: text }), { ...OPTS, ...opts });
  return files.map((f) => `${f.kind} ${f.key.replace(`c/${HOST}/`, '')}`);
}

async function refusal(text: string, opts: Partial<PlanOptions> = {}): Promise<PlaylistError> {
  const err = await rejection(planClass(URL0, memoryFetcher({ [URL0]: text }), { ...OPTS, ...opts }));
  expect(err).toBeInstanceOf(PlaylistError);
  return err as PlaylistError;
}

describe('what a DASH manifest names', () => {
  it('SegmentTemplate $Number%05d$ and $Bandwidth$ with startNumber and endNumber', async () => {
    const text = mpd(`<Period duration="PT10S"><AdaptationSet mimeType="video/mp4">
      <SegmentTemplate timescale="1000" duration="2000" startNumber="3" endNumber="5"
        initialization="$RepresentationID$/init-$Bandwidth$.mp4" media="$RepresentationID$/s$Number%05d$.m4s"/>
      <Representation id="v1" bandwidth="500000"/></AdaptationSet></Period>`);
    expect(await keys(text)).toEqual([
      'playlist lib/class/manifest.mpd',
      'init lib/class/v1/init-500000.mp4',
      'segment lib/class/v1/s00003.m4s',
      'segment lib/class/v1/s00004.m4s',
      'segment lib/class/v1/s00005.m4s',
    ]);
  });

  it('S@r="-1" repeats to the Period end (from the next Period@start), presentationTimeOffset included', async () => {
    const text = mpd(
      `<Period id="a"><AdaptationSet mimeType="audio/mp4">
        <SegmentTemplate timescale="10" presentationTimeOffset="100" media="a-$Time$.m4s">
          <SegmentTimeline><S t="100" d="20" r="-1"/></SegmentTimeline></SegmentTemplate>
        <Representation id="a" bandwidth="1"/></AdaptationSet></Period>
      <Period id="b" start="PT5S"/>`,
      'type="static" mediaPresentationDuration="PT9S"',
    );
    // 5 s x 10 = 50 ticks from t=100: 100, 120, 140 (the last cut short at 150).
    expect(await keys(text)).toEqual([
      'segment lib/class/a-100.m4s',
      'segment lib/class/a-120.m4s',
      'segment lib/class/a-140.m4s',
      'playlist lib/class/manifest.mpd',
    ]);
  });

  it('BaseURL at every level, relative and absolute; of several the first on an allowed host', async () => {
    const text = mpd(`<BaseURL>https://elsewhere.example.net/x/</BaseURL><BaseURL>media/</BaseURL>
      <Period duration="PT4S"><BaseURL>p1/</BaseURL>
        <AdaptationSet mimeType="video/mp4"><BaseURL>/root/</BaseURL>
          <SegmentTemplate media="$RepresentationID$-$Number$.m4s" duration="4"/>
          <Representation id="v" bandwidth="1"><BaseURL>rep/</BaseURL></Representation>
        </AdaptationSet>
        <AdaptationSet mimeType="audio/mp4">
          <SegmentTemplate media="$RepresentationID$-$Number$.m4s" duration="4"/>
          <Representation id="a" bandwidth="1"><BaseURL>https://${HOST}/abs/</BaseURL></Representation>
        </AdaptationSet>
      </Period>`);
    expect(await keys(text)).toEqual([
      'segment abs/a-1.m4s',
      'playlist lib/class/manifest.mpd',
      'segment root/rep/v-1.m4s',
    ]);
    // With the other host allowed, the first BaseURL is the one followed.
    const both = await keys(text, { allowedHosts: [HOST, 'elsewhere.example.net'] });
    // "/root/" is an absolute path: it keeps the host the MPD-level BaseURL chose.
    expect(both).toEqual([
      'segment abs/a-1.m4s',
      'playlist lib/class/manifest.mpd',
      'segment c/elsewhere.example.net/root/rep/v-1.m4s',
    ]);
    const viaElsewhere = await keys(
      mpd(`<BaseURL>https://elsewhere.example.net/x/</BaseURL><BaseURL>media/</BaseURL>
      <Period duration="PT4S"><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="s$Number$.m4s" duration="4"/>
      <Representation id="v" bandwidth="1"/></AdaptationSet></Period>`),
      { allowedHosts: [HOST, 'elsewhere.example.net'] },
    );
    expect(viaElsewhere).toEqual(['playlist lib/class/manifest.mpd', 'segment c/elsewhere.example.net/x/s1.m4s']);
  });

  it('refuses a level whose BaseURLs are all on hosts not allowed', async () => {
    const err = await refusal(
      mpd(`<Period duration="PT4S"><BaseURL>https://evil.example.org/a/</BaseURL><AdaptationSet mimeType="video/mp4">
      <SegmentTemplate media="s$Number$.m4s" duration="4"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period>`),
    );
    expect(err.code).toBe('HOST_NOT_ALLOWED');
    expect(err.message).toContain('evil.example.org');
  });

  it('SegmentList: Initialization@sourceURL with its range, SegmentURL@media and @mediaRange, the Representation file when media is absent', async () => {
    const text = mpd(`<Period duration="PT8S"><AdaptationSet mimeType="video/mp4">
      <Representation id="v" bandwidth="1"><BaseURL>v/</BaseURL>
        <SegmentList timescale="1" duration="4"><Initialization sourceURL="init.mp4" range="0-99"/>
          <SegmentURL media="s1.m4s" mediaRange="0-999"/><SegmentURL media="s2.m4s"/></SegmentList>
      </Representation>
      <Representation id="w" bandwidth="1"><BaseURL>w.mp4</BaseURL>
        <SegmentList duration="4"><Initialization range="0-99"/><SegmentURL mediaRange="100-199"/><SegmentURL mediaRange="200-299"/></SegmentList>
      </Representation></AdaptationSet></Period>`);
    expect(await keys(text)).toEqual([
      'playlist lib/class/manifest.mpd',
      'init lib/class/v/init.mp4',
      'segment lib/class/v/s1.m4s',
      'segment lib/class/v/s2.m4s',
      'init lib/class/w.mp4',
    ]);
  });

  it('SegmentBase with Initialization@sourceURL and RepresentationIndex: the separate files, then the media file', async () => {
    const text = mpd(`<Period><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1">
      <BaseURL>v.mp4</BaseURL><SegmentBase indexRange="810-1021"><Initialization sourceURL="v-init.mp4"/>
      <RepresentationIndex sourceURL="v.sidx"/></SegmentBase></Representation></AdaptationSet></Period>`);
    expect(await keys(text)).toEqual([
      'playlist lib/class/manifest.mpd',
      'init lib/class/v-init.mp4',
      'segment lib/class/v.mp4',
      'data lib/class/v.sidx',
    ]);
  });

  it('subtitles: text/vtt files and TTML/WebVTT in MP4 are subtitles; ContentProtection license URLs are not followed', async () => {
    const text = mpd(`<Period duration="PT4S">
      <AdaptationSet contentType="text" mimeType="text/vtt" lang="en"><Representation id="en" bandwidth="1"><BaseURL>en.vtt</BaseURL></Representation></AdaptationSet>
      <AdaptationSet mimeType="application/mp4" codecs="stpp.ttml.im1t"><SegmentTemplate media="$RepresentationID$/$Number$.mp4" initialization="$RepresentationID$/i.mp4" duration="4"/>
        <Representation id="ttml" bandwidth="1"/></AdaptationSet>
      <AdaptationSet mimeType="video/mp4">
        <ContentProtection schemeIdUri="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"><Laurl>https://license.example.com/wv</Laurl></ContentProtection>
        <SegmentTemplate media="v$Number$.m4s" duration="4"/><Representation id="v" bandwidth="1"/></AdaptationSet>
      </Period>`);
    expect(await keys(text)).toEqual([
      'subtitle lib/class/en.vtt',
      'playlist lib/class/manifest.mpd',
      'subtitle lib/class/ttml/1.mp4',
      'init lib/class/ttml/i.mp4',
      'segment lib/class/v1.m4s',
    ]);
  });

  it('multi-period: each Period its own duration, shared files copied once', async () => {
    const period = (id: string, start: string) =>
      `<Period id="${id}" start="${start}"><AdaptationSet mimeType="video/mp4"><SegmentTemplate initialization="init.mp4" media="${id}-$Number$.m4s" duration="2"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period>`;
    expect(
      await keys(
        mpd(`${period('p1', 'PT0S')}${period('p2', 'PT4S')}`, 'type="static" mediaPresentationDuration="PT6S"'),
      ),
    ).toEqual([
      'init lib/class/init.mp4',
      'playlist lib/class/manifest.mpd',
      'segment lib/class/p1-1.m4s',
      'segment lib/class/p1-2.m4s',
      'segment lib/class/p2-1.m4s',
    ]);
  });

  it('xlink:href resolve-to-zero removes the element; any other remote element is refused', async () => {
    const zero =
      mpd(`<Period xlink:href="urn:mpeg:dash:resolve-to-zero:2013"/><Period duration="PT2S"><AdaptationSet mimeType="video/mp4">
      <SegmentTemplate media="s$Number$.m4s" duration="2"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period>`);
    expect(await keys(zero)).toEqual(['playlist lib/class/manifest.mpd', 'segment lib/class/s1.m4s']);
    const remote = await refusal(mpd(`<Period xlink:href="https://${HOST}/period.xml" xlink:actuate="onLoad"/>`));
    expect(remote.code).toBe('MANIFEST_UNSUPPORTED');
    expect(remote.message).toContain('xlink:href');
    const set = await refusal(
      mpd(`<Period duration="PT2S"><AdaptationSet xlink:href="https://${HOST}/as.xml"/></Period>`),
    );
    expect(set.code).toBe('MANIFEST_UNSUPPORTED');
  });

  it('keys stay inside the class root: an escaping template value is refused', async () => {
    const err = await refusal(
      mpd(`<Period duration="PT2S"><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="$RepresentationID$/s.m4s" duration="2"/>
      <Representation id="..%2F..%2Fother" bandwidth="1"/></AdaptationSet></Period>`),
    );
    expect(err.code).toBe('UNSAFE_KEY');
  });
});

describe('what a DASH manifest is refused for', () => {
  it('a DOCTYPE or ENTITY declaration (entity expansion, external entities) is never read', async () => {
    const laughs = `<?xml version="1.0"?>\n<!DOCTYPE MPD [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<MPD type="static"><BaseURL>&b;</BaseURL></MPD>`;
    expect(isMpdText(laughs)).toBe(true);
    const err = await refusal(laughs);
    expect(err.code).toBe('NOT_A_PLAYLIST');
    expect(err.message).toContain('DOCTYPE or ENTITY');
    const xxe = `<?xml version="1.0"?><!DOCTYPE MPD SYSTEM "file:///etc/passwd"><MPD/>`;
    expect((await refusal(xxe)).message).toContain('DOCTYPE');
  });

  it('badly formed XML, and XML whose root is not MPD (left to the HLS scanner, which names it no playlist)', async () => {
    const broken = await refusal(`<?xml version="1.0"?><MPD type="static"><Period></MPD>`);
    expect(broken.code).toBe('NOT_A_PLAYLIST');
    expect(broken.message).toContain('well-formed');
    expect(isMpdText('<!DOCTYPE html><html><body>oops</body></html>')).toBe(false);
    expect(
      isMpdText('<?xml version="1.0"?>\n<!-- made by x -->\n<mpd:MPD xmlns:mpd="urn:mpeg:dash:schema:mpd:2011">'),
    ).toBe(true);
    expect(isMpdText('#EXTM3U\n')).toBe(false);
    expect((await refusal('<?xml version="1.0"?><html/>')).message).toContain('not an HLS playlist');
  });

  it('more Periods than DASH_MAX_PERIODS, more segments than DASH_MAX_SEGMENTS', async () => {
    const two = mpd('<Period duration="PT1S"/><Period duration="PT1S"/>');
    expect(await keys(two, { limits: { ...LIMITS, maxPeriods: 2 } })).toEqual(['playlist lib/class/manifest.mpd']);
    const periods = await refusal(two, { limits: { ...LIMITS, maxPeriods: 1 } });
    expect(periods.code).toBe('TOO_MANY_FILES');
    expect(periods.message).toContain('DASH_MAX_PERIODS');
    const many =
      mpd(`<Period duration="PT100000000S"><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="s$Number$.m4s" duration="1"/>
      <Representation id="v" bandwidth="1"/></AdaptationSet></Period>`);
    const segments = await refusal(many, { limits: { ...LIMITS, maxSegments: 1000 } });
    expect(segments.code).toBe('TOO_MANY_FILES');
    expect(segments.message).toContain('DASH_MAX_SEGMENTS');
    // The default DASH_MAX_SEGMENTS stops it too, before a segment is listed.
    expect((await refusal(many)).message).toContain('DASH_MAX_SEGMENTS');
    // Many Representations of allowed size: the manifest's references are bounded by 4 x HLS_MAX_FILES.
    const reps = Array.from({ length: 5 }, (_, i) => `<Representation id="r${i}" bandwidth="1"/>`).join('');
    const wide =
      mpd(`<Period duration="PT10S"><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="$RepresentationID$-$Number$.m4s" duration="1"/>
      ${reps}</AdaptationSet></Period>`);
    expect(await keys(wide, { limits: { ...LIMITS, maxFiles: 51 } })).toHaveLength(51);
    const tooWide = await refusal(wide, { limits: { ...LIMITS, maxFiles: 12 } });
    expect(tooWide.code).toBe('TOO_MANY_FILES');
    expect(tooWide.message).toContain('more than 48 files, repeats included');
  });

  it('a template counted by @duration in a Period of unknown length', async () => {
    const err = await refusal(
      mpd(
        `<Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="s$Number$.m4s" duration="2"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period>`,
        'type="dynamic" availabilityStartTime="2020-01-01T00:00:00Z"',
      ),
    );
    expect(err.code).toBe('MANIFEST_UNSUPPORTED');
    expect(err.message).toContain('no known duration');
    expect(err.message).toContain('static');
  });
});

describe('dynamic manifests and ALSO_COPY_MANIFESTS', () => {
  it('a dynamic manifest is listed as it stands and reported growing', async () => {
    const text = mpd(
      `<Period start="PT0S"><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="t$Time$.m4s" timescale="1">
        <SegmentTimeline><S t="10" d="2" r="1"/></SegmentTimeline></SegmentTemplate><Representation id="v" bandwidth="1"/></AdaptationSet></Period>`,
      'type="dynamic" availabilityStartTime="2020-01-01T00:00:00Z"',
    );
    const { files, growing } = await enumerateClass(URL0, memoryFetcher({ [URL0]: text }), OPTS);
    expect(files.map((f) => f.key)).toEqual([
      `c/${HOST}/lib/class/manifest.mpd`,
      `c/${HOST}/lib/class/t10.m4s`,
      `c/${HOST}/lib/class/t12.m4s`,
    ]);
    expect(growing).toEqual([URL0]);
  });

  const MASTER = `https://${HOST}/lib/class/master.m3u8`;
  const HLS = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv/index.m3u8\n';
  const MEDIA = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\ns1.m4s\n#EXT-X-ENDLIST\n';
  const DASH = mpd(`<Period duration="PT2S"><AdaptationSet mimeType="video/mp4"><BaseURL>v/</BaseURL>
    <SegmentTemplate media="s$Number$.m4s" duration="2"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period>`);
  const also = { limits: { ...LIMITS, alsoCopyManifests: ['manifest.mpd'] } };

  it('copies the .mpd beside the master playlist, sharing its segments', async () => {
    const fetcher = memoryFetcher({ [MASTER]: HLS, [`https://${HOST}/lib/class/v/index.m3u8`]: MEDIA, [URL0]: DASH });
    const { files } = await enumerateClass(MASTER, fetcher, { ...OPTS, ...also });
    expect(files.map((f) => `${f.kind} ${f.key.replace(`c/${HOST}/lib/class/`, '')}`)).toEqual([
      'playlist manifest.mpd',
      'playlist master.m3u8',
      'playlist v/index.m3u8',
      'segment v/s1.m4s',
    ]);
    expect(files.find((f) => f.key.endsWith('manifest.mpd'))?.refs).toMatch(/^[0-9a-f]{64}$/);
  });

  it('skips it when the origin does not have it (404/410), and fails on any other error', async () => {
    const pages = memoryFetcher({ [MASTER]: HLS, [`https://${HOST}/lib/class/v/index.m3u8`]: MEDIA });
    const missing = (status: number): PlaylistFetcher => ({
      fetchText: (url, o) =>
        url === URL0
          ? Promise.reject(
              new OriginError('ORIGIN_HTTP_STATUS', `${url}: HTTP ${status}`, {
                url,
                status,
                retryable: status >= 500,
              }),
            )
          : pages.fetchText(url, o),
    });
    const { files, absent } = await enumerateClass(MASTER, missing(404), { ...OPTS, ...also });
    expect(files.map((f) => f.key.replace(`c/${HOST}/lib/class/`, ''))).toEqual([
      'master.m3u8',
      'v/index.m3u8',
      'v/s1.m4s',
    ]);
    expect(absent).toEqual([URL0]);
    expect((await enumerateClass(MASTER, missing(410), { ...OPTS, ...also })).absent).toEqual([URL0]);
    const err = await rejection(enumerateClass(MASTER, missing(503), { ...OPTS, ...also }));
    expect(err.code).toBe('ORIGIN_HTTP_STATUS');
    // The class's own manifest is never optional.
    expect((await rejection(enumerateClass(URL0, missing(404), OPTS))).code).toBe('ORIGIN_HTTP_STATUS');
  });
});

describe('the reference digest of a DASH manifest', () => {
  const text = (token: string, extra = '') =>
    mpd(`<BaseURL>https://${HOST}/lib/class/?tok=${token}</BaseURL><BaseURL>media/</BaseURL><Period duration="PT4S"><AdaptationSet mimeType="video/mp4">
      <SegmentTemplate media="s$Number$.m4s?tok=${token}" duration="2"/><Representation id="v" bandwidth="1"/></AdaptationSet>${extra}</Period>`);

  it("read again by the transfer, it is the crawl's: tokens in queries are no change, another file is", async () => {
    const files = await planClass(URL0, memoryFetcher({ [URL0]: text('a') }), OPTS);
    const refs = files.find((f) => f.key.endsWith('manifest.mpd'))!.refs!;
    const at = { src: URL0, finalUrl: URL0, root: 'c/', dash: { allowedHosts: [HOST] } };
    expect(digestOfPlaylist(text('a'), at)).toBe(refs);
    expect(digestOfPlaylist(text('b'), at)).toBe(refs);
    const more = text(
      'a',
      '<AdaptationSet mimeType="audio/mp4"><SegmentTemplate media="a$Number$.m4s" duration="4"/><Representation id="a" bandwidth="1"/></AdaptationSet>',
    );
    expect(digestOfPlaylist(more, at)).not.toBe(refs);
    // A dynamic version of the same files is another manifest: a player polls it.
    expect(digestOfPlaylist(text('a').replace('type="static"', 'type="dynamic"'), at)).not.toBe(refs);
  });

  it('the BaseURL choice follows the allowed hosts, as the crawl made it', async () => {
    const two =
      mpd(`<BaseURL>https://mirror.example.net/m/</BaseURL><BaseURL>media/</BaseURL><Period duration="PT2S"><AdaptationSet mimeType="video/mp4">
      <SegmentTemplate media="s$Number$.m4s" duration="2"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period>`);
    const files = await planClass(URL0, memoryFetcher({ [URL0]: two }), OPTS);
    expect(files.map((f) => f.key)).toContain(`c/${HOST}/lib/class/media/s1.m4s`);
    const refs = files.find((f) => f.key.endsWith('manifest.mpd'))!.refs!;
    expect(digestOfPlaylist(two, { src: URL0, finalUrl: URL0, root: 'c/', dash: { allowedHosts: [HOST] } })).toBe(refs);
    // Read without the hosts, the first BaseURL would be chosen: another manifest as far as the copy goes.
    expect(digestOfPlaylist(two, { src: URL0, finalUrl: URL0, root: 'c/' })).not.toBe(refs);
  });

  it('after a redirect, files are fetched from where the manifest is served and keyed from where the layout puts it', async () => {
    const moved = `https://${HOST}/store/v2/manifest.mpd`;
    const body =
      mpd(`<Period duration="PT2S"><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="s$Number$.m4s" duration="2"/>
      <Representation id="v" bandwidth="1"/></AdaptationSet></Period>`);
    const files = await planClass(URL0, memoryFetcher({ [URL0]: { redirect: moved }, [moved]: body }), OPTS);
    const seg = files.find((f) => f.kind === 'segment')!;
    expect(seg.src).toBe(`https://${HOST}/store/v2/s1.m4s`);
    expect(seg.key).toBe(`c/${HOST}/lib/class/s1.m4s`);
    const manifest = files.find((f) => f.kind === 'playlist')!;
    expect(digestOfPlaylist(body, { src: URL0, finalUrl: moved, root: 'c/', dash: { allowedHosts: [HOST] } })).toBe(
      manifest.refs,
    );
  });

  it('scanMpd alone reports the manifest ended unless dynamic', () => {
    const base = new URL(URL0);
    expect(scanMpd(mpd(''), { baseUrl: base }).ended).toBe(true);
    expect(scanMpd(mpd('', 'type="dynamic"'), { baseUrl: base }).ended).toBe(false);
  });
});
