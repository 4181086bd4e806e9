/**
 * A deterministic sample HLS library: the same options always give the same paths and bytes.
 * Playlists are held in memory; media bytes are generated on demand from a keyed keystream, so a
 * library of any size costs only its file list.
 */
import type { Readable } from 'node:stream';
import { readSource, sliceSource, sourceSize, type ByteRange, type ByteSource } from './sample-bytes.ts';
import {
  buildCatalogDocuments,
  SKIP_KINDS,
  skipReason,
  type SampleDocument,
  type SkippedClass,
  type SkipKind,
} from './sample-catalog.ts';
import { buildClass, MAX_VARIANTS, type ClassFeature, type SampleFileKind } from './sample-class.ts';
import { digest, random } from './sample-random.ts';

export type { ByteRange } from './sample-bytes.ts';
export type { SampleDocument, CatalogStatus, SkippedClass, SkipKind } from './sample-catalog.ts';
export type { ClassFeature, SampleFileKind } from './sample-class.ts';

/** Knobs of the generator; every one is optional. */
/**
 * The settings a copy of the sample library needs beyond the defaults: its fMP4 classes publish a DASH
 * manifest beside their master playlist (manifest.mpd), which FLAnts copies only when told to.
 */
export const LIBRARY_ENV = { ALSO_COPY_MANIFESTS: 'manifest.mpd' } as const;

export interface LibraryOptions {
  /** Same seed, same library. Default 1. */
  seed?: number | string;
  /** Valid classes. Default 6 (enough for one class of each feature). */
  classes?: number;
  /** Video variants per class, 1..7. Default 3. */
  variants?: number;
  /** Media segments in each video/audio/subtitle rendition. Default 12. */
  segmentsPerRendition?: number;
  /** Mean video segment size in bytes (each varies ±30%; audio is a quarter). Default 96 KiB. */
  segmentBytes?: number;
  /** Nominal segment duration in seconds. Default 6. */
  segmentSeconds?: number;
  /** URL path under which classes live. Default "/vod". */
  pathPrefix?: string;
}

export type ResolvedLibraryOptions = Required<LibraryOptions>;

/** The size and type an origin reports for a file, and its validators (as a CDN sends them). */
export interface FileStat {
  size: number;
  contentType: string;
  /** A strong ETag derived from the library's seed and the path: the same bytes, the same tag. */
  etag?: string;
  /** Last-Modified (HTTP date): the class's end. */
  lastModified?: string;
}

/** One file of the library. */
export interface SampleFile extends FileStat {
  path: string;
  classId: string;
  kind: SampleFileKind;
}

/** One valid class (catalog status 'broadcast', ended, not a test). */
export interface SampleClass {
  id: string;
  title: string;
  manifestPath: string;
  features: readonly ClassFeature[];
  /** Distinct files (a byte-ranged file counts once). */
  files: number;
  bytes: number;
  paths: readonly string[];
  durationSeconds: number;
  startedAt: Date;
  endedAt: Date;
}

export interface SampleLibrary {
  readonly options: ResolvedLibraryOptions;
  readonly classes: readonly SampleClass[];
  /** Catalog documents the scanner must skip; no origin file exists for them. */
  readonly skipped: readonly SkippedClass[];
  readonly totalFiles: number;
  readonly totalBytes: number;
  /** Every file path, class by class. */
  paths(): string[];
  file(path: string): SampleFile | undefined;
  stat(path: string): FileStat | undefined;
  /** Streams a file or an inclusive byte range of it; throws for an unknown path or bad range. */
  read(path: string, range?: ByteRange): Readable;
  /** A whole file (or a range) as one buffer, for verification. */
  bytes(path: string, range?: ByteRange): Buffer;
  /** Catalog documents: every valid class as 'broadcast', then one document of each skipped kind. */
  catalogDocuments(originBaseUrl: string): SampleDocument[];
}

export const DEFAULT_LIBRARY_OPTIONS: ResolvedLibraryOptions = {
  seed: 1,
  classes: 6,
  variants: 3,
  segmentsPerRendition: 12,
  segmentBytes: 96 * 1024,
  segmentSeconds: 6,
  pathPrefix: '/vod',
};

// The first classes cover one feature set each; exactly one is encrypted, exactly one byte-ranged; the fMP4
// ones publish a DASH manifest beside the master (one over separate files, one over byte ranges, one root-relative).
const FEATURE_PLANS: ReadonlyArray<readonly ClassFeature[]> = [
  ['fmp4', 'nested', 'iframes', 'session-data', 'dash'],
  ['ts', 'aes128', 'key-rotation', 'session-key'],
  ['fmp4', 'byterange', 'iframes', 'dash'],
  ['ts', 'iframes', 'query'],
  ['fmp4', 'root-relative', 'dash'],
  ['ts'],
];

function featuresFor(index: number): readonly ClassFeature[] {
  const plan = FEATURE_PLANS[index];
  if (plan) return plan;
  return [
    index % 2 ? 'ts' : 'fmp4',
    ...(index % 3 === 0 ? (['nested'] as const) : []),
    ...(index % 4 === 0 ? (['iframes'] as const) : []),
  ];
}

const SUBJECTS = [
  'Algebra',
  'Organic Chemistry',
  'World History',
  'Microeconomics',
  'Classical Mechanics',
  'Creative Writing',
  'Statistics',
  'Cell Biology',
  'Music Theory',
  'Art History',
  'Linear Algebra',
  'Spanish',
];
const SESSIONS = ['Lecture', 'Seminar', 'Workshop', 'Review', 'Lab'];

// Catalog dates start here; each seed shifts them and each class is one day after the last.
const EPOCH_SECONDS = Date.UTC(2024, 0, 8, 9, 0, 0) / 1000;

