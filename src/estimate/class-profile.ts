/**
 * One sampled class, measured: its files (from the crawler's own enumeration), their sizes (known
 * from playlists, byte ranges and size probes, or estimated from a probed subsample of the class's
 * files), and the requests its copy would make. Pure: the crawl (crawl.ts) feeds it.
 */
import { FILE_KINDS, type FileKind, type PlannedFile } from '../hls/types.ts';
import { classRequests, s3RequestsForFile, type ClassRequests, type RequestShape } from './requests.ts';
import { sampleVariance, type Weighted } from './stats.ts';

/** How a file's size came to be known. */
export type SizeSource = 'playlist' | 'byterange' | 'probe';

/** Files whose size must be probed, grouped so that files alike are measured together. */
export interface Stratum {
  name: string;
  /** Every file of the stratum (keys). */
  keys: string[];
  /** The files chosen for a size probe (all of them when the budget allows). */
  probe: string[];
}

/**
 * Splits `budget` probes over strata of these sizes: every stratum gets min(size, 2) (two values give
 * a variance), the rest in proportion to what is left of each (largest remainders). Undefined when the
 * budget cannot give every stratum its two.
 */
export function allocateProbes(populations: readonly number[], budget: number): number[] | undefined {
  const total = populations.reduce((a, b) => a + b, 0);
  if (budget >= total) return [...populations];
  const base = populations.map((u) => Math.min(u, 2));
  let left = budget - base.reduce((a, b) => a + b, 0);
  if (left < 0) return undefined;
  const room = populations.map((u, i) => u - base[i]!);
  const roomTotal = room.reduce((a, b) => a + b, 0);
  const exact = room.map((r) => (roomTotal === 0 ? 0 : (left * r) / roomTotal));
  const out = base.map((b, i) => b + Math.floor(exact[i]!));
  left -= exact.reduce((a, e) => a + Math.floor(e), 0);
  const order = exact.map((e, i) => ({ i, rest: e - Math.floor(e) })).sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    if (out[i]! < populations[i]!) {
      out[i]!++;
      left--;
    }
  }
  return out;
}

function directoryOf(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash < 0 ? '' : key.slice(0, slash);
}

/**
 * Chooses which files of a class to probe for their size, within `budget` probes. Files alike share a
 * stratum: same kind in the same directory (one rendition's segments), else same kind, else all
 * together, the finest grouping the budget allows. Undefined when not even two probes fit.
 */
export function chooseProbes(
  files: readonly PlannedFile[],
  budget: number,
  random: () => number,
): Stratum[] | undefined {
  if (files.length === 0) return [];
  const groupings: Array<(f: PlannedFile) => string> = [
    (f) => `${f.kind} ${directoryOf(f.key)}/`,
    (f) => f.kind,
    () => 'all files',
  ];
  for (const group of groupings) {
    const byName = new Map<string, string[]>();
    for (const f of files) {
      const name = group(f);
      const list = byName.get(name);
      if (list) list.push(f.key);
      else byName.set(name, [f.key]);
    }
    const strata = [...byName].map(([name, keys]) => ({ name, keys }));
    const counts = allocateProbes(
      strata.map((s) => s.keys.length),
      budget,
    );
    if (!counts) continue;
    return strata.map((s, i) => ({ ...s, probe: pick(s.keys, counts[i]!, random) }));
  }
  return undefined;
}

