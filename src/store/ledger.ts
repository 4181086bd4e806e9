import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { FlantsError } from '../errors.ts';
import { judgeEndedAt, plausibleInstant } from '../lifecycle/class-dates.ts';
import {
  decide,
  type ClassEvent,
  type ClassState,
  type ClassStatus,
  type Decision,
  type Effect,
  type Guard,
  type SkipWhy,
} from '../lifecycle/class-lifecycle.ts';

export type { ClassStatus } from '../lifecycle/class-lifecycle.ts';

/** The class record (`pk=CLASS#<id>, sk=META`) as readers see it; failure counts are derived from the failed set. */
export interface ClassRecord {
  classId: string;
  status: ClassStatus;
  title?: string;
  manifestUrl?: string;
  /** Current plan generation (0 or absent before the first plan). */
  gen?: number;
  planId?: string;
  forcedAt?: string;
  /** When a change check found the origin changed: the latest generation such a finding started. */
  changedAt?: string;
  /** When the class ended (the catalog's endedAt), as the scanner or crawl job gave it; only a plausible one (`judgeEndedAt`) is kept. */
  endedAt?: string;
  /**
   * What freshness counts from for the current generation: the class's end (or its first enqueue
   * when the catalog has none), or the change check's finding / the forced copy that started it.
   */
  freshFrom?: string;
  /** Seconds from `freshFrom` to COMPLETE, set by the write that completed the generation. */
  freshnessSeconds?: number;
  /** The last change check of a COMPLETE generation: when, and what it found. */
  checkedAt?: string;
  checkResult?: string;
  /**
   * Keys an earlier generation copied that the current plan no longer has (a file the origin
   * dropped): they stay in the bucket, listed here (at most 200; `removedCount` counts all).
   */
  removedFiles?: string[];
  removedCount?: number;
  /**
   * Files of the current generation the origin no longer has (404, 410) whose verified copy is in
   * the bucket: kept, not failed (docs/ledger.md, "Gone at the origin"). `count` counts them all,
   * `keys` lists at most MAX_GONE_LISTED of them. Absent when there are none.
   */
  goneAtOrigin?: GoneFiles;
  /** Times the bucket moved this class's generation up since it last completed or planned on its own. */
  bucketAheadMoves?: number;
  totalFiles?: number;
  totalChunks?: number;
  doneChunks?: number;
  doneFiles?: number;
  doneBytes?: number;
  failedChunks?: number;
  failedFiles?: number;
  /** Chunk numbers of the current generation recorded as failed. */
  failedChunkIds?: number[];
  /** Chunk numbers of the current generation counted done (the stored `doneSet`), ascending; for the dashboard's bit field. */
  doneChunkIds?: number[];
  /** The standing reason: the crawl error, else a failed chunk's reason. */
  lastError?: string;
  crawlError?: string;
  /** The latest failed delivery that SQS will retry, with when; cleared when the class completes. */
  lastAttemptError?: string;
  lastAttemptAt?: string;
  failedAttempts?: number;
  /** Why the class waits (playlists still growing), and until when at most. */
  waiting?: string;
  waitUntil?: string;
  /**
   * When the class was first seen waiting: kept across re-crawls and re-sent crawl jobs, removed when a
   * plan is recorded. Without a plausible endedAt the grace period counts from it.
   */
  waitingSince?: string;
  /** Things an operator should know about a copy that still completed (e.g. copied without EXT-X-ENDLIST). */
  warnings?: string[];
  completedGen?: number;
  /** Re-plans in a row asked for by transfers that found a playlist naming other files (see REPLAN_MAX). */
  replans?: number;
  createdAt?: string;
  updatedAt?: string;
  crawledAt?: string;
  completedAt?: string;
}

/** One file of a chunk as it landed in S3: the proof the report and verification use. */
export interface LandedFile {
  key: string;
  bytes: number;
  etag: string;
  /** Where it was copied from: a change check asks the origin about it again. */
  src?: string;
  /** A playlist's SHA-256: of the bytes stored (the ones the transfer read), what verification compares. */
  sha256?: string;
  /** A playlist's reference digest (the files it names), what a change check compares a new version by. */
  refs?: string;
  /** Where a playlist sits in the layout when a redirect above it moved it (its references are keyed from there). */
  base?: string;
  /** Variables a playlist IMPORTs, to scan it again alone. */
  vars?: Record<string, string>;
  /** The origin's validators when it was copied (ETag, Last-Modified), for conditional requests later. */
  originEtag?: string;
  originModified?: string;
  /** The origin answered 404/410 for it; the verified copy the bucket held (of this or an earlier generation) was kept. */
  goneAtOrigin?: boolean;
}

/** Files the origin no longer has, kept in the bucket: all counted, a few named. */
export interface GoneFiles {
  count: number;
  keys: string[];
}

/** What the ledger did with a bucket answer newer than the job's generation. */
export type BucketAheadOutcome =
  /** The bucket was ahead of the ledger's current generation: the plan moved above it (`gen`); re-plan it. */
  | { outcome: 'moved'; gen: number }
  /** It kept being ahead (MAX_BUCKET_AHEAD_MOVES): the class is FAILED with the reason given. */
  | { outcome: 'failed' }
  /** The ledger is at or past the bucket's generation (the job was old), or the class is COMPLETE: nothing moved. */
  | { outcome: 'stale' };

export interface FailedFile {
  key: string;
  src: string;
  reason: string;
}

export interface FailureRecord {
  classId: string;
  gen: number;
  chunk: number;
  files: FailedFile[];
  /** More files failed than the record could hold; `files` lists the first ones. */
  truncated?: number;
  provisional: boolean;
  at: string;
}

/** One scan page's verdicts, kept so "why was my class not copied?" has an answer. */
export interface ScanPageRecord {
  scanId: string;
  page: string;
  at: string;
  scanned: number;
  enqueued: string[];
  skipped: Array<{ classId: string; reason: string; detail?: string }>;
}

/** The plan a crawl found, as the ledger records it. */
export interface PlanInput {
  planId: string;
  totalFiles: number;
  totalChunks: number;
  /** requestedAt of a forced copy: a newer one starts a new generation even for the same files. */
  forcedAt?: string | undefined;
  /** When a change check found a COMPLETE class's origin changed: starts a new generation from COMPLETE. */
  changedAt?: string | undefined;
  /** Keys of earlier generations this plan no longer has (written only with a new generation). */
  removed?: readonly string[];
  warnings?: string[];
  /** The crawl was asked for by a transfer's PLAYLIST_CHANGED (already counted by `requestReplan`). */
  replan?: boolean;
}

