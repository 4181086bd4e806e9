import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import fc from 'fast-check';
import HLS from 'hls-parser';
import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIBRARY_OPTIONS,
  generateLibrary,
  type ClassFeature,
  type SampleClass,
  type SampleLibrary,
} from '../../lab/library.ts';
import { scanPlaylist, tagValue, type ScannedRef } from './playlist-scan.ts';
import { scanMpd } from '../../src/dash/scan.ts';

const lib = generateLibrary();

function text(l: SampleLibrary, path: string): string {
  return l.bytes(path).toString('utf8');
}

function fingerprint(l: SampleLibrary): string {
  const h = createHash('sha256');
  for (const p of l.paths()) h.update(p).update('\0').update(l.bytes(p)).update('\0');
  return h.digest('hex');
}

/** Every file reachable from a class's master, following playlist references. */
function crawl(l: SampleLibrary, c: SampleClass): { files: Set<string>; refs: Array<ScannedRef & { from: string }> } {
  const files = new Set<string>([c.manifestPath]);
  const refs: Array<ScannedRef & { from: string }> = [];
  const queue = [c.manifestPath];
  while (queue.length) {
    const playlist = queue.shift()!;
    for (const ref of scanPlaylist(playlist, text(l, playlist))) {
      refs.push({ ...ref, from: playlist });
      if (files.has(ref.path)) continue;
      files.add(ref.path);
      if (ref.path.endsWith('.m3u8') && l.stat(ref.path)) queue.push(ref.path);
    }
  }
  // The DASH manifest beside the master (ALSO_COPY_MANIFESTS) and what it names.
  const mpd = dashManifest(c);
  if (mpd) {
    files.add(mpd);
    for (const path of dashPaths(l, mpd)) files.add(path);
  }
  return { files, refs };
}

function dashManifest(c: SampleClass): string | undefined {
  return c.paths.find((p) => p === c.manifestPath.replace(/master\.m3u8$/, 'manifest.mpd'));
}

/** The library paths a DASH manifest names, as the crawler's scanner reads it. */
function dashPaths(l: SampleLibrary, mpd: string): string[] {
  const refs = scanMpd(text(l, mpd), { baseUrl: new URL(`http://origin.test${mpd}`) }).references;
  return [...new Set(refs.map((r) => decodeURIComponent(r.url.pathname)))];
}

const playlists = (c: SampleClass) => c.paths.filter((p) => p.endsWith('.m3u8'));
const withFeature = (f: ClassFeature) => withFeatureIn(lib, f);

describe('sample library: determinism', () => {
  it('the same seed gives the same paths and bytes; another seed gives others', () => {
    const a = generateLibrary({ seed: 7, classes: 3, segmentBytes: 8192 });
    const b = generateLibrary({ seed: 7, classes: 3, segmentBytes: 8192 });
    const c = generateLibrary({ seed: 8, classes: 3, segmentBytes: 8192 });
    expect(b.paths()).toEqual(a.paths());
    expect(fingerprint(b)).toBe(fingerprint(a));
    expect(b.catalogDocuments('http://h')).toEqual(a.catalogDocuments('http://h'));
    expect(c.classes.map((x) => x.id)).not.toEqual(a.classes.map((x) => x.id));
    expect(fingerprint(c)).not.toBe(fingerprint(a));
    // Same role in both libraries (first segment of the first rendition), different bytes.
    const firstSeg = (l: SampleLibrary) => l.classes[0]!.paths.find((p) => /seg-00000/.test(p))!;
    expect(c.bytes(firstSeg(c)).equals(a.bytes(firstSeg(a)))).toBe(false);
  });

  it('class ids are distinct ObjectId hex strings', () => {
    const ids = [...lib.classes.map((c) => c.id), ...lib.skipped.map((s) => s.id)];
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{24}$/);
      expect(new ObjectId(id).toHexString()).toBe(id);
    }
  });
});

