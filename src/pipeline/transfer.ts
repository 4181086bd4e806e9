import { pipeline } from 'node:stream/promises';
import type { Config } from '../config.ts';
import { describeError, FlantsError, isRetryable, PoisonMessageError } from '../errors.ts';
import type { TransferFile, TransferJob } from '../jobs/schemas.ts';
import type { Logger } from '../log.ts';
import { asOriginError, type Origin } from '../origin/client.ts';
import type { ChunkOutcome, FailedFile, LandedFile, Ledger } from '../store/ledger.ts';
import type { ObjectStore } from '../store/objects.ts';
import { mapLimit } from '../util/concurrency.ts';
import { withRetry } from '../util/retry.ts';
import { contentTypeFor } from './content-type.ts';
import { verifyStored } from './integrity.ts';
import { expectedCrc32, VerifyingStream, type StreamDigest } from './verify-stream.ts';

export interface TransferDeps {
  cfg: Config;
  origin: Pick<Origin, 'openStream'>;
  store: ObjectStore;
  ledger: Ledger;
  log: Logger;
  /** Counts retries inside an attempt, for the demo's and the fault suite's figures. */
  onRetry?: (file: TransferFile, err: unknown) => void;
  /** Observes the one step that marks a class COMPLETE. */
  onClassComplete?: (classId: string) => void;
}

export interface TransferAttempt {
  /** SQS ApproximateReceiveCount of this delivery. */
  receiveCount: number;
  signal?: AbortSignal;
}

export interface TransferResult {
  classId: string;
  chunk: number;
  outcome: ChunkOutcome | 'failed';
  files: number;
  bytes: number;
  /** True for the one delivery whose step marked the class COMPLETE. */
  completedClass: boolean;
  failures: FailedFile[];
  /** True when the failures were recorded because this was the last delivery before the DLQ. */
  finalAttempt: boolean;
}

/** What one copy needs besides the file: the delivery's abort signal and the plan generation writing it. */
export interface CopyOptions {
  signal?: AbortSignal;
  /**
   * The plan generation the job belongs to (it only moves forward). With it the S3 write is
   * conditional: an older generation finishing late never replaces a newer generation's object.
   */
  generation?: number;
}

/** True for failures of the S3 side of a copy (SDK errors, the generation guard), as opposed to the origin's. */
function isStoreError(err: unknown): boolean {
  if (err instanceof FlantsError) return err.code === 'STALE_GENERATION' || err.code === 'WRITE_CONFLICT';
  return typeof err === 'object' && err !== null && '$metadata' in err;
}

/**
 * Copies one file from the origin into S3, verifying its length while it streams and its content
 * against S3's own CRC32 of what it stored (or, where S3 reports no checksum and the ETag is a
 * plain MD5, against the ETag).
 */
export async function copyFile(file: TransferFile, deps: TransferDeps, opts: CopyOptions = {}): Promise<LandedFile> {
  const { cfg, origin, store } = deps;
  const { signal, generation } = opts;
  const res = await origin.openStream(file.src, { maxBytes: cfg.transfer.maxFileBytes, ...(signal ? { signal } : {}) });
  const verifier = new VerifyingStream({
    partSize: cfg.transfer.partSizeBytes,
    expectedBytes: res.contentLength,
    maxBytes: cfg.transfer.maxFileBytes,
    url: res.url,
    // S3 reports a CRC32 of what it stored; MD5s only matter for an endpoint that reports none.
    md5: !store.reportsChecksums(),
  });
  const upload = store.upload(file.key, verifier, {
    contentType: contentTypeFor(file.key, res.contentType),
    ...(signal ? { signal } : {}),
    ...(generation === undefined ? {} : { generation }),
  });
  const piping = pipeline(res.body, verifier);
  // Both must settle: a failed read fails the upload, a failed upload stops the read.
  const [up, piped] = await Promise.allSettled([upload, piping]);
  if (up.status === 'rejected') {
    res.body.destroy();
    if (piped.status === 'fulfilled' || isStoreError(up.reason)) throw up.reason;
    // A broken origin body (reset, early close, short) is the origin's passing trouble: retryable.
    throw piped.reason instanceof FlantsError ? piped.reason : asOriginError(file.src, piped.reason);
  }
  if (piped.status === 'rejected') {
    // Cannot normally happen (the upload reads the failed stream), but never count such a file.
    throw new FlantsError('UPLOAD_INCOMPLETE', `read of ${file.src} failed after upload completed: ${describeError(piped.reason)}`, { retryable: true });
  }
  const digest: StreamDigest = verifier.digest();
  verifyStored(file.key, digest, up.value, cfg.transfer.partSizeBytes);
  return { key: file.key, bytes: digest.bytes, etag: up.value.etag ?? expectedCrc32(digest, 'FULL_OBJECT') };
}