export interface PlanResult {
  outcome: 'new' | 'resumed' | 'complete';
  gen: number;
  /** Chunks of this generation already done (only for a resumed plan). */
  done: Set<number>;
  /** True when this call marked the generation COMPLETE (an empty plan, or a resume that found it done). */
  completed: boolean;
  /** Seconds from the generation's `freshFrom` to COMPLETE, when this call completed it. */
  freshnessSeconds?: number;
  /** The class's re-plans in a row after this plan: its transfer jobs carry it, so what they find names their round (absent: 0). */
  replans?: number;
}

/** What became of a transfer's request to re-plan: one re-plan counted, the run's limit reached (FAILED), or spent already. */
export type ReplanOutcome = 'counted' | 'failed' | 'stale';

export type CountOutcome = 'counted' | 'duplicate' | 'stale';

export interface CountResult {
  outcome: CountOutcome;
  /** True for the one call that marked the generation COMPLETE. */
  completed: boolean;
  /** Seconds from the generation's `freshFrom` to COMPLETE, for the call that completed it. */
  freshnessSeconds?: number;
}

/** What a transfer needs to know before it copies: the class record and whether the chunk is done. */
export interface ChunkView {
  record: ClassRecord | undefined;
  chunkDone: boolean;
}

export type FailureOutcome = 'recorded' | 'chunk-done' | 'stale' | 'complete' | 'already-recorded';

/** What the catalog (or a crawl job) says about a class, written with its lifecycle's first events. */
export interface ClassInfo {
  title?: string | undefined;
  manifestUrl: string;
  /** The catalog's endedAt (ISO): freshness counts from it. Stored only when plausible (`judgeEndedAt`). */
  endedAt?: string | undefined;
}

/** What the pipeline needs of the ledger; every status change is the lifecycle's decision, written conditionally. */
export interface Ledger {
  getClass(classId: string): Promise<ClassRecord | undefined>;
  getClasses(classIds: readonly string[]): Promise<Map<string, ClassRecord>>;
  listClasses(): Promise<ClassRecord[]>;
  /**
   * One page of the COMPLETE class records of one shard of the class index (0 to CLASS_SHARDS − 1),
   * after a class id: what a change check walks. `last` is set when the shard has more.
   */
  pageCompleteClasses(
    shard: number,
    after: string | undefined,
    limit: number,
  ): Promise<{ records: ClassRecord[]; last?: string }>;
  /** Records that a class was enqueued; never downgrades an existing record. */
  markPending(classId: string, info: ClassInfo): Promise<void>;
  /** A crawl began; false when the class is COMPLETE (nothing to crawl unless forced). */
  markCrawling(classId: string, info: ClassInfo): Promise<void>;
  /**
   * The class's playlists may still grow: it waits (status PENDING) with the reason shown. `since` is
   * stored as `waitingSince` unless the class already has one (it was seen waiting before).
   */
  markWaiting(classId: string, info: ClassInfo & { reason: string; until: string; since: string }): Promise<void>;
  /**
   * Notes a change check of a COMPLETE generation (no status change); false when it is no longer that
   * generation, or not COMPLETE. `gone`: the files the check found gone at the origin (their verified
   * copies are the generation's own), which replace the ones listed before.
   */
  markChecked(classId: string, gen: number, result: string, gone?: GoneFiles): Promise<boolean>;
  /**
   * A transfer of generation `gen` found an object of generation `bucketGen` in the bucket. If the
   * ledger's current generation is below it, the plan moves above the bucket (the caller re-plans), or,
   * after MAX_BUCKET_AHEAD_MOVES moves, the class fails with `reason`.
   */
  recordBucketAhead(classId: string, gen: number, bucketGen: number, reason: string): Promise<BucketAheadOutcome>;
  /** Records a crawl's plan: the same plan resumes its generation, any other starts a new one. */
  recordPlan(classId: string, plan: PlanInput): Promise<PlanResult>;
  /**
   * A transfer of generation `gen`, sent at `replans` re-plans in a row, found a playlist naming other
   * files: counts one re-plan for that round (`counted`: the caller crawls), or past `max` marks the
   * class FAILED with `reason` (`failed`); `stale` when another request of the round came first.
   */
  requestReplan(
    classId: string,
    request: { gen: number; replans: number; max: number; reason: string },
  ): Promise<ReplanOutcome>;
  /** One read: the class record and whether this chunk of this generation is done. */
  viewChunk(classId: string, gen: number, chunk: number): Promise<ChunkView>;
  /**
   * Counts a chunk once for its generation, completing the class when it is the last (one transaction).
   * With `planId` (the job's), only for that plan: a job sent before the ledger was reset may carry a
   * generation number the ledger reuses for another plan.
   */
  countChunk(
    classId: string,
    gen: number,
    chunk: number,
    files: readonly LandedFile[],
    seen?: ClassRecord,
    planId?: string,
  ): Promise<CountResult>;
  /** Notes a failed delivery that SQS will retry, so status shows it before the last one. */
  noteAttemptFailure(classId: string, gen: number, chunk: number, reason: string): Promise<void>;
  /** Records failed files of a chunk (its last delivery failed, or began: `provisional`) and marks the class FAILED. */
  recordChunkFailure(
    classId: string,
    gen: number,
    chunk: number,
    files: readonly FailedFile[],
    opts?: { provisional?: boolean; planId?: string },
  ): Promise<FailureOutcome>;
  /** Marks a class FAILED for a reason that is not a file; refused for a class whose plan is fully copied. */
  failCrawl(
    classId: string,
    reason: string,
    opts?: { provisional?: boolean; info?: { title?: string; manifestUrl: string } },
  ): Promise<boolean>;
  /** Failures of the current generation's failed chunks. */
  listFailures(classId: string): Promise<FailureRecord[]>;
  listChunks(classId: string, gen: number): Promise<Array<{ chunk: number; files: LandedFile[] }>>;
  /**
   * Claims a scan page for one message, named by `holder` (the page token the message carries, which
   * a redelivery and a DLQ redrive keep; else its message id): `claimed` for the first holder to ask
   * and for it again while the page is unfinished; `done` once that page finished (its continuation
   * was sent); `taken` for any other holder (a duplicate continuation). Only `claimed` may do the
   * page's work.
   */
  claimScanPage(scanId: string, page: string, holder: string): Promise<'claimed' | 'done' | 'taken'>;
  /** Marks a claimed page finished: its redeliveries do nothing, so no second continuation is sent. */
  finishScanPage(scanId: string, page: string): Promise<void>;
  recordScanPage(page: ScanPageRecord): Promise<void>;
  getScan(scanId: string): Promise<ScanPageRecord[]>;
  /** The instant up to which scheduled scans have read the catalog by these change fields (`updatedAt,endedAt`), if one finished. */
  getWatermark(fields: string): Promise<string | undefined>;
  /** Moves that watermark forward to `at` when a scan that started then has read its last page; never back. */
  advanceWatermark(fields: string, at: string, scanId: string): Promise<boolean>;
}