/** `k` of `items` drawn without replacement (a partial Fisher–Yates shuffle), in their original order. */
function pick(items: readonly string[], k: number, random: () => number): string[] {
  if (k >= items.length) return [...items];
  const idx = items.map((_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (idx.length - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx
    .slice(0, k)
    .sort((a, b) => a - b)
    .map((i) => items[i]!);
}

/** An estimated class total and the variance of that estimate (0 when every file was measured). */
export interface Estimated {
  value: number;
  variance: number;
}

/** Per-kind files and (estimated) bytes. */
export type KindTotals = Partial<Record<FileKind, { files: number; bytes: number }>>;

/** A sampled class, measured. */
export interface ClassProfile {
  classId: string;
  manifestUrl: string;
  files: number;
  playlists: number;
  bytes: Estimated;
  /** S3 requests to store every file (PutObject, or Create + parts + Complete). */
  s3Requests: Estimated;
  multipartFiles: Estimated;
  /** Files by how their size is known; `estimated` files stand in a probed stratum's mean. */
  sizeSources: Record<SizeSource | 'estimated', number>;
  /** Probed files the origin did not have (they would fail the copy). */
  missing: number;
  byKind: KindTotals;
  /** File sizes, each weighted by how many of the class's files it stands for. */
  sizes: Weighted[];
  requests: ClassRequests;
  /** Time the enumeration took from here (playlists only). */
  crawlSeconds: number;
  /** Requests this estimate made for the class: playlists and size probes. */
  originRequests: number;
}

/** What the crawl learned about one class. */
export interface ClassMeasurement {
  classId: string;
  title: string;
  manifestUrl: string;
  /** The crawler's enumeration, in key order. */
  files: readonly PlannedFile[];
  /** Sizes known for certain, by key (playlist bodies, byte ranges, successful probes). */
  known: ReadonlyMap<string, { bytes: number; source: SizeSource }>;
  /** The strata of files that needed a probe (empty when nothing did). */
  strata: readonly Stratum[];
  /** Probed keys that answered 404 (or otherwise could not be sized for good). */
  missing: ReadonlySet<string>;
  crawlSeconds: number;
  originRequests: number;
}

/** Builds a class's profile: exact where every file was sized, stratified estimates where only some were. */
export function profileClass(m: ClassMeasurement, shape: RequestShape & { partSizeBytes: number }): ClassProfile {
  const perFile = (bytes: number) =>
    [bytes, s3RequestsForFile(bytes, shape.partSizeBytes), bytes > shape.partSizeBytes ? 1 : 0] as const;
  const totals = [0, 0, 0];
  const variances = [0, 0, 0];
  const sizes: Weighted[] = [];
  const byKind: KindTotals = {};
  const sizeSources: ClassProfile['sizeSources'] = { playlist: 0, byterange: 0, probe: 0, estimated: 0 };
  const kindOf = new Map(m.files.map((f) => [f.key, f.kind]));
  const addKind = (key: string, bytes: number) => {
    const kind = kindOf.get(key) ?? 'other';
    const k = (byKind[kind] ??= { files: 0, bytes: 0 });
    k.files++;
    k.bytes += bytes;
  };

  const inStrata = new Set(m.strata.flatMap((s) => s.keys));
  for (const f of m.files) {
    if (inStrata.has(f.key)) continue;
    const known = m.known.get(f.key);
    // A file neither known nor in a stratum should not happen (crawl.ts puts every unsized file in one).
    const bytes = known?.bytes ?? 0;
    if (known) sizeSources[known.source]++;
    perFile(bytes).forEach((v, i) => (totals[i]! += v));
    sizes.push({ value: bytes, weight: 1 });
    addKind(f.key, bytes);
  }

  // Sized strata files: each stratum's population total is N_h × mean, variance N_h²(1 − m_h/N_h)s_h²/m_h.
  const pooled = m.strata.flatMap((s) => s.probe.filter((k) => m.known.has(k)).map((k) => m.known.get(k)!.bytes));
  const pooledMean = pooled.length ? pooled.reduce((a, b) => a + b, 0) / pooled.length : 0;
  for (const s of m.strata) {
    const measured = s.probe.filter((k) => m.known.has(k));
    const population = s.keys.length - s.keys.filter((k) => m.missing.has(k)).length;
    const values = measured.map((k) => perFile(m.known.get(k)!.bytes));
    // No probe of this stratum answered: stand in the class's other probed files (no variance known).
    const columns = values.length
      ? [0, 1, 2].map((i) => values.map((v) => v[i]!))
      : [
          [pooledMean],
          [s3RequestsForFile(pooledMean, shape.partSizeBytes)],
          [pooledMean > shape.partSizeBytes ? 1 : 0],
        ];
    const mh = columns[0]!.length;
    columns.forEach((col, i) => {
      const meanH = col.reduce((a, b) => a + b, 0) / mh;
      totals[i]! += population * meanH;
      if (values.length && mh < population)
        variances[i]! += (population * population * (1 - mh / population) * sampleVariance(col)) / mh;
    });
    const meanBytes = columns[0]!.reduce((a, b) => a + b, 0) / mh;
    for (const k of s.keys) {
      if (m.missing.has(k)) continue;
      const known = m.known.get(k);
      if (known) {
        sizeSources[known.source]++;
        addKind(k, known.bytes);
      } else {
        sizeSources.estimated++;
        addKind(k, meanBytes);
      }
    }
    for (const k of measured) sizes.push({ value: m.known.get(k)!.bytes, weight: population / mh });
    if (!values.length && population > 0) sizes.push({ value: pooledMean, weight: population });
  }

  const sorted = FILE_KINDS.filter((k) => byKind[k]).map((k) => [k, byKind[k]!] as const);
  return {
    classId: m.classId,
    manifestUrl: m.manifestUrl,
    files: m.files.length,
    playlists: m.files.filter((f) => f.kind === 'playlist').length,
    bytes: { value: totals[0]!, variance: variances[0]! },
    s3Requests: { value: totals[1]!, variance: variances[1]! },
    multipartFiles: { value: totals[2]!, variance: variances[2]! },
    sizeSources,
    missing: m.missing.size,
    byKind: Object.fromEntries(sorted),
    sizes,
    requests: classRequests(
      { classId: m.classId, title: m.title, manifestUrl: m.manifestUrl, files: m.files, etagBytes: 32 },
      shape,
    ),
    crawlSeconds: m.crawlSeconds,
    originRequests: m.originRequests,
  };
}
