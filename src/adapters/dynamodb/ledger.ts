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
import { FlantsError } from '../../errors.ts';
import { judgeEndedAt, plausibleInstant } from '../../domain/lifecycle/class-dates.ts';
import {
  decide,
  type ClassEvent,
  type ClassState,
  type ClassStatus,
  type Decision,
  type SkipWhy,
} from '../../domain/lifecycle/class-lifecycle.ts';
import { itemSize, MAX_ITEM_BYTES } from './item-size.ts';
import { effectUpdate, Expr, guardCondition } from './ledger-expressions.ts';
import {
  boundedFailure,
  boundedScanLists,
  boundedWarnings,
  CHUNKS_PER_STATE_ITEM,
  cutUtf8,
  FAILURE_SAMPLE_SIZE,
  failedFilesOf,
  legacyReasonOf,
  MAX_NOTE_BYTES,
  MAX_REASON_BYTES,
  MAX_TITLE_BYTES,
  removedSample,
  stateShard,
} from './ledger-items.ts';

export type { ClassStatus } from '../../domain/lifecycle/class-lifecycle.ts';

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
   * dropped): they stay in the bucket, listed here (as many as fit 16 KB; `removedCount` counts all).
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
  /** The last `flants verify` of this class (docs/verify.md): when, of which generation, its one-line result and counts per kind. */
  verifiedAt?: string;
  verifiedGen?: number;
  verifyResult?: string;
  verifyFindings?: Partial<Record<string, number>>;
}

