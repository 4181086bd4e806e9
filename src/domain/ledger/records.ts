/**
 * The ledger's records as the rest of FLAnts reads and writes them: the class record, the files a chunk
 * landed, failures, scan pages, and what each ledger operation answers. Pure and neutral: no storage
 * types (the DynamoDB item layout is the adapter's, src/adapters/dynamodb/ledger-codec.ts).
 */
import type { ClassEvent, ClassStatus } from '../lifecycle/class-lifecycle.ts';

export type { ClassStatus } from '../lifecycle/class-lifecycle.ts';

/**
 * Partitions of the ledger's class index: `pageCompleteClasses` pages one of them (0 to CLASS_SHARDS − 1),
 * so a change check or a verification walks them all, each on its own.
 */
export const CLASS_SHARDS = 8;
/** Files gone at the origin named on a class record (all are counted): a few KB at most of the 400 KB item. */
export const MAX_GONE_LISTED = 20;

/** The class record as readers see it (one per class); failure counts are derived from the failed set. */
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

/** The lifecycle's event for a plan a ledger is asked to record: the one translation every ledger adapter uses. */
export function plannedEvent(plan: PlanInput): ClassEvent {
  return {
    type: 'planned',
    planId: plan.planId,
    totalChunks: plan.totalChunks,
    forcedAt: plan.forcedAt,
    changedAt: plan.changedAt,
    ...(plan.replan ? { replan: true } : {}),
  };
}