/** Handles one transfer job: copies its chunk, then counts it once in the ledger; the final count completes the class. */
export async function runTransfer(job: TransferJob, attempt: TransferAttempt, deps: TransferDeps): Promise<TransferResult> {
  const { cfg, ledger } = deps;
  const log = deps.log.child({ classId: job.classId, chunk: job.chunk, receiveCount: attempt.receiveCount });
  const base = { classId: job.classId, chunk: job.chunk, files: job.files.length, bytes: 0, completedClass: false, failures: [], finalAttempt: false };

  const record = await ledger.getClass(job.classId);
  if (!record) throw new PoisonMessageError(`transfer job for unknown class ${job.classId}: no class record in the ledger`);
  if (record.planId !== job.planId) {
    log.info('stale transfer job dropped', { planId: job.planId, current: record.planId });
    return { ...base, outcome: 'stale' };
  }
  if (await ledger.isChunkDone(job.classId, job.planId, job.chunk)) {
    // A duplicate delivery: nothing to copy or count, but finish the class if a crash left it unmarked.
    const completedClass = await completeIfDone(job, deps, log);
    return { ...base, outcome: 'duplicate', completedClass };
  }

  const failures: FailedFile[] = [];
  const landed: LandedFile[] = [];
  await mapLimit(job.files, cfg.transfer.concurrency, async (file) => {
    try {
      const result = await withRetry(() => copyFile(file, deps, { signal: attempt.signal }), {
        attempts: cfg.transfer.retryAttempts,
        baseDelayMs: cfg.transfer.retryBaseDelayMs,
        maxDelayMs: 5_000,
        ...(attempt.signal ? { signal: attempt.signal } : {}),
        onRetry: (err) => deps.onRetry?.(file, err),
      });
      landed.push(result);
    } catch (err) {
      failures.push({ key: file.key, src: file.src, reason: describeError(err) });
      log.warn('file failed', { key: file.key, src: file.src, reason: describeError(err), retryable: isRetryable(err) });
    }
  });

  if (failures.length > 0) {
    const finalAttempt = attempt.receiveCount >= cfg.maxReceiveCount;
    if (finalAttempt) {
      // Last delivery before SQS moves the job to the DLQ: say which files and why, on the class.
      await ledger.recordFailure(job.classId, job.planId, job.chunk, failures);
      log.error('chunk failed on its final attempt', { failed: failures.length });
    }
    return { ...base, outcome: 'failed', failures, finalAttempt, bytes: landed.reduce((n, f) => n + f.bytes, 0) };
  }

  const outcome = await ledger.completeChunk(job.classId, job.planId, job.chunk, landed);
  const completedClass = outcome === 'stale' ? false : await completeIfDone(job, deps, log);
  return { ...base, outcome, bytes: landed.reduce((n, f) => n + f.bytes, 0), completedClass };
}

async function completeIfDone(job: TransferJob, deps: TransferDeps, log: Logger): Promise<boolean> {
  const rec = await deps.ledger.getClass(job.classId);
  if (!rec || rec.planId !== job.planId || rec.status === 'COMPLETE' || rec.doneChunks !== rec.totalChunks) return false;
  const completed = await deps.ledger.tryComplete(job.classId, job.planId);
  if (completed) {
    log.info('class complete', { planId: job.planId, files: rec.doneFiles, bytes: rec.doneBytes });
    deps.onClassComplete?.(job.classId);
  }
  return completed;
}
