/**
 * What the pipeline needs of the ledger, apart from how it is stored (src/adapters/dynamodb/ledger.ts
 * stores it in DynamoDB, src/adapters/memory/ledger.ts in memory for tests). Two roles: `ClassLedger`,
 * a class's lifecycle, chunks, failures and verification; `ScanLedger`, the scans' own bookkeeping.
 */
import type {
  BucketAheadOutcome,
  ChunkView,
  ClassInfo,
  ClassRecord,
  CountResult,
  FailedFile,
  FailureOutcome,
  FailureRecord,
  GoneFiles,
  LandedFile,
  PlanInput,
  PlanResult,
  ReplanOutcome,
  ScanPageRecord,
} from '../ledger/records.ts';

/**
 * A class's lifecycle as the ledger keeps it; every status change is the lifecycle's decision
 * (src/domain/lifecycle/class-lifecycle.ts), written conditionally on its guard, so each chunk counts once.
 */
export interface ClassLedger {
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
}

/** A scan's bookkeeping: which message holds each page, what each page decided, and how far scheduled scans have read. */
export interface ScanLedger {
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

/** The whole ledger, for the callers that need both roles (the scanner, the wiring). */
export type Ledger = ClassLedger & ScanLedger;
