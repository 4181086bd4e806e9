// The in-memory ledger's class record: how it is stored, written (one update with DynamoDB's meaning)
// and read (failure counts derived from the failed set, as the DynamoDB adapter derives them).
import { judgeEndedAt, secondsBetween } from '../../domain/lifecycle/class-dates.ts';
import type { ClassState, Effect } from '../../domain/lifecycle/class-lifecycle.ts';
import type { ClassInfo, ClassRecord, LandedFile } from '../../domain/ledger/records.ts';

/** The stored attributes of a class record (what readers see, less what is derived when read). */
export type Rec = Partial<ClassRecord> & { classId: string };

/** A class as the memory ledger holds it: its record, and its current generation's failed set. */
export interface Stored {
  rec: Rec;
  /** Failed chunks of the current generation: chunk → files that failed. */
  failed: Map<number, number>;
  /** Each failed chunk's first reason (the DynamoDB record keeps a sample of them). */
  reasons: Map<number, string>;
}

type Field = Exclude<keyof Rec, 'classId'>;
type NumericField = { [K in Field]-?: NonNullable<Rec[K]> extends number ? K : never }[Field];

/**
 * One write of a class record, with an update expression's meaning: what it sets or adds wins over
 * what it removes, and counters add to what is stored. Built, then committed in one step.
 */
export class Update {
  private readonly sets = new Map<Field, unknown>();
  private readonly adds = new Map<NumericField, number>();
  private readonly removes = new Set<Field>();

  set<K extends Field>(k: K, v: Rec[K]): this {
    this.sets.set(k, v);
    return this;
  }

  add(k: NumericField, n: number): this {
    this.adds.set(k, (this.adds.get(k) ?? 0) + n);
    return this;
  }

  remove(...ks: Field[]): this {
    for (const k of ks) this.removes.add(k);
    return this;
  }

  commit(rec: Rec): void {
    const r = rec as Record<string, unknown>;
    for (const k of this.removes) if (!this.sets.has(k) && !this.adds.has(k as NumericField)) delete r[k];
    for (const [k, v] of this.sets) r[k] = v;
    for (const [k, n] of this.adds) r[k] = Number(r[k] ?? 0) + n;
  }
}

/** The lifecycle's view of a stored class: all of it (the failed set and the done chunks included). */
export function stateOf(s: Stored, doneIds: number[]): ClassState {
  const r = s.rec;
  return {
    status: r.status,
    gen: r.gen ?? 0,
    planId: r.planId,
    forcedAt: r.forcedAt,
    changedAt: r.changedAt,
    totalChunks: r.totalChunks ?? 0,
    doneChunks: r.doneChunks ?? 0,
    failed: [...s.failed.keys()],
    crawlError: r.crawlError,
    completedGen: r.completedGen,
    replans: r.replans ?? 0,
    doneIds,
    bucketAheadMoves: r.bucketAheadMoves,
  };
}

/** The attributes every write that may create the record sets: who the class is, and what freshness counts from. */
export function identityOf(u: Update, rec: Rec, classId: string, info: ClassInfo, at: string): void {
  u.set('title', info.title ?? classId).set('manifestUrl', info.manifestUrl);
  if (rec.createdAt === undefined) u.set('createdAt', at);
  // An implausible end (the epoch, the far future) is no end.
  const ended = judgeEndedAt(info.endedAt, new Date(at)).endedAt;
  if (ended) u.set('endedAt', ended);
  // Freshness counts from the class's end, or from when FLAnts first heard of it when the catalog has none.
  if (rec.freshFrom === undefined) u.set('freshFrom', ended ?? at);
}

