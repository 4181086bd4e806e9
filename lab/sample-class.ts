// Over 400 lines on purpose: one class's file layout, each feature (variants, audio, subtitles, I-frames, keys, fMP4) a few lines of the same builder; the rendering itself is in sample-hls.ts.
/**
 * Builds the files of one sample class: master, variant/audio/subtitle/I-frame playlists,
 * segments, init segments, keys and session data, laid out according to the class's features.
 */
import { CONTENT_TYPES } from '../src/pipeline/content-type.ts';
import type { FileKind } from '../src/hls/types.ts';
import { noiseSource, staticSource, type ByteSource, type Patch } from './sample-bytes.ts';
import {
  renderMaster,
  renderMedia,
  renderVtt,
  type IFrameVariant,
  type MediaEntry,
  type MediaPlaylist,
  type Variant,
} from './sample-hls.ts';
import { renderMpd, type DashRepresentation } from './sample-dash.ts';
import { digest, random, type Random } from './sample-random.ts';

/** What makes a class interesting to copy. */
export type ClassFeature =
  | 'ts'
  | 'fmp4'
  | 'aes128'
  | 'key-rotation'
  | 'session-key'
  | 'byterange'
  | 'nested'
  | 'iframes'
  | 'query'
  | 'root-relative'
  | 'session-data'
  /** A DASH manifest (manifest.mpd) beside the master, over the same fMP4 files (copied with ALSO_COPY_MANIFESTS). */
  | 'dash';

/** What a file is to a player (the same names `flants plan` prints). */
export type SampleFileKind = Exclude<FileKind, 'other'>;

export interface BuiltFile {
  path: string;
  kind: SampleFileKind;
  contentType: string;
  source: ByteSource;
}

export interface ClassParams {
  seed: string;
  index: number;
  id: string;
  root: string;
  features: readonly ClassFeature[];
  variants: number;
  segments: number;
  segmentBytes: number;
  segmentSeconds: number;
}

export interface BuiltClass {
  manifestPath: string;
  durationSeconds: number;
  files: BuiltFile[];
}

const LADDER: ReadonlyArray<{ width: number; height: number; codec: string }> = [
  { width: 416, height: 234, codec: 'avc1.64000d' },
  { width: 640, height: 360, codec: 'avc1.64001e' },
  { width: 960, height: 540, codec: 'avc1.64001f' },
  { width: 1280, height: 720, codec: 'avc1.64001f' },
  { width: 1920, height: 1080, codec: 'avc1.640028' },
  { width: 2560, height: 1440, codec: 'avc1.640032' },
  { width: 3840, height: 2160, codec: 'avc1.640033' },
];
export const MAX_VARIANTS = LADDER.length;
const AUDIO_CODEC = 'mp4a.40.2';
const FRAME_RATE = 25;

// What the origin says each file is: the product's own table, so the copy's types can be checked against it.
const TYPES = {
  playlist: CONTENT_TYPES.m3u8!,
  ts: CONTENT_TYPES.ts!,
  m4s: CONTENT_TYPES.m4s!,
  mp4: CONTENT_TYPES.mp4!,
  vtt: CONTENT_TYPES.vtt!,
  key: CONTENT_TYPES.key!,
  json: CONTENT_TYPES.json!,
  mpd: CONTENT_TYPES.mpd!,
};

type Group = 'video' | 'audio' | 'subs';

/** Where a class keeps its playlists and media. */
interface Layout {
  playlist(group: Group, name: string): string;
  mediaDir(group: Group, name: string): string;
  iframes(name: string): string;
}

function layoutFor(root: string, nested: boolean): Layout {
  if (nested) {
    // Playlists and media live in sibling trees, so every media reference climbs with "../".
    return {
      playlist: (g, n) => `${root}/playlists/${g}/${n}.m3u8`,
      mediaDir: (g, n) => `${root}/media/${g}/${n}/`,
      iframes: (n) => `${root}/playlists/video/${n}-iframes.m3u8`,
    };
  }
  const dir = (g: Group, n: string) => `${root}/${g === 'video' ? n : `${g}-${n}`}/`;
  return {
    playlist: (g, n) => `${dir(g, n)}index.m3u8`,
    mediaDir: dir,
    iframes: (n) => `${dir('video', n)}iframes.m3u8`,
  };
}

