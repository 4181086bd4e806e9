// How fast and how far: bars from bit fields, rates from successive snapshots, ETAs and stuck classes.
// The ledger keeps no time series (a per-minute counter would be one more write per chunk on one hot
// item, contending with every transfer's transaction), so whoever watches derives rates from the
// totals it saw over time: `flants status --watch` and the live page (src/dashboard/browser/, which
// bundles this very module) with these classes, so the two cannot disagree.
//
// Pure and self-contained on purpose: the browser bundle imports it, so it imports nothing (not even
// types from Node-side modules, which the browser's type check cannot load) and uses no Node API.
// Rows are taken by shape: a ClassRow here, a row of status.json (undefined as null) on the page.

/** A bit field as the ledger keeps it (docs/ledger.md, "The bit field"): ClassBits, by shape. */
export interface BitField {
  unit?: string;
  total: number;
  /** Hex, `ceil(total / 4)` digits; bit i is the most significant first of digit i >> 2. */
  done: string;
  failed: string;
}

/** What the trackers read of a class: a ClassRow, or the page's JSON of one (where undefined is null). */
export interface TrackedClass {
  classId: string;
  gen: number;
  status: string;
  doneFiles: number;
  totalFiles?: number | null | undefined;
  updatedAt?: string | null | undefined;
  waitUntil?: string | null | undefined;
}

/** One cell of a progress bar: every chunk it covers done, some, none, or any failed. */
export type BarCell = 'done' | 'part' | 'wait' | 'fail';

/** The bar characters, for a terminal and the page without script. */
export const BAR_CHARS: Record<BarCell, string> = { done: '█', part: '▓', wait: '░', fail: '✕' };

/** Draws a bit field as `width` cells (bits squeezed, or stretched when fewer); a failed bit marks its cell. */
export function barCells(bits: BitField, width: number): BarCell[] {
  const cells = bits.total > 0 ? Math.max(0, width) : 0;
  const done = unpack(bits.done, bits.total);
  const failed = unpack(bits.failed, bits.total);
  const out: BarCell[] = [];
  for (let c = 0; c < cells; c++) {
    const from = Math.floor((c * bits.total) / cells);
    const to = Math.max(from + 1, Math.floor(((c + 1) * bits.total) / cells));
    let d = 0;
    let f = false;
    for (let i = from; i < to; i++) {
      if (failed[i]) f = true;
      else if (done[i]) d++;
    }
    out.push(f ? 'fail' : d === to - from ? 'done' : d > 0 ? 'part' : 'wait');
  }
  return out;
}

/** Value of each hex digit by character code (lower and upper case). */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let v = 0; v < 16; v++) {
  HEX_VALUE[v.toString(16).charCodeAt(0)] = v;
  HEX_VALUE[v.toString(16).toUpperCase().charCodeAt(0)] = v;
}
/** The value of hex digit `j` of a bit field (bits 4j..4j+3, the first the most significant); 0 past its end or for a character that is not hex. */
export const hexDigit = (hex: string, j: number): number => Math.max(0, HEX_VALUE[hex.charCodeAt(j)] ?? 0);

/** The first `total` bits of a hex bit field, one byte each (0 or 1). */
function unpack(hex: string, total: number): Uint8Array {
  const out = new Uint8Array(total);
  for (let j = 0; j < hex.length && j * 4 < total; j++) {
    const v = hexDigit(hex, j);
    for (let k = 0; k < 4 && j * 4 + k < total; k++) out[j * 4 + k] = (v >> (3 - k)) & 1;
  }
  return out;
}

/** How many bits of a hex bit field are set. */
export function countBits(hex: string): number {
  let n = 0;
  for (let j = 0; j < hex.length; j++) for (let v = hexDigit(hex, j); v; v &= v - 1) n++;
  return n;
}

/** The bar as plain text. */
export function barText(bits: BitField, width: number): string {
  return barCells(bits, width)
    .map((c) => BAR_CHARS[c])
    .join('');
}