/** The record as readers see it (a copy): failure counts, ids and the standing reason derived from the failed set. */
export function recordView(s: Stored, doneIds: number[]): ClassRecord {
  const {
    goneAtOrigin,
    failedChunks: _fc,
    failedFiles: _ff,
    failedChunkIds: _fi,
    doneChunkIds: _di,
    lastError: _le,
    ...rest
  } = structuredClone(s.rec);
  const rec = rest as ClassRecord;
  const ids = [...s.failed.keys()].sort((a, b) => a - b);
  rec.failedChunks = ids.length;
  rec.failedFiles = ids.reduce((n, c) => n + (s.failed.get(c) ?? 0), 0);
  rec.failedChunkIds = ids;
  rec.doneChunkIds = doneIds;
  const reason =
    rec.crawlError ??
    ids.map((c) => s.reasons.get(c)).find((r) => r !== undefined) ??
    (ids.length
      ? `${ids.length} chunk(s) failed; "flants status ${rec.classId}" lists their files and reasons`
      : undefined);
  if (reason) rec.lastError = reason;
  if (goneAtOrigin && goneAtOrigin.count > 0) rec.goneAtOrigin = goneAtOrigin;
  return rec;
}

/** A landed file as a chunk record keeps it: the optional fields only when they say something. */
export function landedCopy(f: LandedFile): LandedFile {
  const out: Record<string, unknown> = { key: f.key, bytes: f.bytes, etag: f.etag };
  for (const [k, v] of Object.entries(f)) if (!(k in out) && v) out[k] = structuredClone(v);
  return out as unknown as LandedFile;
}

/** The effect's clauses beyond the event's own (the DynamoDB adapter's `effectUpdate`, on a record). */
export function effectOn(
  u: Update,
  s: Stored,
  effect: Effect,
  at: string,
  extra: { crawlError?: string; failedFiles?: number; freshFrom?: string | undefined },
): { freshnessSeconds?: number } {
  let freshFrom = extra.freshFrom;
  if (effect.status) u.set('status', effect.status);
  u.set('updatedAt', at);
  const g = effect.newGeneration;
  if (g) {
    u.set('gen', g.gen).set('planId', g.planId).set('totalChunks', g.totalChunks);
    u.set('doneChunks', 0).set('doneFiles', 0).set('doneBytes', 0).set('crawledAt', at);
    s.failed.clear();
    s.reasons.clear();
    if (g.forcedAt) u.set('forcedAt', g.forcedAt);
    if (g.changedAt) u.set('changedAt', g.changedAt);
    // A generation a forced copy or a change check started is as fresh as that request, not as the class's end.
    const started = g.cause === 'changed' ? g.changedAt : g.cause === 'forced' ? g.forcedAt : undefined;
    if (started) u.set('freshFrom', (freshFrom = started));
    if (g.cause === 'bucketAhead') u.add('bucketAheadMoves', 1);
    else u.remove('bucketAheadMoves');
    u.remove('goneAtOrigin', 'completedAt', 'freshnessSeconds', 'lastAttemptError', 'lastAttemptAt');
    u.remove('failedAttempts', 'waiting', 'waitUntil', 'warnings');
  }
  if (effect.fail) s.failed.set(effect.fail.chunk, extra.failedFiles ?? 0);
  if (effect.unfail) {
    s.failed.delete(effect.unfail.chunk);
    s.reasons.delete(effect.unfail.chunk);
  }
  let freshnessSeconds: number | undefined;
  if (effect.complete) {
    u.set('completedGen', effect.complete.gen).set('completedAt', at);
    u.remove('lastAttemptError', 'lastAttemptAt', 'bucketAheadMoves', 'replans');
    freshnessSeconds = secondsBetween(freshFrom, at);
    if (freshnessSeconds !== undefined) u.set('freshnessSeconds', freshnessSeconds);
  }
  if (effect.replans !== undefined) {
    if (effect.replans > 0) u.set('replans', effect.replans);
    else u.remove('replans');
  }
  if (effect.clearCrawlError) u.remove('crawlError');
  if (effect.setCrawlError) u.set('crawlError', extra.crawlError ?? 'crawl failed');
  return freshnessSeconds === undefined ? {} : { freshnessSeconds };
}