describe('sample library: shape', () => {
  it('has the default size and consistent totals', () => {
    expect(lib.classes).toHaveLength(DEFAULT_LIBRARY_OPTIONS.classes);
    expect(lib.totalFiles).toBe(lib.paths().length);
    expect(lib.totalFiles).toBe(lib.classes.reduce((a, c) => a + c.files, 0));
    expect(lib.totalBytes).toBe(lib.paths().reduce((a, p) => a + lib.stat(p)!.size, 0));
    for (const c of lib.classes) {
      expect(c.files).toBe(c.paths.length);
      expect(c.bytes).toBe(c.paths.reduce((a, p) => a + lib.stat(p)!.size, 0));
      expect(c.manifestPath).toBe(`/vod/${c.id}/master.m3u8`);
      for (const p of c.paths) expect(lib.file(p)?.classId).toBe(c.id);
    }
  });

  it('covers every feature: exactly one AES-128 and one byte-range class, TS and fMP4, nesting, I-frames', () => {
    expect(withFeature('aes128')).toHaveLength(1);
    expect(withFeature('byterange')).toHaveLength(1);
    expect(withFeature('ts').length).toBeGreaterThan(0);
    expect(withFeature('fmp4').length).toBeGreaterThan(0);
    expect(withFeature('nested').length).toBeGreaterThan(0);
    expect(withFeature('iframes').length).toBeGreaterThan(0);
    // The features are not just labels: the playlists say so.
    const all = (c: SampleClass) =>
      playlists(c)
        .map((p) => text(lib, p))
        .join('\n');
    const classesWith = (re: RegExp) => lib.classes.filter((c) => re.test(all(c)));
    expect(classesWith(/#EXT-X-KEY:METHOD=AES-128,URI="key\.bin",IV=0x[0-9A-F]{32}/)).toEqual(withFeature('aes128'));
    expect(classesWith(/#EXT-X-BYTERANGE:/)).toEqual(withFeature('byterange'));
    expect(classesWith(/#EXT-X-MAP:/)).toEqual(withFeature('fmp4'));
    expect(classesWith(/^\.\.\//m)).toEqual(withFeature('nested'));
    expect(classesWith(/#EXT-X-I-FRAME-STREAM-INF:/)).toEqual(withFeature('iframes'));
  });

  it('every master has video variants, an audio and a subtitle rendition with URIs', () => {
    for (const c of lib.classes) {
      const master = text(lib, c.manifestPath);
      const variants = master.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF:'));
      expect(variants).toHaveLength(DEFAULT_LIBRARY_OPTIONS.variants);
      for (const v of variants) expect(v).toMatch(/BANDWIDTH=\d+.*RESOLUTION=\d+x\d+.*CODECS="[^"]+"/);
      expect(master).toMatch(/#EXT-X-MEDIA:TYPE=AUDIO,.*URI="[^"]+"/);
      expect(master).toMatch(/#EXT-X-MEDIA:TYPE=SUBTITLES,.*URI="[^"]+"/);
      const subs = scanPlaylist(c.manifestPath, master).find((r) => r.via === 'EXT-X-MEDIA' && /subs/.test(r.path))!;
      const vtts = scanPlaylist(subs.path, text(lib, subs.path));
      expect(vtts.length).toBe(DEFAULT_LIBRARY_OPTIONS.segmentsPerRendition);
      for (const v of vtts)
        expect(text(lib, v.path)).toMatch(/^WEBVTT\n[\s\S]*\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}\n/);
    }
  });

  it('every playlist is valid VOD HLS (hls-parser strict mode, consistent TARGETDURATION)', () => {
    HLS.setOptions({ strictMode: true, silent: true });
    for (const c of lib.classes) {
      for (const p of playlists(c)) {
        const body = text(lib, p);
        expect(() => HLS.parse(body), p).not.toThrow();
        expect(body.startsWith('#EXTM3U\n')).toBe(true);
        if (p === c.manifestPath) continue;
        expect(body).toContain('#EXT-X-PLAYLIST-TYPE:VOD\n');
        expect(body.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
        const target = Number(tagValue(body, 'EXT-X-TARGETDURATION'));
        const durations = [...body.matchAll(/^#EXTINF:([\d.]+),/gm)].map((m) => Number(m[1]));
        expect(durations.length).toBeGreaterThan(0);
        for (const d of durations) expect(Math.round(d)).toBeLessThanOrEqual(target);
      }
    }
  });
});

describe('sample library: references', () => {
  it('every URI in every playlist exists, and every file is reachable from its master', () => {
    for (const c of lib.classes) {
      const { files, refs } = crawl(lib, c);
      for (const r of refs) expect(lib.stat(r.path), `${r.uri} in ${r.from}`).toBeDefined();
      expect([...files].sort()).toEqual([...c.paths].sort());
      for (const r of refs) {
        if (r.range)
          expect(r.range.offset + r.range.length, `${r.uri} range in ${r.from}`).toBeLessThanOrEqual(
            lib.stat(r.path)!.size,
          );
      }
    }
  });

  it('the fMP4 classes publish a DASH manifest naming the same init, media and subtitle files as their playlists', () => {
    const dash = withFeature('dash');
    expect(dash.length).toBe(3);
    expect(dash.every((c) => c.features.includes('fmp4'))).toBe(true);
    expect(dash.map((c) => c.features.includes('byterange') || c.features.includes('root-relative'))).toContain(true);
    for (const c of lib.classes) {
      const mpd = dashManifest(c);
      expect(mpd !== undefined, c.id).toBe(c.features.includes('dash'));
      if (!mpd) continue;
      expect(lib.file(mpd)?.kind).toBe('playlist');
      expect(lib.stat(mpd)?.contentType).toBe('application/dash+xml');
      const named = dashPaths(lib, mpd).sort();
      const media = c.paths
        .filter((p) => ['init', 'segment', 'subtitle'].includes(lib.file(p)!.kind) && !/iframe-/.test(p))
        .sort();
      expect(named).toEqual(media);
    }
  });

  it('a byte-ranged file is one file, covered exactly by the map and segment ranges', () => {
    const [c] = withFeature('byterange');
    const { refs } = crawl(lib, c!);
    const ranged = refs.filter((r) => r.range);
    const bigFiles = new Set(ranged.map((r) => r.path));
    expect(bigFiles.size).toBeGreaterThan(0);
    for (const file of bigFiles) {
      expect(lib.paths().filter((p) => p === file)).toHaveLength(1);
      // Ranges from the rendition's own playlist (not the I-frame one) tile the file without gaps.
      const own = ranged.filter((r) => r.path === file && !r.from.includes('iframe')).map((r) => r.range!);
      own.sort((a, b) => a.offset - b.offset);
      let at = 0;
      for (const r of own) {
        expect(r.offset).toBe(at);
        at += r.length;
      }
      expect(at).toBe(lib.stat(file)!.size);
    }
    const refsPerFile = ranged.length / bigFiles.size;
    expect(refsPerFile).toBeGreaterThan(DEFAULT_LIBRARY_OPTIONS.segmentsPerRendition);
    expect(c!.files).toBe(new Set(c!.paths).size);
  });

  it('uses ../ in the nested class, root-relative and query-string references elsewhere', () => {
    const refsOf = (f: ClassFeature) => crawl(lib, withFeature(f)[0]!).refs;
    expect(refsOf('nested').some((r) => r.uri.startsWith('../../'))).toBe(true);
    expect(
      refsOf('root-relative')
        .filter((r) => r.via === 'uri-line')
        .every((r) => r.uri.startsWith('/vod/')),
    ).toBe(true);
    expect(
      refsOf('query')
        .filter((r) => r.via === 'uri-line')
        .every((r) => /\?token=[0-9a-f]+$/.test(r.uri)),
    ).toBe(true);
  });
});

describe('sample library: bytes', () => {
  it('AES-128 keys are 16 bytes and encrypted segments whole blocks', () => {
    const [c] = withFeature('aes128');
    const { refs } = crawl(lib, c!);
    const keys = refs.filter((r) => r.via === 'EXT-X-KEY');
    expect(new Set(keys.map((k) => k.path)).size).toBeGreaterThan(1);
    for (const k of keys) expect(lib.bytes(k.path)).toHaveLength(16);
    for (const p of c!.paths.filter((x) => x.endsWith('.ts'))) expect(lib.stat(p)!.size % 16).toBe(0);
  });

  it('clear TS segments are whole 188-byte packets starting with 0x47; fMP4 files start with boxes', () => {
    const clearTs = lib.classes
      .filter((c) => c.features.includes('ts') && !c.features.includes('aes128'))
      .flatMap((c) => c.paths.filter((p) => p.endsWith('.ts')));
    expect(clearTs.length).toBeGreaterThan(0);
    for (const p of clearTs.slice(0, 40)) {
      const b = lib.bytes(p);
      expect(b.length % 188).toBe(0);
      for (let i = 0; i < b.length; i += 188) expect(b[i]).toBe(0x47);
    }
    const inits = lib.paths().filter((p) => p.endsWith('init.mp4'));
    for (const p of inits) expect(lib.bytes(p).subarray(4, 8).toString('latin1')).toBe('ftyp');
    for (const p of lib
      .paths()
      .filter((x) => x.endsWith('.m4s'))
      .slice(0, 20))
      expect(lib.bytes(p).subarray(4, 8).toString('latin1')).toBe('styp');
  });

  it('read(path, range) streams exactly the bytes of bytes(path)', async () => {
    const media = lib.paths().filter((p) => lib.stat(p)!.size > 1000);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...media), fc.nat(), fc.nat(), async (path, x, y) => {
        const size = lib.stat(path)!.size;
        const start = x % size;
        const end = start + (y % (size - start));
        const whole = lib.bytes(path);
        const streamed = await buffer(lib.read(path, { start, end }));
        expect(streamed.equals(whole.subarray(start, end + 1))).toBe(true);
        expect(lib.bytes(path, { start, end }).equals(streamed)).toBe(true);
      }),
      { numRuns: 60 },
    );
    const big = generateLibrary({ classes: 1, variants: 1, segmentsPerRendition: 1, segmentBytes: 3 * 1024 * 1024 });
    const seg = big.paths().find((p) => p.endsWith('.m4s'))!;
    const whole = await buffer(big.read(seg));
    expect(whole.equals(big.bytes(seg))).toBe(true);
    expect(() => lib.read('/nope')).toThrow(/no file/);
    expect(() => lib.read(media[0]!, { start: 0, end: lib.stat(media[0]!)!.size })).toThrow(RangeError);
  });
});

describe('sample library: options', () => {
  it('scales with its knobs', () => {
    const l = generateLibrary({ classes: 9, variants: 5, segmentsPerRendition: 4, segmentBytes: 20_000, seed: 'abc' });
    expect(l.classes).toHaveLength(9);
    expect(withFeatureIn(l, 'aes128')).toHaveLength(1);
    expect(withFeatureIn(l, 'byterange')).toHaveLength(1);
    for (const c of l.classes) {
      const master = text(l, c.manifestPath);
      expect(master.match(/#EXT-X-STREAM-INF:/g)).toHaveLength(5);
      const variant = scanPlaylist(c.manifestPath, master).find((r) => r.via === 'uri-line')!;
      expect(scanPlaylist(variant.path, text(l, variant.path)).filter((r) => r.via === 'uri-line')).toHaveLength(4);
    }
    // Video segments average segmentBytes (±30% jitter per segment, 1/2..3/2 across the ladder).
    const sizes = l.classes
      .filter((c) => !c.features.includes('byterange'))
      .flatMap((c) => c.paths.filter((p) => /\/\d+p\/seg-/.test(p)))
      .map((p) => l.stat(p)!.size);
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(mean).toBeGreaterThan(20_000 * 0.85);
    expect(mean).toBeLessThan(20_000 * 1.15);
  });

  it('stays valid and closed under references for any knob setting', () => {
    HLS.setOptions({ strictMode: true, silent: true });
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.oneof(fc.nat(), fc.string({ minLength: 1, maxLength: 8 })),
          classes: fc.integer({ min: 1, max: 14 }),
          variants: fc.integer({ min: 1, max: 7 }),
          segmentsPerRendition: fc.integer({ min: 1, max: 5 }),
          segmentBytes: fc.integer({ min: 1024, max: 4096 }),
          segmentSeconds: fc.integer({ min: 1, max: 10 }),
        }),
        (opts) => {
          const l = generateLibrary(opts);
          expect(l.classes).toHaveLength(opts.classes);
          expect(new Set(l.paths()).size).toBe(l.totalFiles);
          for (const c of l.classes) {
            const { files, refs } = crawl(l, c);
            for (const r of refs) expect(l.stat(r.path), r.uri).toBeDefined();
            expect(files.size).toBe(c.files);
            for (const p of playlists(c)) HLS.parse(text(l, p));
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('rejects bad knobs with a message naming the knob', () => {
    expect(() => generateLibrary({ classes: 0 })).toThrow(/classes/);
    expect(() => generateLibrary({ variants: 8 })).toThrow(/variants/);
    expect(() => generateLibrary({ segmentsPerRendition: 1.5 })).toThrow(/segmentsPerRendition/);
    expect(() => generateLibrary({ segmentBytes: 10 })).toThrow(/segmentBytes/);
    expect(() => generateLibrary({ pathPrefix: '/a/../b' })).toThrow(/pathPrefix/);
  });
});

function withFeatureIn(l: SampleLibrary, f: ClassFeature): SampleClass[] {
  return l.classes.filter((c) => c.features.includes(f));
}

describe('sample library: catalog documents', () => {
  it('lists valid classes as broadcast and one document of each skipped kind', () => {
    const base = 'http://127.0.0.1:9999/';
    const docs = lib.catalogDocuments(base);
    expect(docs).toHaveLength(lib.classes.length + 4);
    for (const c of lib.classes) {
      const d = docs.find((x) => x._id.toHexString() === c.id)!;
      expect(d._id).toBeInstanceOf(ObjectId);
      expect(d).toMatchObject({
        title: c.title,
        status: 'broadcast',
        isTest: false,
        manifestUrl: `http://127.0.0.1:9999${c.manifestPath}`,
      });
      expect(d.endedAt!.getTime()).toBeGreaterThan(d.startedAt.getTime());
    }
    expect(lib.skipped.map((s) => s.kind).sort()).toEqual(['aborted', 'live', 'no-manifest', 'test']);
    for (const s of lib.skipped) {
      const d = docs.find((x) => x._id.toHexString() === s.id)!;
      expect(d.title).toBe(s.title);
      expect(s.reason.length).toBeGreaterThan(0);
      if (d.manifestUrl) expect(lib.stat(new URL(d.manifestUrl).pathname)).toBeUndefined();
      const valid = d.status === 'broadcast' && !d.isTest && d.manifestUrl !== undefined && d.endedAt !== undefined;
      expect(valid, s.kind).toBe(false);
    }
    const byKind = Object.fromEntries(
      lib.skipped.map((s) => [s.kind, docs.find((x) => x._id.toHexString() === s.id)!]),
    );
    expect(byKind.test).toMatchObject({ isTest: true, status: 'broadcast' });
    expect(byKind.aborted).toMatchObject({ status: 'aborted' });
    expect(byKind['no-manifest']!.manifestUrl).toBeUndefined();
    expect(byKind.live).toMatchObject({ status: 'live' });
    expect(byKind.live!.endedAt).toBeUndefined();
  });

  it('keeps a base URL path prefix and refuses a relative base', () => {
    const [d] = lib.catalogDocuments('https://cdn.example.com/origin/');
    expect(d!.manifestUrl).toBe(`https://cdn.example.com/origin${lib.classes[0]!.manifestPath}`);
    expect(() => lib.catalogDocuments('/relative')).toThrow(/absolute/);
  });
});