/** Totals seen at one moment. */
export interface RateSample {
  t: number;
  files: number;
  bytes: number;
}

/** Files and bytes per second over a window, and how much of the window the samples cover. */
export interface Rate {
  filesPerSecond: number;
  bytesPerSecond: number;
  spanMs: number;
}

/** The windows operators read: the last minutes (what is happening) and the last hour (what to expect). */
export const RATE_WINDOWS = { recentMs: 5 * 60_000, hourMs: 60 * 60_000 } as const;

/**
 * Keeps the totals it is shown, an hour's worth, and answers rates over a window. Only increases
 * count: a forced copy starts its class from zero, which is not negative progress.
 */
export class RateTracker {
  private readonly samples: RateSample[];
  private readonly minGapMs: number;

  /**
   * `samples`: totals seen before (the page keeps its hour in the browser across reloads), oldest
   * first. `minGapMs`: a sample closer than this to the previous one is not kept (the page polls
   * fast and redraws on demand; an hour of samples stays small).
   */
  constructor(opts: { samples?: readonly RateSample[]; minGapMs?: number } = {}) {
    this.samples = [...(opts.samples ?? [])];
    this.minGapMs = opts.minGapMs ?? 0;
  }

  /** Records the totals seen at time `t` (ms). */
  add(t: number, files: number, bytes: number): void {
    const last = this.samples.at(-1);
    if (!last || (t > last.t && t - last.t >= this.minGapMs)) this.samples.push({ t, files, bytes });
    const keepFrom = t - RATE_WINDOWS.hourMs - 60_000;
    while (this.samples.length > 2 && this.samples[0]!.t < keepFrom) this.samples.shift();
  }

  /** The samples kept, oldest first. */
  kept(): readonly RateSample[] {
    return this.samples;
  }

  /** Rate over the samples of the last `windowMs` before `now`; undefined with fewer than two a second apart. */
  rate(windowMs: number, now: number): Rate | undefined {
    const inWindow = this.samples.filter((s) => s.t >= now - windowMs);
    if (inWindow.length < 2) return undefined;
    const spanMs = inWindow.at(-1)!.t - inWindow[0]!.t;
    if (spanMs < 1000) return undefined;
    let files = 0;
    let bytes = 0;
    for (let i = 1; i < inWindow.length; i++) {
      files += Math.max(0, inWindow[i]!.files - inWindow[i - 1]!.files);
      bytes += Math.max(0, inWindow[i]!.bytes - inWindow[i - 1]!.bytes);
    }
    return { filesPerSecond: (files * 1000) / spanMs, bytesPerSecond: (bytes * 1000) / spanMs, spanMs };
  }

  /** Files (or bytes) per second in `buckets` equal slices of the last `windowMs`, for a small chart. */
  series(windowMs: number, buckets: number, now: number, of: 'files' | 'bytes' = 'files'): number[] {
    const out = new Array<number>(buckets).fill(0);
    const size = windowMs / buckets;
    for (let i = 1; i < this.samples.length; i++) {
      const s = this.samples[i]!;
      // A sample taken right at `now` belongs to the last slice, not one past it.
      const b = Math.min(buckets - 1, Math.floor((s.t - (now - windowMs)) / size));
      if (b >= 0 && s.t <= now) out[b]! += (Math.max(0, s[of] - this.samples[i - 1]![of]) * 1000) / size;
    }
    return out;
  }
}

/** Statuses in which a class is expected to move; FAILED waits for a person, COMPLETE is done. */
const MOVING = new Set<string>(['PENDING', 'CRAWLING', 'TRANSFERRING']);

/**
 * Remembers, per class, when its counters last moved and what it did over the last minutes: the
 * class's ETA and whether it is stuck (no progress for N minutes). A class first seen is taken to
 * have last moved at its record's updatedAt.
 */
export class ProgressTracker {
  private readonly seen = new Map<
    string,
    { key: string; since: number; samples: Array<{ t: number; files: number }> }
  >();