/** A 24-hex ObjectId whose timestamp orders classes by index. */
function classIdentity(seed: string, index: number): { id: string; startedAt: Date } {
  const shift = digest('epoch', seed).readUInt32BE(0) % (180 * 86_400);
  const d = digest('class-id', seed, index);
  const ts = EPOCH_SECONDS + shift + index * 86_400 + (d.readUInt16BE(0) % 3600);
  const id = Buffer.alloc(12);
  id.writeUInt32BE(ts, 0);
  d.copy(id, 4, 2, 10);
  return { id: id.toString('hex'), startedAt: new Date(ts * 1000) };
}

function titleFor(seed: string, index: number): string {
  const r = random('title', seed, index);
  return `${r.pick(SUBJECTS)} ${r.pick(SESSIONS)} ${r.int(1, 30)}`;
}

function intOption(name: keyof LibraryOptions, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`library option ${name} must be a whole number from ${min} to ${max}, got ${value}`);
  return value;
}

/** Fills in defaults and rejects out-of-range knobs with a message naming the knob. */
export function resolveLibraryOptions(opts: LibraryOptions = {}): ResolvedLibraryOptions {
  const o = {
    ...DEFAULT_LIBRARY_OPTIONS,
    ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
  } as ResolvedLibraryOptions;
  if (typeof o.seed === 'number' ? !Number.isFinite(o.seed) : o.seed === '')
    throw new RangeError('library option seed must be a finite number or a non-empty string');
  intOption('classes', o.classes, 1, 100_000);
  intOption('variants', o.variants, 1, MAX_VARIANTS);
  intOption('segmentsPerRendition', o.segmentsPerRendition, 1, 100_000);
  intOption('segmentBytes', o.segmentBytes, 1024, 1024 * 1024 * 1024);
  if (!(o.segmentSeconds >= 1 && o.segmentSeconds <= 60))
    throw new RangeError(`library option segmentSeconds must be from 1 to 60, got ${o.segmentSeconds}`);
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(o.pathPrefix) || o.pathPrefix.split('/').some((s) => s === '.' || s === '..')) {
    throw new RangeError(`library option pathPrefix must look like "/vod" or "/a/b", got "${o.pathPrefix}"`);
  }
  return o;
}

interface Entry extends SampleFile {
  source: ByteSource;
}

/** Generates the sample library described by `opts` (see LibraryOptions for the defaults). */
export function generateLibrary(opts?: LibraryOptions): SampleLibrary {
  const options = resolveLibraryOptions(opts);
  const seed = String(options.seed);
  const entries = new Map<string, Entry>();
  const classes: SampleClass[] = [];

  for (let index = 0; index < options.classes; index++) {
    const { id, startedAt } = classIdentity(seed, index);
    const features = featuresFor(index);
    const built = buildClass({
      seed,
      index,
      id,
      root: `${options.pathPrefix}/${id}`,
      features,
      variants: options.variants,
      segments: options.segmentsPerRendition,
      segmentBytes: options.segmentBytes,
      segmentSeconds: options.segmentSeconds,
    });
    let bytes = 0;
    for (const f of built.files) {
      const size = sourceSize(f.source);
      entries.set(f.path, {
        path: f.path,
        classId: id,
        kind: f.kind,
        size,
        contentType: f.contentType,
        source: f.source,
      });
      bytes += size;
    }
    // A class ends when its media does, plus a few minutes of wrap-up.
    const endedAt = new Date(startedAt.getTime() + Math.ceil(built.durationSeconds + 300) * 1000);
    classes.push({
      id,
      title: titleFor(seed, index),
      manifestPath: built.manifestPath,
      features,
      files: built.files.length,
      bytes,
      paths: built.files.map((f) => f.path),
      durationSeconds: built.durationSeconds,
      startedAt,
      endedAt,
    });
  }

  const modified = new Map(classes.map((c) => [c.id, c.endedAt.toUTCString()]));

  const skippedEntries = SKIP_KINDS.map((kind: SkipKind, k) => {
    const index = options.classes + k;
    const { id, startedAt } = classIdentity(seed, index);
    return {
      id,
      kind,
      title: `${titleFor(seed, index)} (${kind})`,
      manifestPath: `${options.pathPrefix}/${id}/master.m3u8`,
      startedAt,
      endedAt: new Date(startedAt.getTime() + 3_600_000),
    };
  });
  const skipped: SkippedClass[] = skippedEntries.map((s) => ({
    id: s.id,
    title: s.title,
    kind: s.kind,
    reason: skipReason(s.kind),
  }));
  const totalBytes = classes.reduce((a, c) => a + c.bytes, 0);

  const entry = (path: string): Entry => {
    const e = entries.get(path);
    if (!e) throw new Error(`no file ${path} in the sample library`);
    return e;
  };

  return {
    options,
    classes,
    skipped,
    totalFiles: entries.size,
    totalBytes,
    paths: () => [...entries.keys()],
    file(path) {
      const e = entries.get(path);
      return e && { path: e.path, classId: e.classId, kind: e.kind, size: e.size, contentType: e.contentType };
    },
    stat(path) {
      const e = entries.get(path);
      return (
        e && {
          size: e.size,
          contentType: e.contentType,
          etag: `"${digest('etag', seed, path).toString('hex').slice(0, 32)}"`,
          lastModified: modified.get(e.classId),
        }
      );
    },
    read: (path, range) => readSource(entry(path).source, range),
    bytes: (path, range) => sliceSource(entry(path).source, range),
    catalogDocuments: (originBaseUrl) => buildCatalogDocuments(originBaseUrl, classes, skippedEntries),
  };
}