const META = 'META';
/** Index of class records only; its partition key is sharded (see serverless.yml). */
const CLASS_INDEX = 'classes';
export const CLASS_SHARDS = 8;
/** Skip details kept per scan page, and characters per detail: a page record stays far below 400 KB. */
const MAX_SKIP_DETAILS = 500;
const MAX_DETAIL_CHARS = 200;
/** A failure record keeps at most this many characters of file listing (DynamoDB items stop at 400 KB). */
const MAX_FAILURE_CHARS = 300_000;
const MAX_REASON_CHARS = 500;
/** Removed files listed on a class record (all are counted). */
const MAX_REMOVED_LISTED = 200;
/** Files gone at the origin named on a class record (all are counted): a few KB at most of the 400 KB item. */
export const MAX_GONE_LISTED = 20;
/** Attempts at one lifecycle write when its guard was overtaken or the item was busy. */
const MAX_TRIES = 12;

/** The index keys every class record carries, so `listClasses` never scans chunk items. */
const listKeys = (classId: string) => ({
  listPk: `CLASSES#${createHash('md5').update(classId).digest()[0]! % CLASS_SHARDS}`,
  listSk: classId,
});
const pk = (classId: string) => `CLASS#${classId}`;
const pad = (n: number) => String(n).padStart(6, '0');
const chunkSk = (gen: number, chunk: number) => `CHUNK#${pad(gen)}#${pad(chunk)}`;
const failSk = (gen: number, chunk: number) => `FAIL#${pad(gen)}#${pad(chunk)}`;
/** One watermark per set of change fields: changing SCAN_CHANGE_FIELDS starts from a full scan. */
const watermarkKey = (fields: string) => ({ pk: 'SCAN#watermark', sk: `FIELDS#${fields}` });
const now = () => new Date().toISOString();

interface FailedEntry {
  /** Files that failed. */
  n: number;
  /** The first reason. */
  r: string;
  /** Recorded when the last delivery began, not yet confirmed. */
  p?: boolean;
}

type Item = Record<string, unknown>;

function failedMap(item: Item): Record<string, FailedEntry> {
  const m = item.failed;
  return m && typeof m === 'object' ? (m as Record<string, FailedEntry>) : {};
}

/** The record as readers see it: internal attributes out, failure counts derived. */
function toRecord(item: Item): ClassRecord {
  const {
    pk: _pk,
    sk: _sk,
    listPk: _lp,
    listSk: _ls,
    failed: _f,
    lastChunk: _lc,
    doneSet,
    goneCount,
    goneKeys,
    ...rest
  } = item;
  const failed = failedMap(item);
  const ids = Object.keys(failed)
    .map(Number)
    .sort((a, b) => a - b);
  const rec = rest as unknown as ClassRecord;
  rec.failedChunks = ids.length;
  rec.failedFiles = ids.reduce((n, c) => n + (failed[String(c)]?.n ?? 0), 0);
  rec.failedChunkIds = ids;
  // A DynamoDB number set arrives as a Set; records counted before doneSet existed have none.
  rec.doneChunkIds = doneSet instanceof Set ? [...(doneSet as Set<unknown>)].map(Number).sort((a, b) => a - b) : [];
  const reason = rec.crawlError ?? (ids.length ? failed[String(ids[0])]?.r : undefined);
  if (reason) rec.lastError = reason;
  if (Number(goneCount) > 0)
    rec.goneAtOrigin = { count: Number(goneCount), keys: Array.isArray(goneKeys) ? (goneKeys as string[]) : [] };
  return rec;
}

/** The lifecycle's view of a stored item. */
function toState(item: Item | undefined): ClassState {
  if (!item) return { status: undefined, gen: 0, totalChunks: 0, doneChunks: 0, failed: [] };
  return {
    status: item.status as ClassStatus,
    gen: Number(item.gen ?? 0),
    planId: item.planId as string | undefined,
    forcedAt: item.forcedAt as string | undefined,
    changedAt: item.changedAt as string | undefined,
    totalChunks: Number(item.totalChunks ?? 0),
    doneChunks: Number(item.doneChunks ?? 0),
    failed: Object.keys(failedMap(item)).map(Number),
    crawlError: item.crawlError as string | undefined,
    completedGen: item.completedGen === undefined ? undefined : Number(item.completedGen),
    replans: Number(item.replans ?? 0),
    bucketAheadMoves: item.bucketAheadMoves === undefined ? undefined : Number(item.bucketAheadMoves),
  };
}

/** Builds DynamoDB update clauses; names and values are numbered so clauses never clash. */
class Expr {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private n = 0;
  readonly set: string[] = [];
  readonly add: string[] = [];
  readonly remove: string[] = [];
  readonly cond: string[] = [];

  name(attr: string): string {
    const known = Object.entries(this.names).find(([, v]) => v === attr);
    if (known) return known[0];
    const k = `#n${this.n++}`;
    this.names[k] = attr;
    return k;
  }

  value(v: unknown): string {
    const k = `:v${this.n++}`;
    this.values[k] = v;
    return k;
  }

  update(): string {
    // A path may appear once per update: what is set or added wins over a removal of the same attribute.
    const written = new Set([...this.set, ...this.add].map((c) => c.split(/\s*=\s*|\s+/)[0]));
    const remove = [...new Set(this.remove)].filter((r) => !written.has(r));
    const parts: string[] = [];
    if (this.set.length) parts.push(`SET ${this.set.join(', ')}`);
    if (this.add.length) parts.push(`ADD ${this.add.join(', ')}`);
    if (remove.length) parts.push(`REMOVE ${remove.join(', ')}`);
    return parts.join(' ');
  }

  condition(): string | undefined {
    return this.cond.length ? this.cond.map((c) => `(${c})`).join(' AND ') : undefined;
  }