  /** Records the rows seen at time `now` (ms). */
  observe(rows: readonly TrackedClass[], now: number): void {
    for (const r of rows) {
      const key = `${r.gen}:${r.status}:${r.doneFiles}`;
      const prev = this.seen.get(r.classId);
      if (!prev || prev.key !== key) {
        const since = prev ? now : Math.min(now, Date.parse(r.updatedAt ?? '') || now);
        // A new generation counts from zero: its rate starts afresh.
        const samples = prev && r.doneFiles >= (prev.samples.at(-1)?.files ?? 0) ? prev.samples : [];
        this.seen.set(r.classId, { key, since, samples });
      }
      const entry = this.seen.get(r.classId)!;
      entry.samples.push({ t: now, files: r.doneFiles });
      while (entry.samples.length > 2 && entry.samples[0]!.t < now - RATE_WINDOWS.recentMs) entry.samples.shift();
    }
  }

  /** Forgets the classes not in `classIds` (the page drops what it no longer lists). */
  keepOnly(classIds: ReadonlySet<string>): void {
    for (const id of this.seen.keys()) if (!classIds.has(id)) this.seen.delete(id);
  }

  /** When the class last moved (ms), as far as this tracker knows. */
  since(classId: string): number | undefined {
    return this.seen.get(classId)?.since;
  }

  /** True when a class that should move has not moved for `minutes` and is not waiting on purpose. */
  isStuck(r: TrackedClass, minutes: number, now: number): boolean {
    if (!MOVING.has(r.status)) return false;
    if (r.waitUntil && Date.parse(r.waitUntil) > now) return false;
    const since = this.since(r.classId);
    return since !== undefined && now - since >= minutes * 60_000;
  }

  /** Files per second of one class over the last minutes; undefined until it was seen twice. */
  classRate(classId: string): number | undefined {
    const s = this.seen.get(classId)?.samples;
    if (!s || s.length < 2) return undefined;
    const span = s.at(-1)!.t - s[0]!.t;
    return span >= 1000 ? ((s.at(-1)!.files - s[0]!.files) * 1000) / span : undefined;
  }

  /** Milliseconds until the class has every file, at its recent rate; undefined when unknown or not moving. */
  eta(r: TrackedClass): number | undefined {
    if (r.status !== 'TRANSFERRING' || r.totalFiles === undefined || r.totalFiles === null) return undefined;
    const rate = this.classRate(r.classId);
    if (!rate || rate <= 0) return undefined;
    return ((r.totalFiles - r.doneFiles) / rate) * 1000;
  }
}

/** Files done of the plan's: "12 / 40 (30%)", and "3 / ?" while the plan is unknown. */
export function filesProgress(doneFiles: number, totalFiles: number | null | undefined): string {
  if (totalFiles === undefined || totalFiles === null) return `${doneFiles} / ?`;
  const pct = totalFiles > 0 ? Math.floor((doneFiles / totalFiles) * 100) : 100;
  return `${doneFiles} / ${totalFiles} (${pct}%)`;
}

/** A duration as people say it: 45 s, 3 min 20 s, 2 h 5 min. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/**
 * Time from first enqueue to COMPLETE over the classes given: how long the copy itself took, not
 * freshness (end of broadcast to COMPLETE), which the ledger records per class and the views show.
 */
export function timeToComplete(
  rows: readonly { createdAt?: string | null | undefined; completedAt?: string | null | undefined }[],
): { classes: number; medianMs: number; maxMs: number } | undefined {
  const spans = rows
    .map((r) => (r.createdAt && r.completedAt ? Date.parse(r.completedAt) - Date.parse(r.createdAt) : NaN))
    .filter((d) => Number.isFinite(d) && d >= 0)
    .sort((a, b) => a - b);
  if (spans.length === 0) return undefined;
  return { classes: spans.length, medianMs: spans[Math.floor((spans.length - 1) / 2)]!, maxMs: spans.at(-1)! };
}
