// One transfer job: its chunk copied file by file, then counted once for its generation; a changed
// playlist, a bucket ahead of the ledger, a throttling origin and a failed delivery each handled here.
// Copying one file is copy-file.ts; the landed-file bookkeeping is landed.ts.
import { ChunkFailedError, describeError, FlantsError, isRetryable, PoisonMessageError } from '../errors.ts';
import type { CrawlJob, TransferFile, TransferJob } from '../domain/jobs/schemas.ts';
import { crawlJob } from '../domain/jobs/envelopes.ts';
import type { Logger } from '../log.ts';
import { MAX_BUCKET_AHEAD_MOVES } from '../domain/lifecycle/class-lifecycle.ts';
import type { ClassRecord, CountOutcome, FailedFile } from '../domain/ledger/records.ts';
import type { Ledger } from '../domain/ports/ledger.ts';
import { StaleWriteError } from '../domain/ports/object-store.ts';
import { mapLimit } from '../util/concurrency.ts';
import { withRetry } from '../util/retry.ts';
import { deferral, throttleCause, throttledNote } from './deferral.ts';
import { copyFile, type TransferDeps } from './copy-file.ts';
import { settledByOtherDeliveries, type CopiedFile } from './landed.ts';

export interface TransferAttempt {
  /** SQS ApproximateReceiveCount of this delivery. */
  receiveCount: number;
  /** This is the last delivery before the DLQ: a throttled chunk takes the ordinary path then. */
  final?: boolean;
  signal?: AbortSignal;
}

export interface TransferResult {
  classId: string;
  chunk: number;
  /**
   * `replanned`: a playlist changed at the origin; nothing counted, the class was sent back to the crawler.
   * `bucket-ahead`: the bucket holds a newer generation than the ledger's current one; nothing counted,
   * the plan moved above it and the class was sent back to the crawler (or, when it kept being ahead, failed).
   * `deferred`: the origin throttled every file that failed; the job went back to its queue with a delay
   * (and the files copied so far), nothing counted yet, no delivery spent.
   */
  outcome: CountOutcome | 'replanned' | 'bucket-ahead' | 'deferred';
  files: number;
  bytes: number;
  /** Files written to S3, and files counted done because the bucket already held their bytes (no PUT). */
  written?: number;
  unchanged?: number;
  /** Files the origin no longer has whose verified copy in the bucket was kept (counted, listed on the class). */
  goneAtOrigin?: number;
  /** True for the one delivery whose step marked the class COMPLETE. */
  completedClass: boolean;
}

/**
 * Sends the class back to the crawler, for a new plan (or the same plan in its new generation); a re-plan
 * names the round that asked for it, so the re-plans it starts are counted and bounded.
 */
async function sendBackToCrawler(
  deps: TransferDeps,
  job: TransferJob,
  record: ClassRecord,
  replan?: CrawlJob['replan'],
): Promise<void> {
  await deps.queue.sendAll('crawl', [
    crawlJob({
      classId: job.classId,
      manifestUrl: record.manifestUrl!,
      ...(record.title ? { title: record.title } : {}),
      requestedAt: new Date().toISOString(),
      ...(replan ? { replan } : {}),
    }),
  ]);
}

/**
 * Handles one transfer job: copies its chunk, then counts it once for its generation in one ledger
 * transaction, which also completes the class when it is the last. A file that fails throws
 * ChunkFailedError (SQS delivers the job again; the batch records the failure on the last delivery).
 */