  /** Names and values, or nothing when empty (DynamoDB refuses empty maps). */
  params(): { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> } {
    return {
      ...(Object.keys(this.names).length ? { ExpressionAttributeNames: this.names } : {}),
      ...(Object.keys(this.values).length ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

/** Writes a lifecycle guard as condition clauses: one clause per guard field, nothing else. */
export function guardCondition(guard: Guard, e: Expr): void {
  const s = guard.statusIn || guard.statusNot ? e.name('status') : '';
  if (guard.exists === true) e.cond.push('attribute_exists(pk)');
  if (guard.exists === false) e.cond.push('attribute_not_exists(pk)');
  if (guard.statusIn) e.cond.push(`${s} IN (${guard.statusIn.map((x) => e.value(x)).join(', ')})`);
  if (guard.statusNot)
    e.cond.push(`attribute_not_exists(${s}) OR NOT (${s} IN (${guard.statusNot.map((x) => e.value(x)).join(', ')}))`);
  if (guard.gen !== undefined) {
    e.cond.push(guard.gen === 0 ? `attribute_not_exists(gen) OR gen = ${e.value(0)}` : `gen = ${e.value(guard.gen)}`);
  }
  if (guard.planId !== undefined) e.cond.push(`planId = ${e.value(guard.planId)}`);
  if (guard.progress === 'notLast') e.cond.push('doneChunks < lastChunk');
  if (guard.progress === 'last') e.cond.push('doneChunks = lastChunk');
  if (guard.chunkFailed) {
    const path = `failed.${e.name(String(guard.chunkFailed.chunk))}`;
    e.cond.push(guard.chunkFailed.is ? `attribute_exists(${path})` : `attribute_not_exists(${path})`);
  }
  if (guard.failedCount !== undefined) {
    e.cond.push(
      guard.failedCount === 0
        ? `attribute_not_exists(failedChunks) OR failedChunks = ${e.value(0)}`
        : `failedChunks = ${e.value(guard.failedCount)}`,
    );
  }
  if (guard.crawlError !== undefined)
    e.cond.push(guard.crawlError ? 'attribute_exists(crawlError)' : 'attribute_not_exists(crawlError)');
  if (guard.notAllDone) e.cond.push(`attribute_not_exists(gen) OR gen = ${e.value(0)} OR doneChunks < totalChunks`);
  if (guard.replans !== undefined)
    e.cond.push(
      guard.replans === 0
        ? `attribute_not_exists(replans) OR replans = ${e.value(0)}`
        : `replans = ${e.value(guard.replans)}`,
    );
  // guard.chunkUndone is not a clause of the class record: it is the chunk item's own condition
  // (attribute_not_exists), written by countChunk and recordChunkFailure in the same transaction.
}

/**
 * What freshness counts from for a stored record: its generation's start, else the class's end, else
 * its first record. A date the end-date rule does not believe (an epoch default a ledger stored before
 * the rule) gives way to the first record, so no figure is 56 years long.
 */
function freshFromOf(item: Item | undefined, at: string): string | undefined {
  for (const v of [item?.freshFrom, item?.endedAt, item?.createdAt])
    if (typeof v === 'string' && plausibleInstant(v, new Date(at)) !== undefined) return v;
  return typeof item?.createdAt === 'string' ? item.createdAt : undefined;
}

/** Seconds (millisecond precision) from `from` to `to`; undefined when either is not a date. */
export function secondsBetween(from: string | undefined, to: string): number | undefined {
  const a = Date.parse(from ?? '');
  const b = Date.parse(to);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return undefined;
  return Math.max(0, b - a) / 1000;
}

/** The lifecycle's effect as update clauses (what the event itself adds is written by the caller). */
function effectUpdate(
  effect: Effect,
  e: Expr,
  at: string,
  extra: { crawlError?: string; failure?: FailedEntry; freshFrom?: string | undefined },
): { freshnessSeconds?: number } {
  let freshFrom = extra.freshFrom;
  if (effect.status) e.set.push(`${e.name('status')} = ${e.value(effect.status)}`);
  e.set.push(`updatedAt = ${e.value(at)}`);
  const g = effect.newGeneration;
  if (g) {
    const zero = e.value(0);
    e.set.push(
      `gen = ${e.value(g.gen)}`,
      `planId = ${e.value(g.planId)}`,
      `totalChunks = ${e.value(g.totalChunks)}`,
      `lastChunk = ${e.value(g.totalChunks - 1)}`,
      `doneChunks = ${zero}`,
      `doneFiles = ${zero}`,
      `doneBytes = ${zero}`,
      `failedChunks = ${zero}`,
      `failed = ${e.value({})}`,
      `crawledAt = ${e.value(at)}`,
    );
    if (g.forcedAt) e.set.push(`forcedAt = ${e.value(g.forcedAt)}`);
    if (g.changedAt) e.set.push(`changedAt = ${e.value(g.changedAt)}`);
    // A generation a forced copy or a change check started is as fresh as that request, not as the class's end.
    const started = g.cause === 'changed' ? g.changedAt : g.cause === 'forced' ? g.forcedAt : undefined;
    if (started) {
      e.set.push(`freshFrom = ${e.value(started)}`);
      freshFrom = started;
    }
    // Moves forced by the bucket are counted until the class completes or plans for a reason of its own.
    if (g.cause === 'bucketAhead') e.add.push(`bucketAheadMoves ${e.value(1)}`);
    else e.remove.push('bucketAheadMoves');
    // doneSet belongs to one generation, like the counters (an empty set cannot be stored: remove it);
    // so do the files its transfers found gone at the origin.
    e.remove.push(
      'goneCount',
      'goneKeys',
      'doneSet',
      'completedAt',
      'freshnessSeconds',
      'lastAttemptError',
      'lastAttemptAt',
      'failedAttempts',
      'waiting',
      'waitUntil',
      'warnings',
    );
  }
  if (effect.fail && extra.failure) {
    e.set.push(`failed.${e.name(String(effect.fail.chunk))} = ${e.value(extra.failure)}`);
  }
  if (effect.unfail) {
    e.remove.push(`failed.${e.name(String(effect.unfail.chunk))}`);
    e.add.push(`failedChunks ${e.value(-1)}`);
  }
  let freshnessSeconds: number | undefined;
  if (effect.complete) {
    e.set.push(`completedGen = ${e.value(effect.complete.gen)}`, `completedAt = ${e.value(at)}`);
    e.remove.push('lastAttemptError', 'lastAttemptAt', 'bucketAheadMoves');
    // Freshness is written by the very write that completes the generation: exactly once, like COMPLETE.
    freshnessSeconds = secondsBetween(freshFrom, at);
    if (freshnessSeconds !== undefined) e.set.push(`freshnessSeconds = ${e.value(freshnessSeconds)}`);
  }
  if (effect.replans !== undefined) {
    if (effect.replans > 0) e.set.push(`replans = ${e.value(effect.replans)}`);
    else e.remove.push('replans');
  }
  // A generation copied ends any run of re-plans.
  if (effect.complete) e.remove.push('replans');
  if (effect.clearCrawlError) e.remove.push('crawlError');
  if (effect.setCrawlError) e.set.push(`crawlError = ${e.value((extra.crawlError ?? 'crawl failed').slice(0, 1000))}`);
  return freshnessSeconds === undefined ? {} : { freshnessSeconds };
}

function isConditionFailed(err: unknown): boolean {
  return (err as Error).name === 'ConditionalCheckFailedException';
}

/** Cancellation reasons of a failed transaction, or undefined when the error is something else. */
function cancellation(err: unknown): Array<string | undefined> | undefined {
  if ((err as Error).name !== 'TransactionCanceledException') return undefined;
  const reasons = (err as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code);
}

/** True for the contention DynamoDB reports when two writes touch one item at once; worth another try. */
function isConflict(err: unknown): boolean {
  const name = (err as Error).name;
  if (name === 'TransactionConflictException' || name === 'TransactionInProgressException') return true;
  return cancellation(err)?.some((c) => c === 'TransactionConflict') ?? false;
}

/** Full-jitter pause before retrying a conflicted or overtaken write. */
function backoff(attempt: number): Promise<void> {
  return sleep(Math.round(Math.random() * Math.min(500, 10 * 2 ** attempt)));
}

/** A failure record that fits an item: reasons cut, files listed until the budget is spent. */
function boundedFailure(files: readonly FailedFile[]): { files: FailedFile[]; truncated: number } {
  const kept: FailedFile[] = [];
  let chars = 0;
  for (const f of files) {
    const entry = { key: f.key, src: f.src, reason: f.reason.slice(0, MAX_REASON_CHARS) };
    chars += entry.key.length + entry.src.length + entry.reason.length + 32;
    if (chars > MAX_FAILURE_CHARS) break;
    kept.push(entry);
  }
  return { files: kept, truncated: files.length - kept.length };
}

/** DynamoDB-backed Ledger on the single table of serverless.yml. */
export function createLedger(ddb: DynamoDBDocumentClient, table: string): Ledger {
  const metaKey = (classId: string) => ({ pk: pk(classId), sk: META });

  async function readItem(classId: string): Promise<Item | undefined> {
    const res = await ddb.send(new GetCommand({ TableName: table, Key: metaKey(classId), ConsistentRead: true }));
    return res.Item;
  }

  /**
   * Decides an event against the stored record and writes the decision with the lifecycle's guard as
   * its condition; when the guard was overtaken (another writer got there first) it reads and decides
   * again. `write` adds the event's own clauses and performs the write.
   */
  async function transition<T>(
    classId: string,
    event: ClassEvent,
    write: (d: Extract<Decision, { kind: 'apply' }>, item: Item | undefined, attempt: number) => Promise<T>,
    onSkip: (why: SkipWhy, item: Item | undefined) => T | Promise<T>,
    /** A record the caller read already (`null`: assume there is none); decided from, then confirmed by the write's guard. */
    seen?: Item | null,
  ): Promise<T> {
    let item = seen ?? undefined;
    let fresh = seen === undefined;
    for (let attempt = 1; ; attempt++) {
      if (fresh) item = await readItem(classId);
      const d = decide(toState(item), event);
      if (d.kind === 'skip') {
        // A skip decided from a possibly old snapshot is confirmed on a fresh read before it counts.
        if (!fresh) {
          fresh = true;
          continue;
        }
        return onSkip(d.why, item);
      }
      try {
        return await write(d, item, attempt);
      } catch (err) {
        if (attempt >= MAX_TRIES) throw err;
        if (isConditionFailed(err)) {
          fresh = true;
          continue;
        }
        if (isConflict(err)) {
          await backoff(attempt);
          fresh = true;
          continue;
        }
        throw err;
      }
    }
  }

  /** A plain conditional update of the class record for one decision; says how fresh a generation it completed was. */
  async function updateMeta(
    classId: string,
    d: Extract<Decision, { kind: 'apply' }>,
    extra: (e: Expr) => void,
    at = now(),
    data: { crawlError?: string; freshFrom?: string | undefined } = {},
  ): Promise<{ freshnessSeconds?: number }> {
    const e = new Expr();
    guardCondition(d.guard, e);
    const out = effectUpdate(d.effect, e, at, data);
    extra(e);
    const condition = e.condition();
    await ddb.send(
      new UpdateCommand({
        TableName: table,
        Key: metaKey(classId),
        UpdateExpression: e.update(),
        ...(condition ? { ConditionExpression: condition } : {}),
        ...e.params(),
      }),
    );
    return out;
  }

  /** Identity attributes every write that may create the record sets. */
  const identity = (classId: string, info: ClassInfo, at: string) => (e: Expr) => {
    const keys = listKeys(classId);
    e.set.push(
      `classId = ${e.value(classId)}`,
      `listPk = ${e.value(keys.listPk)}`,
      `listSk = ${e.value(keys.listSk)}`,
      `title = ${e.value(info.title ?? classId)}`,
      `manifestUrl = ${e.value(info.manifestUrl)}`,
      `createdAt = if_not_exists(createdAt, ${e.value(at)})`,
    );
    // An implausible end (the epoch, the far future) is no end: the crawler's warning says why.
    const ended = judgeEndedAt(info.endedAt, new Date(at)).endedAt;
    if (ended) e.set.push(`endedAt = ${e.value(ended)}`);
    // Freshness counts from the class's end, or from when FLAnts first heard of it when the catalog has no end.
    e.set.push(`freshFrom = if_not_exists(freshFrom, ${e.value(ended ?? at)})`);
  };

  const ledger: Ledger = {
    async getClass(classId) {
      const item = await readItem(classId);
      return item ? toRecord(item) : undefined;
    },

    async getClasses(classIds) {
      const out = new Map<string, ClassRecord>();
      const unique = [...new Set(classIds)];
      for (let i = 0; i < unique.length; i += 100) {
        let keys: Item[] | undefined = unique.slice(i, i + 100).map(metaKey);
        for (let attempt = 0; keys && keys.length > 0; attempt++) {
          const res: { Responses?: Record<string, Item[]>; UnprocessedKeys?: Record<string, { Keys?: Item[] }> } =
            await ddb.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }));
          for (const item of res.Responses?.[table] ?? []) {
            const r = toRecord(item);
            out.set(r.classId, r);
          }
          keys = res.UnprocessedKeys?.[table]?.Keys;
          if (attempt > 8 && keys?.length)
            throw new FlantsError('LEDGER_UNPROCESSED', `DynamoDB left ${keys.length} keys unprocessed`, {
              retryable: true,
            });
        }
      }
      return out;
    },

    async listClasses() {
      const shards = await Promise.all(
        Array.from({ length: CLASS_SHARDS }, async (_, n) => {
          const out: ClassRecord[] = [];
          let start: Item | undefined;
          do {
            const res = await ddb.send(
              new QueryCommand({
                TableName: table,
                IndexName: CLASS_INDEX,
                KeyConditionExpression: 'listPk = :shard',
                ExpressionAttributeValues: { ':shard': `CLASSES#${n}` },
                ExclusiveStartKey: start,
              }),
            );
            for (const item of res.Items ?? []) out.push(toRecord(item));
            start = res.LastEvaluatedKey;
          } while (start);
          return out;
        }),
      );
      return shards.flat().sort((a, b) => a.classId.localeCompare(b.classId));
    },

    async pageCompleteClasses(shard, after, limit) {
      const res = await ddb.send(
        new QueryCommand({
          TableName: table,
          IndexName: CLASS_INDEX,
          KeyConditionExpression: after === undefined ? 'listPk = :shard' : 'listPk = :shard AND listSk > :after',
          FilterExpression: '#status = :complete',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':shard': `CLASSES#${shard}`,
            ':complete': 'COMPLETE',
            ...(after === undefined ? {} : { ':after': after }),
          },
          Limit: limit,
        }),
      );
      const last: unknown = res.LastEvaluatedKey?.listSk;
      return { records: (res.Items ?? []).map(toRecord), ...(typeof last === 'string' ? { last } : {}) };
    },

    async markPending(classId, info) {
      const at = now();
      await transition(
        classId,
        { type: 'enqueued' },
        (d) => updateMeta(classId, d, identity(classId, info, at), at),
        () => undefined,
        // Most enqueued classes are new: decide as if absent (one write); the guard catches the others.
        null,
      );
    },

    async markCrawling(classId, info) {
      const at = now();
      await transition(
        classId,
        { type: 'crawlStarted' },
        (d) =>
          updateMeta(
            classId,
            d,
            (e) => {
              identity(classId, info, at)(e);
              e.remove.push('waiting', 'waitUntil');
            },
            at,
          ),
        () => undefined,
      );
    },

    async markChecked(classId, gen, result, gone) {
      const at = now();
      return transition(
        classId,
        { type: 'checked', gen },
        async (d) => {
          await updateMeta(
            classId,
            d,
            (e) => {
              e.set.push(`checkedAt = ${e.value(at)}`, `checkResult = ${e.value(result.slice(0, 1000))}`);
              // What this check found gone replaces what was listed: a file the origin serves again is no longer listed.
              if (gone && gone.count > 0)
                e.set.push(
                  `goneCount = ${e.value(gone.count)}`,
                  `goneKeys = ${e.value(gone.keys.slice(0, MAX_GONE_LISTED).map((k) => k.slice(0, 1024)))}`,
                );
              else if (gone) e.remove.push('goneCount', 'goneKeys');
            },
            at,
          );
          return true;
        },
        () => false,
      );
    },

    async recordBucketAhead(classId, gen, bucketGen, reason) {
      return transition<BucketAheadOutcome>(
        classId,
        { type: 'bucketAhead', gen, bucketGen },
        async (d) => {
          await updateMeta(classId, d, () => undefined, now(), { crawlError: reason });
          return d.effect.newGeneration ? { outcome: 'moved', gen: d.effect.newGeneration.gen } : { outcome: 'failed' };
        },
        () => ({ outcome: 'stale' }),
      );
    },

    async markWaiting(classId, info) {
      const at = now();
      await transition(
        classId,
        { type: 'waiting' },
        (d) =>
          updateMeta(
            classId,
            d,
            (e) => {
              identity(classId, info, at)(e);
              e.set.push(
                `waiting = ${e.value(info.reason.slice(0, 1000))}`,
                `waitUntil = ${e.value(info.until)}`,
                // The first wait anchors the grace period of a class without a plausible end: never moved by a re-crawl.
                `waitingSince = if_not_exists(waitingSince, ${e.value(info.since)})`,
              );
            },
            at,
          ),
        () => undefined,
      );
    },

    async recordPlan(classId, plan) {
      const at = now();
      const event: ClassEvent = {
        type: 'planned',
        planId: plan.planId,
        totalChunks: plan.totalChunks,
        forcedAt: plan.forcedAt,
        changedAt: plan.changedAt,
        ...(plan.replan ? { replan: true } : {}),
      };
      const result = await transition<PlanResult>(
        classId,
        event,
        async (d, item) => {
          const { freshnessSeconds } = await updateMeta(
            classId,
            d,
            (e) => {
              if (d.effect.newGeneration) {
                e.set.push(`totalFiles = ${e.value(plan.totalFiles)}`);
                // Files an earlier generation copied that this plan no longer has: listed, never deleted.
                if (plan.removed?.length)
                  e.set.push(
                    `removedFiles = ${e.value(plan.removed.slice(0, MAX_REMOVED_LISTED))}`,
                    `removedCount = ${e.value(plan.removed.length)}`,
                  );
                else e.remove.push('removedFiles', 'removedCount');
              } else e.set.push(`crawledAt = ${e.value(at)}`);
              e.remove.push('waiting', 'waitUntil', 'waitingSince');
              if (plan.warnings?.length)
                e.set.push(`warnings = ${e.value(plan.warnings.slice(0, 20).map((w) => w.slice(0, 500)))}`);
            },
            at,
            { freshFrom: freshFromOf(item, at) },
          );
          const gen = d.effect.newGeneration?.gen ?? toState(item).gen;
          return {
            outcome: d.effect.newGeneration ? 'new' : 'resumed',
            gen,
            done: new Set<number>(),
            completed: d.effect.complete !== undefined,
            ...(freshnessSeconds === undefined ? {} : { freshnessSeconds }),
            replans: d.effect.complete ? 0 : (d.effect.replans ?? toState(item).replans ?? 0),
          };
        },
        (why, item) => {
          if (why !== 'complete')
            throw new FlantsError('LEDGER_STATE', `cannot record plan ${plan.planId} for class ${classId}: ${why}`);
          return { outcome: 'complete', gen: toState(item).gen, done: new Set<number>(), completed: false, replans: 0 };
        },
      );
      if (result.outcome === 'resumed') {
        for (const c of await ledger.listChunks(classId, result.gen)) result.done.add(c.chunk);
      }
      return result;
    },

    async requestReplan(classId, { gen, replans, max, reason }) {
      const at = now();
      return transition<ReplanOutcome>(
        classId,
        { type: 'replanRequested', gen, replans, max },
        async (d) => {
          await updateMeta(classId, d, () => undefined, at, { crawlError: reason });
          return d.effect.status === 'FAILED' ? 'failed' : 'counted';
        },
        () => 'stale',
      );
    },

    async viewChunk(classId, gen, chunk) {
      const items: Item[] = [];
      let keys: Item[] | undefined = [metaKey(classId), { pk: pk(classId), sk: chunkSk(gen, chunk) }];
      // Under throttling DynamoDB may leave keys unprocessed: a missing record must never read as "unknown class".
      for (let attempt = 1; keys && keys.length > 0; attempt++) {
        const res: { Responses?: Record<string, Item[]>; UnprocessedKeys?: Record<string, { Keys?: Item[] }> } =
          await ddb.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }));
        items.push(...(res.Responses?.[table] ?? []));
        keys = res.UnprocessedKeys?.[table]?.Keys;
        if (keys?.length) {
          if (attempt >= MAX_TRIES)
            throw new FlantsError('LEDGER_UNPROCESSED', `DynamoDB left ${keys.length} keys unprocessed`, {
              retryable: true,
            });
          await backoff(attempt);
        }
      }
      const meta = items.find((i) => i.sk === META);
      return { record: meta ? toRecord(meta) : undefined, chunkDone: items.some((i) => i.sk !== META) };
    },

    async countChunk(classId, gen, chunk, files, seen, planId) {
      const bytes = files.reduce((n, f) => n + f.bytes, 0);
      const seenItem = seen ? recordToItem(seen) : undefined;
      return transition<CountResult>(
        classId,
        { type: 'chunkCounted', gen, chunk, planId },
        async (d, item) => {
          const at = now();
          const e = new Expr();
          guardCondition(d.guard, e);
          // doneSet rides in the same update as the counters: the bit field costs no extra request.
          const { freshnessSeconds } = effectUpdate(d.effect, e, at, { freshFrom: freshFromOf(item, at) });
          e.add.push(
            `doneChunks ${e.value(1)}`,
            `doneFiles ${e.value(files.length)}`,
            `doneBytes ${e.value(bytes)}`,
            `doneSet ${e.value(new Set([chunk]))}`,
          );
          goneUpdate(
            e,
            files.filter((f) => f.goneAtOrigin).map((f) => f.key),
            item,
          );
          try {
            await ddb.send(
              new TransactWriteCommand({
                TransactItems: [
                  {
                    Put: {
                      TableName: table,
                      Item: {
                        pk: pk(classId),
                        sk: chunkSk(gen, chunk),
                        gen,
                        chunk,
                        files: files.length,
                        bytes,
                        at,
                        landed: files.map(landedItem),
                      },
                      ConditionExpression: 'attribute_not_exists(pk)',
                    },
                  },
                  {
                    Update: {
                      TableName: table,
                      Key: metaKey(classId),
                      UpdateExpression: e.update(),
                      ConditionExpression: e.condition()!,
                      ...e.params(),
                    },
                  },
                ],
              }),
            );
          } catch (err) {
            const reasons = cancellation(err);
            if (reasons?.[0] === 'ConditionalCheckFailed') {
              return { outcome: 'duplicate', completed: false };
            }
            // The record's guard no longer holds: let transition read and decide again.
            if (reasons?.[1] === 'ConditionalCheckFailed')
              throw Object.assign(new Error('guard overtaken'), { name: 'ConditionalCheckFailedException' });
            throw err;
          }
          return {
            outcome: 'counted',
            completed: d.effect.complete !== undefined,
            ...(d.effect.complete && freshnessSeconds !== undefined ? { freshnessSeconds } : {}),
          };
        },
        (why) => ({ outcome: why === 'duplicate' ? 'duplicate' : 'stale', completed: false }),
        seenItem,
      );
    },

    async noteAttemptFailure(classId, gen, chunk, reason) {
      const at = now();
      await transition(
        classId,
        { type: 'attemptFailed', gen, chunk },
        (d) =>
          updateMeta(
            classId,
            d,
            (e) => {
              e.set.push(
                `lastAttemptError = ${e.value(`chunk ${chunk}: ${reason}`.slice(0, 1000))}`,
                `lastAttemptAt = ${e.value(at)}`,
              );
              e.add.push(`failedAttempts ${e.value(1)}`);
            },
            at,
          ),
        () => undefined,
      );
    },

    async recordChunkFailure(classId, gen, chunk, files, opts = {}) {
      const provisional = opts.provisional ?? false;
      const bounded = boundedFailure(files);
      const entry: FailedEntry = {
        n: files.length,
        r: (files[0]?.reason ?? 'unknown').slice(0, MAX_REASON_CHARS),
        ...(provisional ? { p: true } : {}),
      };
      return transition<FailureOutcome>(
        classId,
        { type: 'chunkFailed', gen, chunk, provisional, planId: opts.planId },
        async (d) => {
          const at = now();
          const e = new Expr();
          guardCondition(d.guard, e);
          effectUpdate(d.effect, e, at, { failure: entry });
          if (!d.guard.chunkFailed?.is) e.add.push(`failedChunks ${e.value(1)}`);
          try {
            await ddb.send(
              new TransactWriteCommand({
                TransactItems: [
                  // A chunk another delivery counted is not failed, whatever this one saw.
                  {
                    ConditionCheck: {
                      TableName: table,
                      Key: { pk: pk(classId), sk: chunkSk(gen, chunk) },
                      ConditionExpression: 'attribute_not_exists(pk)',
                    },
                  },
                  {
                    Update: {
                      TableName: table,
                      Key: metaKey(classId),
                      UpdateExpression: e.update(),
                      ConditionExpression: e.condition()!,
                      ...e.params(),
                    },
                  },
                  {
                    Put: {
                      TableName: table,
                      Item: {
                        pk: pk(classId),
                        sk: failSk(gen, chunk),
                        classId,
                        gen,
                        chunk,
                        files: bounded.files,
                        truncated: bounded.truncated,
                        provisional,
                        at,
                      },
                    },
                  },
                ],
              }),
            );
          } catch (err) {
            const reasons = cancellation(err);
            if (reasons?.[0] === 'ConditionalCheckFailed') return 'chunk-done';
            if (reasons?.[1] === 'ConditionalCheckFailed')
              throw Object.assign(new Error('guard overtaken'), { name: 'ConditionalCheckFailedException' });
            throw err;
          }
          return 'recorded';
        },
        (why) => (why === 'complete' ? 'complete' : why === 'chunk-failed-already' ? 'already-recorded' : 'stale'),
      );
    },

    async failCrawl(classId, reason, opts = {}) {
      const at = now();
      return transition(
        classId,
        { type: 'crawlFailed', ...(opts.provisional ? { provisional: true } : {}) },
        async (d) => {
          await updateMeta(
            classId,
            d,
            (e) => {
              if (opts.info) identity(classId, opts.info, at)(e);
              else {
                const keys = listKeys(classId);
                e.set.push(
                  `classId = ${e.value(classId)}`,
                  `listPk = ${e.value(keys.listPk)}`,
                  `listSk = ${e.value(keys.listSk)}`,
                  `createdAt = if_not_exists(createdAt, ${e.value(at)})`,
                );
              }
            },
            at,
            { crawlError: reason },
          );
          return true;
        },
        () => false,
      );
    },

    async listFailures(classId) {
      const item = await readItem(classId);
      if (!item) return [];
      const state = toState(item);
      if (state.failed.length === 0) return [];
      const failed = new Set(state.failed);
      const items = await queryAll(ddb, table, pk(classId), `FAIL#${pad(state.gen)}#`);
      return items
        .filter((i) => failed.has(Number(i.chunk)))
        .map((i) => ({
          classId,
          gen: Number(i.gen),
          chunk: Number(i.chunk),
          files: i.files as FailedFile[],
          ...(Number(i.truncated) > 0 ? { truncated: Number(i.truncated) } : {}),
          provisional: i.provisional === true,
          at: String(i.at),
        }));
    },

    async listChunks(classId, gen) {
      const items = await queryAll(ddb, table, pk(classId), `CHUNK#${pad(gen)}#`);
      return items.map((i) => ({
        chunk: Number(i.chunk ?? String(i.sk).split('#')[2]),
        files: ((i.landed as StoredLanded[] | undefined) ?? []).map(fromLandedItem),
      }));
    },

    async claimScanPage(scanId, page, holder) {
      try {
        await ddb.send(
          new PutCommand({
            TableName: table,
            Item: {
              pk: `SCAN#${scanId}`,
              sk: `CLAIM#${page}`,
              by: holder,
              at: now(),
              expiresAt: Math.floor(Date.now() / 1000) + 30 * 24 * 3600,
            },
            ConditionExpression: 'attribute_not_exists(pk) OR (#by = :me AND attribute_not_exists(done))',
            ExpressionAttributeNames: { '#by': 'by' },
            ExpressionAttributeValues: { ':me': holder },
          }),
        );
        return 'claimed';
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        const res = await ddb.send(
          new GetCommand({
            TableName: table,
            Key: { pk: `SCAN#${scanId}`, sk: `CLAIM#${page}` },
            ConsistentRead: true,
          }),
        );
        return res.Item?.by === holder ? 'done' : 'taken';
      }
    },

    async finishScanPage(scanId, page) {
      await ddb.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: `SCAN#${scanId}`, sk: `CLAIM#${page}` },
          UpdateExpression: 'SET done = :t',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':t': true },
        }),
      );
    },

    async recordScanPage(page) {
      // Kept for 30 days: enough to answer questions about recent scans without growing forever.
      const expiresAt = Math.floor(Date.now() / 1000) + 30 * 24 * 3600;
      const skipped = page.skipped.slice(0, MAX_SKIP_DETAILS).map((s) => ({
        classId: s.classId.slice(0, MAX_DETAIL_CHARS),
        reason: s.reason.slice(0, MAX_DETAIL_CHARS),
        ...(s.detail ? { detail: s.detail.slice(0, MAX_DETAIL_CHARS) } : {}),
      }));
      await ddb.send(
        new PutCommand({
          TableName: table,
          Item: {
            pk: `SCAN#${page.scanId}`,
            sk: `PAGE#${page.page}`,
            ...page,
            skipped,
            ...(page.skipped.length > skipped.length ? { skippedNotListed: page.skipped.length - skipped.length } : {}),
            enqueued: page.enqueued.slice(0, 2000),
            expiresAt,
          },
        }),
      );
    },

    async getWatermark(fields) {
      const res = await ddb.send(new GetCommand({ TableName: table, Key: watermarkKey(fields), ConsistentRead: true }));
      return typeof res.Item?.at === 'string' ? res.Item.at : undefined;
    },

    async advanceWatermark(fields, at, scanId) {
      try {
        await ddb.send(
          new UpdateCommand({
            TableName: table,
            Key: watermarkKey(fields),
            UpdateExpression: 'SET #at = :at, scanId = :scan, updatedAt = :now',
            // Only forward: a slow scan that started earlier finishing late never moves it back.
            ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
            ExpressionAttributeNames: { '#at': 'at' },
            ExpressionAttributeValues: { ':at': at, ':scan': scanId, ':now': now() },
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailed(err)) return false;
        throw err;
      }
    },

    async getScan(scanId) {
      const items = await queryAll(ddb, table, `SCAN#${scanId}`, 'PAGE#');
      return items.map((i) => ({
        scanId,
        page: String(i.page),
        at: String(i.at),
        scanned: Number(i.scanned),
        enqueued: (i.enqueued as string[]) ?? [],
        skipped: (i.skipped as ScanPageRecord['skipped']) ?? [],
      }));
    },
  };
  return ledger;
}