/** One file of a chunk as it landed in S3: the proof the report and verification use. */
export interface LandedFile {
  key: string;
  bytes: number;
  etag: string;
  /**
   * S3's FULL_OBJECT CRC32 (base64) of the copy: what the transfer sent and S3 reported back (or,
   * for a file already there, what S3's HEAD reported). `flants verify` compares the bucket with it.
   */
  crc32?: string;
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

/** What a transfer needs to know before it copies: the class record and whether the chunk is done (or failed). */
export interface ChunkView {
  record: ClassRecord | undefined;
  chunkDone: boolean;
  /** The chunk is in the current generation's failed set (a redrive): what the count decides from. */
  chunkFailed?: boolean;
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
   * Counts a chunk once for its generation, completing the class when it is the last (one
   * transaction); `seen` is the view read before the copy (decided from, confirmed by the write).
   * With `planId` (the job's), only for that plan: a job sent before the ledger was reset may carry a
   * generation number the ledger reuses for another plan.
   */
  countChunk(
    classId: string,
    gen: number,
    chunk: number,
    files: readonly LandedFile[],
    seen?: ChunkView,
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
  /** Failures of the current generation's failed chunks (every page of `pageFailures`). */
  listFailures(classId: string): Promise<FailureRecord[]>;
  /**
   * One page of the current generation's failure items, in chunk order, after chunk `after`: the
   * bounded way to read a class with thousands of failed chunks. `next` is set when there are more.
   */
  pageFailures(
    classId: string,
    after: number | undefined,
    limit: number,
  ): Promise<{ failures: FailureRecord[]; next?: number }>;
  listChunks(classId: string, gen: number): Promise<Array<{ chunk: number; files: LandedFile[] }>>;
  /** The same chunk records, one query page at a time: what `flants verify` streams a large class from. */
  eachChunk(classId: string, gen: number): AsyncIterable<{ chunk: number; files: LandedFile[] }>;
  /**
   * Keeps a verification's result on the class record (no status change, bookkeeping like a change
   * check's note); false when the class is no longer at generation `gen`.
   */
  recordVerification(
    classId: string,
    gen: number,
    v: { at: string; result: string; counts: Partial<Record<string, number>> },
  ): Promise<boolean>;
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
/** The chunk-state item of chunks k·N to (k+1)·N − 1 of a generation (k ≥ 1; k = 0 is the class record). */
const stateSk = (gen: number, shard: number) => `STATE#${pad(gen)}#${pad(shard)}`;
/** One watermark per set of change fields: changing SCAN_CHANGE_FIELDS starts from a full scan. */
const watermarkKey = (fields: string) => ({ pk: 'SCAN#watermark', sk: `FIELDS#${fields}` });
const now = () => new Date().toISOString();

type Item = Record<string, unknown>;

/**
 * A chunk's entry in a `failed` map (on the class record for chunks below CHUNKS_PER_STATE_ITEM, in
 * its chunk-state item above): the number of files that failed. The reasons are in the failure
 * item, and a sample of them on the class record (`failReasons`).
 */
function failedMap(item: Item | undefined): Record<string, unknown> {
  const m = item?.failed;
  return m && typeof m === 'object' ? (m as Record<string, unknown>) : {};
}

/** The chunk ids of a `doneSet` (a DynamoDB number set arrives as a Set; records counted before it existed have none). */
function doneIdsOf(item: Item | undefined): number[] {
  const set = item?.doneSet;
  return set instanceof Set ? [...(set as Set<unknown>)].map(Number) : [];
}

/** The sample of failure reasons on the class record: chunk → reason. */
function reasonSample(item: Item | undefined): Record<string, string> {
  const m = item?.failReasons;
  return m && typeof m === 'object' ? (m as Record<string, string>) : {};
}

/**
 * The record as readers see it: internal attributes out, failure counts derived from the `failed`
 * maps of the class record and of the generation's chunk-state items (`states`; none for a class of
 * up to CHUNKS_PER_STATE_ITEM chunks).
 */
function toRecord(item: Item, states: readonly Item[] = []): ClassRecord {
  const {
    pk: _pk,
    sk: _sk,
    listPk: _lp,
    listSk: _ls,
    failed: _f,
    failReasons: _fr,
    lastChunk: _lc,
    doneSet: _ds,
    goneCount,
    goneKeys,
    ...rest
  } = item;
  const failed: Record<string, unknown> = { ...failedMap(item) };
  for (const st of states) Object.assign(failed, failedMap(st));
  const ids = Object.keys(failed)
    .map(Number)
    .sort((a, b) => a - b);
  const rec = rest as unknown as ClassRecord;
  // The class record's counter is exact for every chunk; the ids and file counts need every state item.
  rec.failedChunks = Math.max(ids.length, Number(item.failedChunks ?? 0));
  rec.failedFiles = ids.reduce((n, c) => n + failedFilesOf(failed[String(c)]), 0);
  rec.failedChunkIds = ids;
  rec.doneChunkIds = [item, ...states].flatMap(doneIdsOf).sort((a, b) => a - b);
  const sample = reasonSample(item);
  const sampled = Object.keys(sample)
    .map(Number)
    .sort((a, b) => a - b);
  const reason =
    rec.crawlError ??
    (sampled.length ? sample[String(sampled[0])] : undefined) ??
    (ids.length ? legacyReasonOf(failed[String(ids[0])]) : undefined) ??
    (rec.failedChunks
      ? `${rec.failedChunks} chunk(s) failed; "flants status ${String(item.classId)}" lists their files and reasons`
      : undefined);
  if (reason) rec.lastError = reason;
  if (Number(goneCount) > 0)
    rec.goneAtOrigin = { count: Number(goneCount), keys: Array.isArray(goneKeys) ? (goneKeys as string[]) : [] };
  return rec;
}

/** What a decision is made from: the class record and, for a chunk past the first state item, that chunk's state item. */
interface Snapshot {
  meta: Item | undefined;
  /** The chunk-state item of the event's chunk (absent for chunks on the class record, or when none was written yet). */
  state?: Item | undefined;
}

/** The chunk an event is about, if any. */
function eventChunk(event: ClassEvent): { gen: number; chunk: number } | undefined {
  return 'chunk' in event ? { gen: event.gen, chunk: event.chunk } : undefined;
}

/**
 * The lifecycle's view of a stored record: counts from the class record's counters, and of the
 * failed set only what the event needs (whether its own chunk is in it, from the item holding it).
 */
function toState(snap: Snapshot, event?: ClassEvent, perItem = CHUNKS_PER_STATE_ITEM): ClassState {
  const item = snap.meta;
  if (!item) return { status: undefined, gen: 0, totalChunks: 0, doneChunks: 0, failed: [] };
  const c = event ? eventChunk(event) : undefined;
  const holder = c && stateShard(c.chunk, perItem) > 0 ? snap.state : item;
  const chunkFailed = c !== undefined && failedMap(holder)[String(c.chunk)] !== undefined;
  return {
    status: item.status as ClassStatus,
    gen: Number(item.gen ?? 0),
    planId: item.planId as string | undefined,
    forcedAt: item.forcedAt as string | undefined,
    changedAt: item.changedAt as string | undefined,
    totalChunks: Number(item.totalChunks ?? 0),
    doneChunks: Number(item.doneChunks ?? 0),
    failed: chunkFailed ? [c.chunk] : [],
    failedCount: Number(item.failedChunks ?? 0),
    crawlError: item.crawlError as string | undefined,
    completedGen: item.completedGen === undefined ? undefined : Number(item.completedGen),
    replans: Number(item.replans ?? 0),
    bucketAheadMoves: item.bucketAheadMoves === undefined ? undefined : Number(item.bucketAheadMoves),
  };
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

export interface LedgerOptions {
  /** Chunks whose state one item holds (CHUNKS_PER_STATE_ITEM); tests lower it to reach further items with small plans. */
  chunksPerStateItem?: number;
}

/** DynamoDB-backed Ledger on the single table of serverless.yml. */
export function createLedger(ddb: DynamoDBDocumentClient, table: string, opts: LedgerOptions = {}): Ledger {
  const perItem = opts.chunksPerStateItem ?? CHUNKS_PER_STATE_ITEM;
  const metaKey = (classId: string) => ({ pk: pk(classId), sk: META });
  const shardOf = (chunk: number) => stateShard(chunk, perItem);
  const stateKey = (classId: string, gen: number, chunk: number) => ({
    pk: pk(classId),
    sk: stateSk(gen, shardOf(chunk)),
  });

  async function readItem(classId: string): Promise<Item | undefined> {
    const res = await ddb.send(new GetCommand({ TableName: table, Key: metaKey(classId), ConsistentRead: true }));
    return res.Item;
  }

  /** Reads several items at once, whatever DynamoDB leaves unprocessed under throttling. */
  async function readItems(keys: Item[]): Promise<Item[]> {
    const items: Item[] = [];
    let left: Item[] | undefined = keys;
    // A missing record must never read as "unknown class" because a key was left unprocessed.
    for (let attempt = 1; left && left.length > 0; attempt++) {
      const res: { Responses?: Record<string, Item[]>; UnprocessedKeys?: Record<string, { Keys?: Item[] }> } =
        await ddb.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: left, ConsistentRead: true } } }));
      items.push(...(res.Responses?.[table] ?? []));
      left = res.UnprocessedKeys?.[table]?.Keys;
      if (left?.length) {
        if (attempt >= MAX_TRIES)
          throw new FlantsError('LEDGER_UNPROCESSED', `DynamoDB left ${left.length} keys unprocessed`, {
            retryable: true,
          });
        await backoff(attempt);
      }
    }
    return items;
  }