export async function runTransfer(
  job: TransferJob,
  attempt: TransferAttempt,
  deps: TransferDeps,
): Promise<TransferResult> {
  const { cfg, ledger } = deps;
  const log = deps.log.child({
    classId: job.classId,
    gen: job.gen,
    chunk: job.chunk,
    receiveCount: attempt.receiveCount,
  });
  const base = { classId: job.classId, chunk: job.chunk, files: job.files.length, bytes: 0, completedClass: false };

  const view = await ledger.viewChunk(job.classId, job.gen, job.chunk);
  if (!view.record)
    throw new PoisonMessageError(`transfer job for unknown class ${job.classId}: no class record in the ledger`);
  // A generation number names one plan only until the ledger is reset (restored, recreated): the plan must match too.
  if ((view.record.gen ?? 0) !== job.gen || (view.record.planId !== undefined && view.record.planId !== job.planId)) {
    log.info('stale transfer job dropped', { planId: job.planId, currentGen: view.record.gen ?? 0 });
    return { ...base, outcome: 'stale' };
  }
  if (view.chunkDone || view.record.status === 'COMPLETE') return { ...base, outcome: 'duplicate' };

  const failures: FailedFile[] = [];
  const landed: CopiedFile[] = [];
  /** Why each failed file failed, by key: a chunk whose failures are all the origin throttling is deferred. */
  const errors = new Map<string, unknown>();
  let changed: { error: FlantsError; file: TransferFile } | undefined;
  /** The newest generation the bucket answered with when it refused a write (STALE_GENERATION), and where. */
  let ahead: { gen: number; key: string } | undefined;
  let toCopy = job.files;
  if (job.copied?.length) {
    // Copied by an earlier delivery the origin throttled: settled from the bucket, the origin spared.
    const earlier = job.copied.flatMap((i) => (job.files[i] ? [job.files[i]] : []));
    const settled = await settledByOtherDeliveries(
      job,
      earlier.map((f) => ({ key: f.key, src: f.src, reason: 'copied by a throttled delivery' })),
      deps,
      log,
    );
    landed.push(...settled.landed);
    const done = new Set(settled.landed.map((f) => f.key));
    toCopy = job.files.filter((f) => !done.has(f.key));
  }
  await mapLimit(toCopy, cfg.transfer.concurrency, async (file) => {
    try {
      landed.push(
        // The generation makes the write conditional: a late upload of an older plan never replaces a newer one's object.
        await withRetry(
          () =>
            copyFile(file, deps, {
              generation: job.gen,
              recopy: job.recopy ?? false,
              ...(attempt.signal ? { signal: attempt.signal } : {}),
            }),
          {
            attempts: cfg.transfer.retryAttempts,
            baseDelayMs: cfg.transfer.retryBaseDelayMs,
            maxDelayMs: 5_000,
            ...(attempt.signal ? { signal: attempt.signal } : {}),
            onRetry: (error) => void deps.events.emit('retry', { stage: 'transfer', src: file.src, error }),
          },
        ),
      );
    } catch (err) {
      if (err instanceof FlantsError && err.code === 'PLAYLIST_CHANGED') changed ??= { error: err, file };
      if (err instanceof StaleWriteError && err.stored > (ahead?.gen ?? 0)) ahead = { gen: err.stored, key: err.key };
      failures.push({ key: file.key, src: file.src, reason: describeError(err) });
      errors.set(file.key, err);
      log.warn('file failed', {
        key: file.key,
        src: file.src,
        reason: describeError(err),
        retryable: isRetryable(err),
      });
    }
  });

  if (ahead) {
    // A newer generation's object is in the bucket. Newer than the ledger's current generation too
    // (the table was restored or recreated below the bucket, or another stage writes the prefix):
    // the ledger moves the plan above it; otherwise this job's plan is simply over.
    const reason =
      `the bucket holds generation ${ahead.gen}'s copy of ${ahead.key}, newer than this class's generation in the ledger, ` +
      `again after ${MAX_BUCKET_AHEAD_MOVES} moves above the bucket: something keeps writing newer generations under ` +
      `DEST_PREFIX "${cfg.destPrefix}" of bucket ${cfg.destBucket} (another stage with the same DEST_BUCKET and DEST_PREFIX?). ` +
      `Give each stage its own DEST_PREFIX, then copy the class again with "flants enqueue ${job.classId} --force"`;
    const fenced = await ledger.recordBucketAhead(job.classId, job.gen, ahead.gen, reason);
    if (fenced.outcome === 'stale') {
      log.info('stale transfer job dropped: a newer generation owns its objects', { planId: job.planId });
      return { ...base, outcome: 'stale' };
    }
    if (fenced.outcome === 'failed') {
      log.error('class failed: the bucket keeps holding newer generations than the ledger', { reason });
      return { ...base, outcome: 'bucket-ahead' };
    }
    await sendBackToCrawler(deps, job, view.record);
    log.warn(
      'the bucket holds a newer generation than the ledger (restored or recreated below it?): plan moved above it',
      {
        bucketGen: ahead.gen,
        key: ahead.key,
        gen: fenced.gen,
      },
    );
    return { ...base, outcome: 'bucket-ahead' };
  }
  if (changed) {
    // What was enumerated is what is copied: a playlist naming other files means a new plan, never a
    // count. The crawl names this job's round, so the re-plans it starts are counted and bounded.
    await sendBackToCrawler(deps, job, view.record, {
      gen: job.gen,
      replans: job.replans ?? 0,
      key: changed.file.key,
      src: changed.file.src,
    });
    log.warn('playlist changed at the origin; class sent back to the crawler', { reason: changed.error.message });
    return { ...base, outcome: 'replanned' };
  }
  if (failures.length > 0) {
    const settled = await settledByOtherDeliveries(job, failures, deps, log);
    landed.push(...settled.landed);
    if (settled.failed.length > 0) {
      const deferred = await deferIfThrottled(job, attempt, settled.failed, errors, landed, deps, log);
      if (deferred) return { ...base, outcome: 'deferred' };
      throw new ChunkFailedError(settled.failed);
    }
  }

  const counted = await ledger.countChunk(job.classId, job.gen, job.chunk, landed, view, job.planId);
  const bytes = landed.reduce((n, f) => n + f.bytes, 0);
  const written = landed.filter((f) => f.how === 'written').length;
  const gone = landed.filter((f) => f.how === 'gone-at-origin');
  if (gone.length > 0)
    log.warn('files gone at the origin; their verified copies in the bucket are kept', {
      gone: gone.length,
      first: gone.slice(0, 5).map((f) => f.key),
    });
  if (counted.outcome === 'stale') log.info('stale transfer job dropped after copy', { planId: job.planId });
  if (counted.outcome === 'counted')
    deps.events.emit('chunkCounted', {
      classId: job.classId,
      gen: job.gen,
      chunk: job.chunk,
      files: landed.length,
      bytes,
    });
  if (written < landed.length)
    log.info('files already in the bucket counted without a write', { unchanged: landed.length - written, written });
  if (counted.completed) {
    log.info('class complete', { planId: job.planId, gen: job.gen, freshnessSeconds: counted.freshnessSeconds });
    deps.events.emit('classComplete', {
      classId: job.classId,
      gen: job.gen,
      ...(counted.freshnessSeconds !== undefined ? { freshnessSeconds: counted.freshnessSeconds } : {}),
    });
  }
  return {
    ...base,
    outcome: counted.outcome,
    bytes,
    completedClass: counted.completed,
    written,
    unchanged: landed.length - written,
    ...(gone.length > 0 ? { goneAtOrigin: gone.length } : {}),
  };
}