/** A landed file as a chunk item stores it: short names, optional fields only when known. */
interface StoredLanded {
  k: string;
  b: number;
  e: string;
  s?: string;
  h?: string;
  oe?: string;
  om?: string;
  r?: string;
  lb?: string;
  v?: Record<string, string>;
  /** Gone at the origin, its verified copy kept. */
  g?: 1;
}

function landedItem(f: LandedFile): StoredLanded {
  return {
    k: f.key,
    b: f.bytes,
    e: f.etag,
    ...(f.src ? { s: f.src } : {}),
    ...(f.sha256 ? { h: f.sha256 } : {}),
    ...(f.originEtag ? { oe: f.originEtag } : {}),
    ...(f.originModified ? { om: f.originModified } : {}),
    ...(f.refs ? { r: f.refs } : {}),
    ...(f.base ? { lb: f.base } : {}),
    ...(f.vars ? { v: f.vars } : {}),
    ...(f.goneAtOrigin ? { g: 1 as const } : {}),
  };
}

function fromLandedItem(f: StoredLanded): LandedFile {
  return {
    key: f.k,
    bytes: f.b,
    etag: f.e,
    ...(f.s ? { src: f.s } : {}),
    ...(f.h ? { sha256: f.h } : {}),
    ...(f.oe ? { originEtag: f.oe } : {}),
    ...(f.om ? { originModified: f.om } : {}),
    ...(f.r ? { refs: f.r } : {}),
    ...(f.lb ? { base: f.lb } : {}),
    ...(f.v ? { vars: f.v } : {}),
    ...(f.g ? { goneAtOrigin: true } : {}),
  };
}