/** The relative reference from the file at `from` to the file at `to` (both absolute paths). */
export function relativeRef(from: string, to: string): string {
  const fromDir = from.split('/').slice(0, -1);
  const target = to.split('/');
  let common = 0;
  while (common < fromDir.length && common < target.length - 1 && fromDir[common] === target[common]) common++;
  return '../'.repeat(fromDir.length - common) + target.slice(common).join('/');
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function boxHeader(type: string, size: number): Buffer {
  return Buffer.concat([u32(size), Buffer.from(type, 'latin1')]);
}

// ftyp(24) then a moov box spanning the rest: enough for a sniffer to call it an MP4 init segment.
function initPatches(at: number, size: number): Patch[] {
  const ftyp = Buffer.concat([
    boxHeader('ftyp', 24),
    Buffer.from('iso6', 'latin1'),
    u32(0),
    Buffer.from('iso6mp41', 'latin1'),
  ]);
  return [
    { offset: at, bytes: ftyp },
    { offset: at + 24, bytes: boxHeader('moov', size - 24) },
  ];
}

const MOOF_SIZE = 104;
const FMP4_MIN_SEGMENT = 256;

// styp(24), moof(104), then mdat over the rest: the shape of a CMAF media segment.
function segmentPatches(at: number, size: number): Patch[] {
  const styp = Buffer.concat([
    boxHeader('styp', 24),
    Buffer.from('msdh', 'latin1'),
    u32(0),
    Buffer.from('msdhmsix', 'latin1'),
  ]);
  return [
    { offset: at, bytes: styp },
    { offset: at + 24, bytes: boxHeader('moof', MOOF_SIZE) },
    { offset: at + 24 + MOOF_SIZE, bytes: boxHeader('mdat', size - 24 - MOOF_SIZE) },
  ];
}

function pad(n: number): string {
  return String(n).padStart(5, '0');
}

/** Segment durations: mostly the nominal length, some shorter, the last one short. */
function durationsFor(rng: Random, count: number, nominal: number): number[] {
  return Array.from({ length: count }, (_, k) => {
    const raw =
      k === count - 1 && count > 1
        ? nominal * (0.3 + 0.6 * rng.next())
        : rng.next() < 0.25
          ? nominal * (0.75 + 0.25 * rng.next())
          : nominal;
    return Math.max(0.04, Math.round(raw * 1000) / 1000);
  });
}

interface SegmentRef {
  path: string;
  offset: number;
  length: number;
}

/** Builds every file of one class. */
export function buildClass(p: ClassParams): BuiltClass {
  const features = new Set(p.features);
  const rng = random('class-layout', p.seed, p.index);
  const ts = features.has('ts');
  const aes = features.has('aes128');
  const byterange = features.has('byterange');
  const layout = layoutFor(p.root, features.has('nested'));
  const files: BuiltFile[] = [];
  const seen = new Set<string>();
  const add = (path: string, kind: SampleFileKind, contentType: string, source: ByteSource) => {
    if (seen.has(path)) throw new Error(`sample library bug: ${path} generated twice`);
    seen.add(path);
    files.push({ path, kind, contentType, source });
  };
  const ref = (from: string, to: string): string => {
    const base = features.has('root-relative') ? to : relativeRef(from, to);
    // Tokens differ per target, like signed CDN URLs; the origin ignores them.
    return features.has('query') ? `${base}?token=${digest('token', p.seed, to).toString('hex').slice(0, 12)}` : base;
  };

  const durations = durationsFor(rng, p.segments, p.segmentSeconds);
  const targetDuration = Math.ceil(Math.max(...durations));
  const totalSeconds = durations.reduce((a, b) => a + b, 0);
  // Encrypted payloads are whole AES blocks; clear TS is whole 188-byte packets.
  const align = aes ? 16 : ts ? 188 : 1;
  const minSize = ts ? 2 * 188 : FMP4_MIN_SEGMENT;
  const noise = (path: string, size: number, patches: Patch[] = []) =>
    noiseSource([p.seed, path], size, { tsSync: ts && !aes, patches });
  const sizeOf = (avg: number): number =>
    Math.max(minSize, Math.round((avg * (0.7 + 0.6 * rng.next())) / align) * align);

  /** One video or audio rendition: its media files, keys and playlist. */
  const media = (
    group: 'video' | 'audio',
    name: string,
    avg: number,
  ): { playlist: string; segments: SegmentRef[]; initRef: SegmentRef | undefined } => {
    const dir = layout.mediaDir(group, name);
    const playlist = layout.playlist(group, name);
    const sizes = durations.map(() => sizeOf(avg));
    const segType = ts ? TYPES.ts : TYPES.m4s;
    const segments: SegmentRef[] = [];
    let initRef: SegmentRef | undefined;
    if (byterange) {
      // One file holds the whole rendition (and its init section): it is ONE file to copy.
      const file = `${dir}${ts ? 'media.ts' : 'main.mp4'}`;
      const patches: Patch[] = [];
      let offset = 0;
      if (!ts) {
        const initSize = rng.int(700, 1500);
        patches.push(...initPatches(0, initSize));
        initRef = { path: file, offset: 0, length: initSize };
        offset = initSize;
      }
      for (const size of sizes) {
        if (!ts) patches.push(...segmentPatches(offset, size));
        segments.push({ path: file, offset, length: size });
        offset += size;
      }
      add(file, 'segment', ts ? TYPES.ts : TYPES.mp4, noise(file, offset, patches));
    } else {
      if (!ts) {
        const init = `${dir}init.mp4`;
        const initSize = rng.int(700, 1500);
        add(init, 'init', TYPES.mp4, noise(init, initSize, initPatches(0, initSize)));
        initRef = { path: init, offset: 0, length: initSize };
      }
      sizes.forEach((size, k) => {
        const seg = `${dir}seg-${pad(k)}.${ts ? 'ts' : 'm4s'}`;
        add(seg, 'segment', segType, noise(seg, size, ts ? [] : segmentPatches(0, size)));
        segments.push({ path: seg, offset: 0, length: size });
      });
    }
    const entries: MediaEntry[] = segments.map((s, k) => ({
      uri: ref(playlist, s.path),
      duration: durations[k]!,
      ...(byterange ? { byterange: { length: s.length, offset: s.offset } } : {}),
    }));
    if (aes) {
      const keyAt = (k: number, fileName: string) => {
        const keyPath = `${dir}${fileName}`;
        add(keyPath, 'key', TYPES.key, staticSource(digest('aes-key', p.seed, keyPath).subarray(0, 16)));
        entries[k]!.key = { uri: ref(playlist, keyPath), iv: digest('aes-iv', p.seed, keyPath).subarray(0, 16) };
      };
      keyAt(0, 'key.bin');
      // A second key half-way: parsers that keep only the last EXT-X-KEY miss the first one.
      if (features.has('key-rotation') && entries.length > 1) keyAt(Math.floor(entries.length / 2), 'key2.bin');
    }
    const pl: MediaPlaylist = {
      targetDuration,
      entries,
      ...(initRef
        ? {
            map: {
              uri: ref(playlist, initRef.path),
              ...(byterange ? { byterange: { length: initRef.length, offset: initRef.offset } } : {}),
            },
          }
        : {}),
    };
    add(playlist, 'playlist', TYPES.playlist, staticSource(renderMedia(pl)));
    return { playlist, segments, initRef };
  };

  const ladderStart = p.variants < LADDER.length ? 1 : 0;
  const rungs = LADDER.slice(ladderStart, ladderStart + p.variants);
  // Bigger renditions get bigger segments; the factors average to 1 so segmentBytes stays the mean.
  const factor = (v: number) => (rungs.length === 1 ? 1 : 0.5 + v / (rungs.length - 1));
  const videos = rungs.map((r, v) => ({ rung: r, ...media('video', `${r.height}p`, p.segmentBytes * factor(v)) }));
  const audio = media('audio', 'en', p.segmentBytes / 4);

  const subsDir = layout.mediaDir('subs', 'en');
  const subsPlaylist = layout.playlist('subs', 'en');
  let cueStart = 0;
  const subPaths: string[] = [];
  const subEntries: MediaEntry[] = durations.map((duration, k) => {
    const path = `${subsDir}sub-${pad(k)}.vtt`;
    subPaths.push(path);
    add(
      path,
      'subtitle',
      TYPES.vtt,
      staticSource(renderVtt({ start: cueStart, duration, text: `Line ${k + 1} of class ${p.id}`, mpegTs: ts })),
    );
    cueStart += duration;
    return { uri: ref(subsPlaylist, path), duration };
  });
  add(subsPlaylist, 'playlist', TYPES.playlist, staticSource(renderMedia({ targetDuration, entries: subEntries })));

  const manifestPath = `${p.root}/master.m3u8`;
  const iframes: IFrameVariant[] = [];
  if (features.has('iframes')) {
    for (const v of videos) {
      const name = `${v.rung.height}p`;
      const path = layout.iframes(name);
      const lengths = v.segments.map((s) =>
        Math.min(
          s.length,
          ts
            ? Math.max(188, Math.round(s.length / 8 / 188) * 188)
            : Math.max(FMP4_MIN_SEGMENT, Math.round(s.length / 8)),
        ),
      );
      // With byte ranges an I-frame is the head of a segment in the one big file; otherwise each
      // I-frame is its own small file, so only the byterange class ever uses EXT-X-BYTERANGE.
      const entries: MediaEntry[] = v.segments.map((s, k) => {
        const length = lengths[k]!;
        if (byterange)
          return { uri: ref(path, s.path), duration: durations[k]!, byterange: { length, offset: s.offset } };
        const file = `${layout.mediaDir('video', name)}iframe-${pad(k)}.${ts ? 'ts' : 'm4s'}`;
        add(file, 'segment', ts ? TYPES.ts : TYPES.m4s, noise(file, length, ts ? [] : segmentPatches(0, length)));
        return { uri: ref(path, file), duration: durations[k]! };
      });
      const pl: MediaPlaylist = {
        targetDuration,
        iframesOnly: true,
        entries,
        ...(v.initRef
          ? {
              map: {
                uri: ref(path, v.initRef.path),
                ...(byterange ? { byterange: { length: v.initRef.length, offset: v.initRef.offset } } : {}),
              },
            }
          : {}),
      };
      add(path, 'playlist', TYPES.playlist, staticSource(renderMedia(pl)));
      iframes.push({
        bandwidth: Math.ceil(Math.max(...lengths.map((l, k) => (l * 8) / durations[k]!))),
        width: v.rung.width,
        height: v.rung.height,
        codecs: v.rung.codec,
        uri: ref(manifestPath, path),
      });
    }
  }

  let sessionData: { dataId: string; uri: string } | undefined;
  if (features.has('session-data')) {
    const path = `${p.root}/meta/chapters.json`;
    const starts = durations.map((_, k) => durations.slice(0, k).reduce((a, b) => a + b, 0));
    const chapters = {
      classId: p.id,
      chapters: starts
        .filter((_, k) => k % 4 === 0)
        .map((start, c) => ({ title: `Chapter ${c + 1}`, start: Math.round(start * 1000) / 1000 })),
    };
    add(path, 'data', TYPES.json, staticSource(`${JSON.stringify(chapters, null, 2)}\n`));
    sessionData = { dataId: 'com.flants.chapters', uri: ref(manifestPath, path) };
  }

  const variants: Variant[] = videos.map((v) => {
    const bytes = v.segments.map((s, k) => s.length + audio.segments[k]!.length);
    return {
      bandwidth: Math.ceil(Math.max(...bytes.map((b, k) => (b * 8) / durations[k]!))),
      averageBandwidth: Math.ceil((bytes.reduce((a, b) => a + b, 0) * 8) / totalSeconds),
      width: v.rung.width,
      height: v.rung.height,
      codecs: `${v.rung.codec},${AUDIO_CODEC}`,
      frameRate: FRAME_RATE,
      audio: 'aud',
      subtitles: 'subs',
      uri: ref(manifestPath, v.playlist),
    };
  });
  const firstKey = aes ? `${layout.mediaDir('video', `${rungs[0]!.height}p`)}key.bin` : undefined;
  // The master declares the highest version its media playlists need.
  const version = !ts ? 6 : byterange || iframes.length ? 4 : 3;
  const master = renderMaster({
    version,
    renditions: [
      {
        type: 'AUDIO',
        groupId: 'aud',
        name: 'English',
        language: 'en',
        isDefault: true,
        channels: '2',
        uri: ref(manifestPath, audio.playlist),
      },
      {
        type: 'SUBTITLES',
        groupId: 'subs',
        name: 'English',
        language: 'en',
        isDefault: false,
        uri: ref(manifestPath, subsPlaylist),
      },
    ],
    variants,
    iframes,
    ...(sessionData ? { sessionData } : {}),
    ...(firstKey && features.has('session-key') ? { sessionKey: { uri: ref(manifestPath, firstKey) } } : {}),
  });
  add(manifestPath, 'playlist', TYPES.playlist, staticSource(master));
  if (features.has('dash') && !ts) {
    const mpdPath = `${p.root}/manifest.mpd`;
    const baseRef = (to: string): string => (features.has('root-relative') ? to : relativeRef(mpdPath, to));
    const dirRef = (dir: string): string => baseRef(`${dir}x`).slice(0, -1);
    const bandwidthOf = (segments: readonly SegmentRef[]) =>
      Math.ceil(Math.max(...segments.map((s, k) => (s.length * 8) / durations[k]!)));
    const durationsMs = durations.map((d) => Math.round(d * 1000));
    const rep = (
      id: string,
      r: { segments: SegmentRef[]; initRef: SegmentRef | undefined },
      group: 'video' | 'audio',
      name: string,
    ): DashRepresentation => {
      if (byterange) {
        const file = r.segments[0]!.path;
        return {
          id,
          bandwidth: bandwidthOf(r.segments),
          baseUrl: baseRef(file),
          addressing: {
            type: 'ranges',
            init: { first: 0, last: r.initRef!.length - 1 },
            segments: r.segments.map((s) => ({ first: s.offset, last: s.offset + s.length - 1 })),
          },
        };
      }
      return {
        id,
        bandwidth: bandwidthOf(r.segments),
        baseUrl: dirRef(layout.mediaDir(group, name)),
        addressing: { type: 'template', init: 'init.mp4', media: 'seg-$Number%05d$.m4s', startNumber: 0, durationsMs },
      };
    };
    const mpd = renderMpd({
      durationSeconds: totalSeconds,
      sets: [
        {
          contentType: 'video',
          mimeType: 'video/mp4',
          representations: videos.map((v) => ({
            ...rep(`${v.rung.height}p`, v, 'video', `${v.rung.height}p`),
            codecs: v.rung.codec,
            width: v.rung.width,
            height: v.rung.height,
          })),
        },
        {
          contentType: 'audio',
          mimeType: 'audio/mp4',
          lang: 'en',
          representations: [{ ...rep('audio-en', audio, 'audio', 'en'), codecs: AUDIO_CODEC }],
        },
        {
          contentType: 'text',
          mimeType: 'text/vtt',
          lang: 'en',
          representations: [
            {
              id: 'subs-en',
              bandwidth: 256,
              baseUrl: dirRef(subsDir),
              addressing: {
                type: 'list',
                media: subPaths.map((s) => s.slice(subsDir.length)),
                durationMs: p.segmentSeconds * 1000,
              },
            },
          ],
        },
      ],
    });
    add(mpdPath, 'playlist', TYPES.mpd, staticSource(mpd));
  }
  return { manifestPath, durationSeconds: Math.round(totalSeconds * 1000) / 1000, files };
}