/**
 * A chunk whose failed files the origin throttled, all of them: sent back to the transfer queue with
 * a delay (SQS counts receives, so a fresh message spends none of the three deliveries), carrying
 * which files are copied already; this delivery then succeeds and is deleted. The chunk is counted
 * once, by whichever delivery finishes it (the ledger's count is conditional); a send that fails
 * leaves the ordinary failure path (the delivery is retried).
 */
async function deferIfThrottled(
  job: TransferJob,
  attempt: TransferAttempt,
  failed: readonly FailedFile[],
  errors: ReadonlyMap<string, unknown>,
  landed: readonly CopiedFile[],
  deps: TransferDeps,
  log: Logger,
): Promise<boolean> {
  const deferrals = job.deferrals ?? 0;
  const decided = deferral(
    failed.map((f) => throttleCause(errors.get(f.key))),
    deferrals,
    attempt.final ?? false,
  );
  if (!decided) return false;
  const index = new Map(job.files.map((f, i) => [f.key, i]));
  const copied = landed.flatMap((f) => (index.has(f.key) ? [index.get(f.key)!] : [])).sort((a, b) => a - b);
  const { copied: _before, ...rest } = job;
  await deps.queue.sendAll(
    'transfer',
    [{ ...rest, deferrals: deferrals + 1, ...(copied.length > 0 ? { copied } : {}) }],
    { delaySeconds: decided.delaySeconds },
  );
  const note = throttledNote(decided.cause, failed.length, decided.delaySeconds, deferrals + 1);
  deps.events.emit('deferred', { stage: 'transfer', delaySeconds: decided.delaySeconds });
  log.warn('chunk deferred: the origin throttled it', { note, copied: copied.length, failed: failed.length });
  await deps.ledger
    .noteAttemptFailure(job.classId, job.gen, job.chunk, note)
    .catch((err: unknown) => log.warn('could not note the throttling on the class', { error: describeError(err) }));
  return true;
}

/** What an unfinished last delivery leaves on the class until it finishes (it is replaced or removed then). */
export const UNFINISHED_LAST_DELIVERY =
  'the last delivery did not finish (the function crashed, timed out or ran out of memory)';

/**
 * Tells the ledger about a failed transfer delivery: a note while SQS will retry, the failed files
 * on the last one. With no error, the last delivery is starting: every file is recorded as
 * unfinished, so a crash leaves the class FAILED instead of in progress.
 */
export async function recordTransferFailure(
  job: TransferJob,
  err: unknown,
  final: boolean,
  ledger: Ledger,
): Promise<void> {
  const failures: FailedFile[] =
    err instanceof ChunkFailedError
      ? [...err.failures]
      : job.files.map((f) => ({
          key: f.key,
          src: f.src,
          reason: err === undefined ? UNFINISHED_LAST_DELIVERY : describeError(err),
        }));
  if (final) {
    await ledger.recordChunkFailure(job.classId, job.gen, job.chunk, failures, {
      provisional: err === undefined,
      planId: job.planId,
    });
    return;
  }
  const more = failures.length > 1 ? ` (and ${failures.length - 1} more file(s))` : '';
  await ledger.noteAttemptFailure(
    job.classId,
    job.gen,
    job.chunk,
    `${failures[0]?.key ?? ''}: ${failures[0]?.reason ?? 'unknown'}${more}`,
  );
}