/** The stored shape of a record a caller read earlier (enough for the lifecycle to decide from). */
function recordToItem(r: ClassRecord): Item {
  const failed: Record<string, FailedEntry> = {};
  for (const c of r.failedChunkIds ?? []) failed[String(c)] = { n: 0, r: '' };
  const { goneAtOrigin, ...rest } = r;
  return { ...rest, failed, ...(goneAtOrigin ? { goneCount: goneAtOrigin.count, goneKeys: goneAtOrigin.keys } : {}) };
}

/**
 * Counts a chunk's files gone at the origin (kept) on the class record, and names them while fewer
 * than MAX_GONE_LISTED are named. The list grows only under a condition on its size as `item` had it,
 * so concurrent counts can never push it past the bound (an overtaken count reads again and retries).
 */
function goneUpdate(e: Expr, gone: readonly string[], item: Item | undefined): void {
  if (gone.length === 0) return;
  e.add.push(`goneCount ${e.value(gone.length)}`);
  const listed = Array.isArray(item?.goneKeys) ? (item.goneKeys as unknown[]).length : 0;
  const room = MAX_GONE_LISTED - listed;
  if (room <= 0) return;
  const keys = e.name('goneKeys');
  e.set.push(
    `${keys} = list_append(if_not_exists(${keys}, ${e.value([])}), ${e.value(gone.slice(0, room).map((k) => k.slice(0, 1024)))})`,
  );
  e.cond.push(listed === 0 ? `attribute_not_exists(${keys})` : `size(${keys}) = ${e.value(listed)}`);
}

async function queryAll(
  ddb: DynamoDBDocumentClient,
  table: string,
  partition: string,
  prefix: string,
): Promise<Item[]> {
  const out: Item[] = [];
  let start: Item | undefined;
  do {
    const res = await ddb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': partition, ':prefix': prefix },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    out.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}