  /** What an event is decided from: the class record, and the state item of a chunk past the first. */
  async function readSnapshot(classId: string, event: ClassEvent): Promise<Snapshot> {
    const c = eventChunk(event);
    if (!c || shardOf(c.chunk) === 0) return { meta: await readItem(classId) };
    const items = await readItems([metaKey(classId), stateKey(classId, c.gen, c.chunk)]);
    return { meta: items.find((i) => i.sk === META), state: items.find((i) => i.sk !== META) };
  }

  /** The chunk-state items of a generation (none for a class of up to `perItem` chunks). */
  async function readStates(classId: string, item: Item): Promise<Item[]> {
    const gen = Number(item.gen ?? 0);
    if (gen === 0 || Number(item.totalChunks ?? 0) <= perItem) return [];
    return queryAll(ddb, table, pk(classId), `STATE#${pad(gen)}#`);
  }

  /** The record with its generation's chunk-state items merged in (one more query only for a class of more than `perItem` chunks). */
  async function fullRecord(classId: string, item: Item): Promise<ClassRecord> {
    return toRecord(item, await readStates(classId, item));
  }

  /**
   * Decides an event against the stored record and writes the decision with the lifecycle's guard as
   * its condition; when the guard was overtaken (another writer got there first) it reads and decides
   * again. `write` adds the event's own clauses and performs the write.
   */
  async function transition<T>(
    classId: string,
    event: ClassEvent,
    write: (d: Extract<Decision, { kind: 'apply' }>, item: Item | undefined, snap: Snapshot) => Promise<T>,
    onSkip: (why: SkipWhy, item: Item | undefined) => T | Promise<T>,
    /** What the caller read already (`null`: assume there is no record); decided from, then confirmed by the write's guard. */
    seen?: Snapshot | null,
  ): Promise<T> {
    let snap: Snapshot = seen ?? { meta: undefined };
    let fresh = seen === undefined;
    for (let attempt = 1; ; attempt++) {
      if (fresh) snap = await readSnapshot(classId, event);
      const d = decide(toState(snap, event, perItem), event);
      if (d.kind === 'skip') {
        // A skip decided from a possibly old snapshot is confirmed on a fresh read before it counts.
        if (!fresh) {
          fresh = true;
          continue;
        }
        return onSkip(d.why, snap.meta);
      }
      try {
        return await write(d, snap.meta, snap);
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
      `title = ${e.value(cutUtf8(info.title ?? classId, MAX_TITLE_BYTES))}`,
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
      return item ? fullRecord(classId, item) : undefined;
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
            const r = await fullRecord(String(item.classId), item);
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
            for (const item of res.Items ?? []) out.push(await fullRecord(String(item.classId), item));
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
      return { records: (res.Items ?? []).map((i) => toRecord(i)), ...(typeof last === 'string' ? { last } : {}) };
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
              e.set.push(`checkedAt = ${e.value(at)}`, `checkResult = ${e.value(cutUtf8(result, MAX_NOTE_BYTES))}`);
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
                `waiting = ${e.value(cutUtf8(info.reason, MAX_NOTE_BYTES))}`,
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
                    `removedFiles = ${e.value(removedSample(plan.removed))}`,
                    `removedCount = ${e.value(plan.removed.length)}`,
                  );
                else e.remove.push('removedFiles', 'removedCount');
              } else e.set.push(`crawledAt = ${e.value(at)}`);
              e.remove.push('waiting', 'waitUntil', 'waitingSince');
              if (plan.warnings?.length) e.set.push(`warnings = ${e.value(boundedWarnings(plan.warnings))}`);
            },
            at,
            { freshFrom: freshFromOf(item, at) },
          );
          const gen = d.effect.newGeneration?.gen ?? Number(item?.gen ?? 0);
          return {
            outcome: d.effect.newGeneration ? 'new' : 'resumed',
            gen,
            done: new Set<number>(),
            completed: d.effect.complete !== undefined,
            ...(freshnessSeconds === undefined ? {} : { freshnessSeconds }),
            replans: d.effect.complete ? 0 : (d.effect.replans ?? Number(item?.replans ?? 0)),
          };
        },
        (why, item) => {
          if (why !== 'complete')
            throw new FlantsError('LEDGER_STATE', `cannot record plan ${plan.planId} for class ${classId}: ${why}`);
          return {
            outcome: 'complete',
            gen: Number(item?.gen ?? 0),
            done: new Set<number>(),
            completed: false,
            replans: 0,
          };
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
      const cSk = chunkSk(gen, chunk);
      const inState = shardOf(chunk) > 0;
      const items = await readItems([
        metaKey(classId),
        { pk: pk(classId), sk: cSk },
        ...(inState ? [stateKey(classId, gen, chunk)] : []),
      ]);
      const meta = items.find((i) => i.sk === META);
      const state = items.find((i) => String(i.sk).startsWith('STATE#'));
      const holder = inState ? state : meta;
      return {
        record: meta ? toRecord(meta, state ? [state] : []) : undefined,
        chunkDone: items.some((i) => i.sk === cSk),
        chunkFailed: failedMap(holder)[String(chunk)] !== undefined,
      };
    },

    async countChunk(classId, gen, chunk, files, seen, planId) {
      const bytes = files.reduce((n, f) => n + f.bytes, 0);
      const inState = shardOf(chunk) > 0;
      const record = {
        pk: pk(classId),
        sk: chunkSk(gen, chunk),
        gen,
        chunk,
        files: files.length,
        bytes,
        at: now(),
        landed: files.map(landedItem),
      };
      // The chunk record grows with its files' keys and URLs: refuse clearly what DynamoDB would refuse.
      const size = itemSize(record);
      if (size > MAX_ITEM_BYTES)
        throw new FlantsError(
          'LEDGER_ITEM_TOO_LARGE',
          `chunk ${chunk} of class ${classId} cannot be recorded: its ${files.length} files' keys and source URLs take ${size} bytes, above DynamoDB's ${MAX_ITEM_BYTES}-byte item; lower TRANSFER_CHUNK_FILES`,
        );
      return transition<CountResult>(
        classId,
        { type: 'chunkCounted', gen, chunk, planId },
        async (d, item) => {
          const at = now();
          const e = new Expr();
          // A chunk past the first state item has its done and failed entries in its own state item.
          const s = inState ? new Expr() : e;
          guardCondition(d.guard, e, s);
          // doneSet rides in the same update as the counters: the bit field costs no extra request.
          const { freshnessSeconds } = effectUpdate(d.effect, e, at, { freshFrom: freshFromOf(item, at) }, s);
          // A redriven chunk's reason leaves the sample (a path can be removed only from a map that exists).
          if (d.effect.unfail && item?.failReasons && typeof item.failReasons === 'object')
            e.remove.push(`failReasons.${e.name(String(chunk))}`);
          e.add.push(`doneChunks ${e.value(1)}`, `doneFiles ${e.value(files.length)}`, `doneBytes ${e.value(bytes)}`);
          s.add.push(`doneSet ${s.value(new Set([chunk]))}`);
          const condition = s.condition();
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
                      Item: { ...record, at },
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
                  ...(inState
                    ? [
                        {
                          Update: {
                            TableName: table,
                            Key: stateKey(classId, gen, chunk),
                            UpdateExpression: s.update(),
                            ...(condition ? { ConditionExpression: condition } : {}),
                            ...s.params(),
                          },
                        },
                      ]
                    : []),
                ],
              }),
            );
          } catch (err) {
            const reasons = cancellation(err);
            if (reasons?.[0] === 'ConditionalCheckFailed') {
              return { outcome: 'duplicate', completed: false };
            }
            // The record's guard no longer holds: let transition read and decide again.
            if (reasons?.slice(1).includes('ConditionalCheckFailed'))
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
        // A redrive of a failed chunk is decided from a fresh read: its sample reason must be seen to be removed.
        seen && !seen.chunkFailed ? viewToSnapshot(seen, chunk, perItem) : undefined,
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
                `lastAttemptError = ${e.value(cutUtf8(`chunk ${chunk}: ${reason}`, MAX_NOTE_BYTES))}`,
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
      const reason = cutUtf8(files[0]?.reason ?? 'unknown', MAX_REASON_BYTES);
      const inState = shardOf(chunk) > 0;
      return transition<FailureOutcome>(
        classId,
        { type: 'chunkFailed', gen, chunk, provisional, planId: opts.planId },
        async (d, item, snap) => {
          const at = now();
          const e = new Expr();
          const s = inState ? new Expr() : e;
          guardCondition(d.guard, e, s);
          const holder = inState ? snap.state : item;
          const createMap = !holder?.failed || typeof holder.failed !== 'object';
          // The class record keeps a sample of reasons (every reason is in the failure item): this
          // chunk's when it is in the sample already or there is room, which the write's condition holds to.
          effectUpdate(d.effect, e, at, { failure: { files: files.length, createMap } }, s);
          const sample = reasonSample(item);
          // Named only when written: DynamoDB refuses a name the expressions do not use.
          const path = () => `failReasons.${e.name(String(chunk))}`;
          if (!item?.failReasons || typeof item.failReasons !== 'object') {
            // Records planned before the sample existed: the map is created whole (a path needs its map).
            e.set.push(`failReasons = ${e.value({ [String(chunk)]: reason })}`);
            e.cond.push('attribute_not_exists(failReasons)');
          } else if (sample[String(chunk)] !== undefined) {
            e.set.push(`${path()} = ${e.value(reason)}`);
          } else if (Object.keys(sample).length < FAILURE_SAMPLE_SIZE) {
            e.set.push(`${path()} = ${e.value(reason)}`);
            e.cond.push(`size(failReasons) < ${e.value(FAILURE_SAMPLE_SIZE)}`);
          }
          if (!d.guard.chunkFailed?.is) e.add.push(`failedChunks ${e.value(1)}`);
          const stateCondition = s.condition();
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
                  ...(inState
                    ? [
                        {
                          Update: {
                            TableName: table,
                            Key: stateKey(classId, gen, chunk),
                            UpdateExpression: s.update(),
                            ...(stateCondition ? { ConditionExpression: stateCondition } : {}),
                            ...s.params(),
                          },
                        },
                      ]
                    : []),
                ],
              }),
            );
          } catch (err) {
            const reasons = cancellation(err);
            if (reasons?.[0] === 'ConditionalCheckFailed') return 'chunk-done';
            if (reasons?.slice(1).includes('ConditionalCheckFailed'))
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
      const out: FailureRecord[] = [];
      let after: number | undefined;
      do {
        const page = await ledger.pageFailures(classId, after, 100);
        out.push(...page.failures);
        after = page.next;
      } while (after !== undefined);
      return out;
    },

    async pageFailures(classId, after, limit) {
      const item = await readItem(classId);
      if (!item || !Number(item.failedChunks ?? 0)) return { failures: [] };
      const gen = Number(item.gen ?? 0);
      const failed = new Set(toRecord(item, await readStates(classId, item)).failedChunkIds);
      const failures: FailureRecord[] = [];
      // Failure items of chunks counted since (a redrive) stay as history: only the failed set's count.
      let start: Item | undefined = after === undefined ? undefined : { pk: pk(classId), sk: failSk(gen, after) };
      while (failures.length < limit) {
        const res: { Items?: Item[]; LastEvaluatedKey?: Item } = await ddb.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': pk(classId), ':prefix': `FAIL#${pad(gen)}#` },
            ExclusiveStartKey: start,
            ConsistentRead: true,
            Limit: limit - failures.length,
          }),
        );
        for (const i of res.Items ?? []) {
          if (!failed.has(Number(i.chunk))) continue;
          failures.push({
            classId,
            gen: Number(i.gen),
            chunk: Number(i.chunk),
            files: i.files as FailedFile[],
            ...(Number(i.truncated) > 0 ? { truncated: Number(i.truncated) } : {}),
            provisional: i.provisional === true,
            at: String(i.at),
          });
        }
        start = res.LastEvaluatedKey;
        if (!start) return { failures };
      }
      return { failures, next: failures.at(-1)!.chunk };
    },

    async listChunks(classId, gen) {
      const items = await queryAll(ddb, table, pk(classId), `CHUNK#${pad(gen)}#`);
      return items.map((i) => ({
        chunk: Number(i.chunk ?? String(i.sk).split('#')[2]),
        files: ((i.landed as StoredLanded[] | undefined) ?? []).map(fromLandedItem),
      }));
    },

    async *eachChunk(classId, gen) {
      let start: Item | undefined;
      do {
        const res = await ddb.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': pk(classId), ':prefix': `CHUNK#${pad(gen)}#` },
            ExclusiveStartKey: start,
            ConsistentRead: true,
          }),
        );
        for (const i of res.Items ?? [])
          yield {
            chunk: Number(i.chunk ?? String(i.sk).split('#')[2]),
            files: ((i.landed as StoredLanded[] | undefined) ?? []).map(fromLandedItem),
          };
        start = res.LastEvaluatedKey;
      } while (start);
    },

    async recordVerification(classId, gen, v) {
      try {
        await ddb.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: pk(classId), sk: META },
            // A handful of kinds and a bounded line: the record's budget is not touched.
            UpdateExpression: 'SET verifiedAt = :at, verifiedGen = :g, verifyResult = :r, verifyFindings = :c',
            ConditionExpression: 'attribute_exists(pk) AND #gen = :g',
            ExpressionAttributeNames: { '#gen': 'gen' },
            ExpressionAttributeValues: {
              ':at': v.at,
              ':g': gen,
              ':r': cutUtf8(v.result, MAX_NOTE_BYTES),
              ':c': v.counts,
            },
          }),
        );
        return true;
      } catch (err) {
        if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
        throw err;
      }
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
      // A page of up to SCAN_PAGE_SIZE classes lists what fits its item (docs/ledger.md, "Item size budget").
      const lists = boundedScanLists(page.enqueued, page.skipped);
      await ddb.send(
        new PutCommand({
          TableName: table,
          Item: {
            pk: `SCAN#${page.scanId}`,
            sk: `PAGE#${page.page}`,
            ...page,
            skipped: lists.skipped,
            ...(lists.skippedNotListed ? { skippedNotListed: lists.skippedNotListed } : {}),
            enqueued: lists.enqueued,
            ...(lists.enqueuedNotListed ? { enqueuedNotListed: lists.enqueuedNotListed } : {}),
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
  /** S3's CRC32 of the copy (base64). */
  c?: string;
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
    ...(f.crc32 ? { c: f.crc32 } : {}),
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
    ...(f.c ? { crc32: f.c } : {}),
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

/**
 * The stored shape of what a caller read earlier (enough for the lifecycle to decide from): the
 * record's counters, and the chunk's failed entry in the item that holds it.
 */
function viewToSnapshot(v: ChunkView, chunk: number, perItem: number): Snapshot | undefined {
  if (!v.record) return undefined;
  const { goneAtOrigin, ...rest } = v.record;
  const meta: Item = {
    ...rest,
    ...(goneAtOrigin ? { goneCount: goneAtOrigin.count, goneKeys: goneAtOrigin.keys } : {}),
  };
  const entry = v.chunkFailed ? { [String(chunk)]: 0 } : {};
  if (stateShard(chunk, perItem) === 0) return { meta: { ...meta, failed: entry } };
  return { meta: { ...meta, failed: {} }, state: { failed: entry } };
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
