import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Config } from '../config.ts';
import { ChunkFailedError, describeError, FlantsError, isRetryable, PoisonMessageError } from '../errors.ts';
import type { TransferFile, TransferJob } from '../domain/jobs/schemas.ts';
import { crawlJob } from '../domain/jobs/envelopes.ts';
import type { Logger } from '../log.ts';
import { digestOfPlaylist } from '../hls/reference-digest.ts';
import { mpdRulesOf, type MpdRules } from '../dash/hosts.ts';
import { MAX_BUCKET_AHEAD_MOVES } from '../domain/lifecycle/class-lifecycle.ts';
import { isGoneStatus, judgeGoneFile } from '../domain/lifecycle/gone-at-origin.ts';
// eslint-disable-next-line no-restricted-imports -- the origin's classifier of a body's read error (src/adapters/origin/http-errors.ts), not yet a port of the domain (issue 20)
import { bodyReadError } from '../adapters/origin/http-errors.ts';
import { isAwsServiceError } from '../util/aws-errors.ts';
import type { ClassRecord, CountOutcome, FailedFile, LandedFile } from '../domain/ledger/records.ts';
import type { Ledger } from '../domain/ports/ledger.ts';
import { OriginError, type Origin, type StreamResponse } from '../domain/ports/origin.ts';
import {
  GENERATION_METADATA,
  SHA256_METADATA,
  SRC_ETAG_METADATA,
  SRC_MODIFIED_METADATA,
  StaleWriteError,
  UPLOAD_QUEUE_SIZE,
  type ObjectHead,
  type ObjectStore,
  type UploadResult,
} from '../domain/ports/object-store.ts';
import type { JobQueue } from '../domain/ports/job-queue.ts';
import type { ByteBudget } from '../util/byte-budget.ts';
import type { PipelineEvents } from './events.ts';
import { mapLimit } from '../util/concurrency.ts';
import { withRetry } from '../util/retry.ts';
import { crc32Base64 } from '../util/crc.ts';
import { contentTypeFor } from './content-type.ts';
import { deferral, throttleCause, throttledNote } from './deferral.ts';
import { verifyStored } from './integrity.ts';
import { BodyChecker, expectedCrc32, readDigest, type StreamDigest } from './body-checker.ts';

export interface TransferDeps {
  cfg: Config;
  origin: Pick<Origin, 'openStream'>;
  store: ObjectStore;
  ledger: Ledger;
  /** Sends the class back to the crawler when a playlist changed since it was enumerated. */
  queue: Pick<JobQueue, 'sendAll'>;
  log: Logger;
  /** Upload buffers held at once across the invocation; unbounded when absent. */
  budget?: ByteBudget;
  /** Where retries and completions are announced (metrics and the lab listen). */
  events: PipelineEvents;
}

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

/** What one copy needs besides the file: the delivery's abort signal and the plan generation writing it. */
export interface CopyOptions {
  signal?: AbortSignal;
  /**
   * The plan generation the job belongs to (it only moves forward). With it the S3 write is
   * conditional: an older generation finishing late never replaces a newer generation's object.
   */
  generation?: number;
  /**
   * The key may already hold a copy (a later generation of the class): read it first (one HEAD) and
   * copy only what differs. Without it a first copy costs no extra request; an object already there
   * is found by the conditional write's 412 and compared then.
   */
  recopy?: boolean;
}

/**
 * How a file was settled: written, or counted done because the bucket already held its bytes —
 * the same playlist digest, the origin's 304 to the validators stored with the copy, the same
 * size and CRC32 once the bytes were read, or the origin no longer has it and the bucket holds
 * its verified copy (`gone-at-origin`).
 */
export type CopyHow = 'written' | 'same-digest' | 'not-modified' | 'same-crc32' | 'gone-at-origin' | 'other-delivery';

/** A copied (or already present) file: what lands in the chunk record, and how it was settled. */
export interface CopiedFile extends LandedFile {
  how: CopyHow;
}

/** Object metadata a copy carries: the origin's validators and a playlist's digest (of the bytes stored), for later comparisons. */
function copyMetadata(
  v: { etag?: string | undefined; lastModified?: string | undefined },
  sha256: string | undefined,
): Record<string, string> {
  return {
    ...(v.etag ? { [SRC_ETAG_METADATA]: v.etag } : {}),
    ...(v.lastModified ? { [SRC_MODIFIED_METADATA]: v.lastModified } : {}),
    ...(sha256 ? { [SHA256_METADATA]: sha256 } : {}),
  };
}

/** What a landed playlist keeps besides its bytes' digest: the files it names, and what scanning it alone needs. */
function playlistFields(file: TransferFile): Pick<LandedFile, 'refs' | 'base' | 'vars'> {
  return {
    ...(file.refs ? { refs: file.refs } : {}),
    ...(file.base ? { base: file.base } : {}),
    ...(file.vars ? { vars: file.vars } : {}),
  };
}

/** A file the bucket already holds, counted without a write. */
function alreadyThere(
  file: TransferFile,
  head: ObjectHead,
  how: CopyHow,
  v: { etag?: string | undefined; lastModified?: string | undefined } = {},
): CopiedFile {
  const originEtag = v.etag ?? head.metadata[SRC_ETAG_METADATA];
  const originModified = v.lastModified ?? head.metadata[SRC_MODIFIED_METADATA];
  // The digest of the bytes the bucket holds (the same as the plan's when it was compared by it).
  const sha256 = file.sha256 ? (head.metadata[SHA256_METADATA] ?? file.sha256) : undefined;
  return {
    key: file.key,
    bytes: head.size,
    etag: head.etag ?? head.crc32 ?? '',
    ...(head.crc32 ? { crc32: head.crc32 } : {}),
    src: file.src,
    ...(sha256 ? { sha256 } : {}),
    ...playlistFields(file),
    ...(originEtag ? { originEtag } : {}),
    ...(originModified ? { originModified } : {}),
    how,
  };
}

/** How reading the origin body through its checker went: what copyFile classifies a failed upload by. */
interface BodyRead {
  /** The origin body failed (reset, early close, abort), or the checker refused it. */
  error?: unknown;
  /** Every byte was read and the checker's end() passed. */
  done: boolean;
}

/**
 * The origin body as the store reads it, each chunk checked before it is passed on and the end
 * checked when it ends. The store iterates the origin's own stream: no Transform or pipe between
 * (their events cost more CPU per file than the checks). Returning early (the store gave up)
 * returns the origin's iterator, which destroys the body.
 */
async function* checkedBody(body: AsyncIterable<Buffer>, checker: BodyChecker, read: BodyRead): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of body) {
      checker.take(chunk);
      yield chunk;
    }
    checker.end();
    read.done = true;
  } catch (err) {
    read.error = err;
    throw err;
  }
}

/**
 * A playlist's whole body, read through its checker (lengths as for any file) and bounded by
 * HLS_MAX_PLAYLIST_BYTES: it is compared before a byte of it is stored. A broken body is the
 * origin's passing trouble (retryable), as when streaming.
 */
async function readPlaylist(res: StreamResponse, checker: BodyChecker, maxBytes: number, src: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      checker.take(chunk);
      size += chunk.length;
      if (size > maxBytes)
        throw new FlantsError(
          'PLAYLIST_CHANGED',
          `${src} changed at the origin since the class was crawled: it is now over the ${maxBytes}-byte cap (HLS_MAX_PLAYLIST_BYTES)`,
        );
      chunks.push(chunk);
    }
    checker.end();
  } catch (err) {
    res.body.destroy();
    throw bodyReadError(src, err);
  }
  return Buffer.concat(chunks);
}

/** The key root of the class a key belongs to: DEST_PREFIX and the class segment (which never holds a "/"). */
function classRootOf(key: string, destPrefix: string): string {
  const rest = key.startsWith(destPrefix) ? key.slice(destPrefix.length) : key;
  return key.slice(0, key.length - rest.length) + rest.slice(0, rest.indexOf('/') + 1);
}

/**
 * Holds a playlist read again to its plan: the same bytes, or other bytes naming the same files
 * (the reference digest: a token in a query string, a comment or a date that changes per request is
 * not a change). Returns the SHA-256 of the bytes read, which is what gets stored; throws
 * PLAYLIST_CHANGED when it names other files (or is no longer a playlist the crawler accepts).
 */
function holdToPlan(file: TransferFile, bytes: Buffer, finalUrl: string, destPrefix: string, dash: MpdRules): string {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 === file.sha256) return sha256;
  let refs: string | undefined;
  let why = 'it names other files than its plan';
  try {
    refs = digestOfPlaylist(bytes.toString('utf8'), {
      src: file.src,
      finalUrl,
      base: file.base,
      vars: file.vars,
      root: classRootOf(file.key, destPrefix),
      dash,
    });
  } catch (err) {
    why = `it is no longer a playlist the crawler accepts (${describeError(err)})`;
  }
  if (refs === undefined || refs !== file.refs)
    throw new FlantsError('PLAYLIST_CHANGED', `${file.src} changed at the origin since the class was crawled: ${why}`);
  return sha256;
}

/** True for failures of the S3 side of a copy (SDK errors, the generation guard), as opposed to the origin's. */
function isStoreError(err: unknown): boolean {
  if (err instanceof FlantsError) return err.code === 'STALE_GENERATION' || err.code === 'WRITE_CONFLICT';
  return isAwsServiceError(err);
}

/**
 * Copies one file from the origin into S3, verifying its length (and a playlist's digest) while it
 * streams and its content against S3's own CRC32 of what it stored (or, where S3 reports no checksum
 * and the ETag is a plain MD5, against the ETag). Upload buffers are held from the byte budget.
 */
export async function copyFile(file: TransferFile, deps: TransferDeps, opts: CopyOptions = {}): Promise<CopiedFile> {
  const { cfg, origin, store } = deps;
  const { signal, generation } = opts;
  let existing: ObjectHead | undefined;
  if (opts.recopy) {
    existing = await store.head(file.key);
    if (existing && generation !== undefined && existing.generation !== undefined && existing.generation > generation) {
      throw new StaleWriteError(file.key, generation, existing.generation);
    }
    // A playlist is held to the bytes the crawler enumerated: the same digest stored is the same playlist.
    if (
      existing &&
      file.sha256 &&
      existing.metadata[SHA256_METADATA] === file.sha256 &&
      (file.bytes === undefined || existing.size === file.bytes)
    ) {
      return alreadyThere(file, existing, 'same-digest');
    }
  }
  // Other files are asked for with the validators the origin gave for the stored copy: a 304 settles
  // them without a body or a write. (A playlist whose digest differs is fetched whole: it did change.)
  const conditional =
    existing && !file.sha256
      ? { ifNoneMatch: existing.metadata[SRC_ETAG_METADATA], ifModifiedSince: existing.metadata[SRC_MODIFIED_METADATA] }
      : {};
  let res: Awaited<ReturnType<typeof origin.openStream>>;
  try {
    res = await origin.openStream(file.src, {
      maxBytes: cfg.transfer.maxFileBytes,
      ...(signal ? { signal } : {}),
      ...conditional,
    });
  } catch (err) {
    if (!(err instanceof OriginError) || !isGoneStatus(err.status)) throw err;
    return keepGoneFile(file, err, opts.recopy ? existing : await store.head(file.key), generation);
  }
  if (res.notModified && existing) return alreadyThere(file, existing, 'not-modified', res);
  // A body only the connection's close ends looks whole when cut short: it is read twice, and the
  // copy (of the second read) stands only if both reads are the same bytes. A playlist is held to
  // the crawler's digest instead: the crawl was its first read. (docs/hls.md, "Encodings and unframed bodies")
  let firstRead: { bytes: number; sha256: string } | undefined;
  if (res.unframed && !file.sha256) {
    firstRead = await readDigest(res.body as AsyncIterable<Buffer>, cfg.transfer.maxFileBytes, res.url).catch(
      (err: unknown) => {
        res.body.destroy();
        throw bodyReadError(file.src, err);
      },
    );
    res = await origin.openStream(file.src, { maxBytes: cfg.transfer.maxFileBytes, ...(signal ? { signal } : {}) });
  }
  // What this upload may buffer: the whole body when it fits one part, else the parts lib-storage keeps in flight.
  const partSize = cfg.transfer.partSizeBytes;
  const need =
    res.contentLength !== undefined && res.contentLength <= partSize
      ? res.contentLength
      : partSize * (UPLOAD_QUEUE_SIZE + 1);
  let release: () => void;
  try {
    release = deps.budget ? await deps.budget.acquire(need, signal) : () => undefined;
  } catch (err) {
    res.body.destroy();
    throw err;
  }
  // A playlist planned with a reference digest is read whole and held to the files it names; other
  // files (and playlists of jobs sent before digests) stream as they come, held to their length (and bytes).
  const playlist = file.refs !== undefined;
  try {
    const checker = new BodyChecker({
      partSize,
      expectedBytes: res.contentLength,
      maxBytes: cfg.transfer.maxFileBytes,
      url: res.url,
      // S3 reports a CRC32 of what it stored; MD5s only matter for an endpoint that reports none.
      md5: !store.reportsChecksums(),
      expectedSha256: playlist ? undefined : file.sha256,
      firstRead,
    });
    const read: BodyRead = { done: false };
    let body: AsyncIterable<Buffer>;
    let sha256 = file.sha256;
    if (playlist) {
      const bytes = await readPlaylist(res, checker, cfg.hls.maxPlaylistBytes, file.src);
      read.done = true;
      // What is stored is the playlist this transfer read, and its digest is recorded: not the crawler's bytes.
      sha256 = holdToPlan(file, bytes, res.url, cfg.destPrefix, mpdRulesOf(cfg));
      body = Readable.from([bytes], { objectMode: false });
    } else body = checkedBody(res.body as AsyncIterable<Buffer>, checker, read);
    let up: UploadResult;
    try {
      up = await store.upload(file.key, body, {
        contentType: contentTypeFor(file.key, res.contentType),
        ...(signal ? { signal } : {}),
        ...(generation === undefined ? {} : { generation }),
        metadata: copyMetadata(res, sha256),
        ...(existing ? { existing } : {}),
      });
    } catch (err) {
      // Whatever failed, the origin body is not read any further: nothing waits on it.
      res.body.destroy();
      if (read.done || isStoreError(err)) throw err;
      // A broken origin body (reset, early close, short) is the origin's passing trouble: retryable;
      // so is an upload that gave up on a body not read through, for a reason that is not S3's.
      throw bodyReadError(file.src, read.error ?? err);
    }
    if (!read.done) {
      // Cannot normally happen (the upload reads the body to its end), but never count such a file.
      throw new FlantsError('UPLOAD_INCOMPLETE', `upload of ${file.src} completed before its body was read through`, {
        retryable: true,
      });
    }
    // The CRC32s are the uploader's, of the very buffers it read from this stream and sent.
    const digest: StreamDigest = {
      ...checker.digest(),
      crc32: up.sent.crc32,
      partCrc32s: up.sent.partCrc32s,
    };
    verifyStored(file.key, digest, up, partSize);
    return {
      key: file.key,
      bytes: digest.bytes,
      etag: up.etag ?? expectedCrc32(digest, 'FULL_OBJECT'),
      // What S3 checked on arrival (and verifyStored against its answer): `flants verify` compares the bucket with it.
      crc32: crc32Base64(up.sent.crc32),
      src: file.src,
      ...(sha256 ? { sha256 } : {}),
      ...playlistFields(file),
      ...(res.etag ? { originEtag: res.etag } : {}),
      ...(res.lastModified ? { originModified: res.lastModified } : {}),
      how: up.written ? 'written' : 'same-crc32',
    };
  } finally {
    release();
  }
}

/**
 * A file the origin no longer has (404, 410): kept when the bucket holds its verified copy (see
 * judgeGoneFile), counted and listed on the class as gone at the origin; otherwise the origin's
 * answer fails it, saying what the bucket lacks. A newer generation's copy makes the job stale.
 */
function keepGoneFile(
  file: TransferFile,
  err: OriginError,
  held: ObjectHead | undefined,
  generation: number | undefined,
): CopiedFile {
  if (held?.generation !== undefined && generation !== undefined && held.generation > generation)
    throw new StaleWriteError(file.key, generation, held.generation);
  const verdict = judgeGoneFile(
    held && { size: held.size, generation: held.generation, crc32: held.crc32, sha256: held.metadata[SHA256_METADATA] },
    { generation: generation ?? Number.MAX_SAFE_INTEGER, sha256: file.sha256, bytes: file.bytes },
  );
  if (!verdict.keep)
    throw new OriginError(err.code, `${err.message} (gone at the origin, and ${verdict.why})`, {
      url: err.url,
      ...(err.status === undefined ? {} : { status: err.status }),
      retryable: err.retryable,
      cause: err,
    });
  return { ...alreadyThere(file, held!, 'gone-at-origin'), goneAtOrigin: true };
}

/** Sends the class back to the crawler, for a new plan (or the same plan in its new generation). */
async function sendBackToCrawler(deps: TransferDeps, job: TransferJob, record: ClassRecord): Promise<void> {
  await deps.queue.sendAll('crawl', [
    crawlJob({
      classId: job.classId,
      manifestUrl: record.manifestUrl!,
      ...(record.title ? { title: record.title } : {}),
      requestedAt: new Date().toISOString(),
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
    const record = view.record;
    await deps.queue.sendAll('crawl', [
      crawlJob({
        classId: job.classId,
        manifestUrl: record.manifestUrl!,
        ...(record.title ? { title: record.title } : {}),
        requestedAt: new Date().toISOString(),
        replan: { gen: job.gen, replans: job.replans ?? 0, key: changed.file.key, src: changed.file.src },
      }),
    ]);
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

/**
 * Files this delivery could not copy that another delivery of the same job did (SQS delivers a job
 * more than once; each delivery copies every file). An object carrying this generation's
 * `flants-generation` is that file's verified copy: FLAnts writes it only once the body passed the
 * checker (length, a playlist's digest) and S3 accepted the CRC32 sent with it, and the generation's
 * plan fixes which file the key holds. Such files are settled from a HEAD, not listed as failed; a
 * file whose object is another generation's, or whose HEAD fails, stays failed.
 */
async function settledByOtherDeliveries(
  job: TransferJob,
  failures: readonly FailedFile[],
  deps: TransferDeps,
  log: Logger,
): Promise<{ landed: CopiedFile[]; failed: FailedFile[] }> {
  const byKey = new Map(job.files.map((f) => [f.key, f]));
  const landed: CopiedFile[] = [];
  const failed: FailedFile[] = [];
  await mapLimit(failures, deps.cfg.transfer.concurrency, async (failure) => {
    const file = byKey.get(failure.key);
    let head: ObjectHead | undefined;
    try {
      head = file ? await deps.store.head(file.key) : undefined;
    } catch (err) {
      log.warn('could not look for a copy of a failed file', { key: failure.key, error: describeError(err) });
    }
    const verified =
      file !== undefined &&
      head !== undefined &&
      head.generation === job.gen &&
      head.metadata[GENERATION_METADATA] === String(job.gen) &&
      // A whole-object checksum S3 checked on arrival vouches for the bytes (as for a file gone at the origin).
      head.crc32 !== undefined &&
      (!file.sha256 ||
        (head.metadata[SHA256_METADATA] === file.sha256 && (file.bytes === undefined || head.size === file.bytes)));
    if (verified) landed.push(alreadyThere(file, head!, 'other-delivery'));
    else failed.push(failure);
  });
  if (landed.length > 0)
    log.info('failed files another delivery of this job copied: counted from the bucket', {
      settled: landed.map((f) => f.key),
      failed: failed.length,
    });
  // The job's order, so that a failure record lists files as the plan does.
  const order = new Map(job.files.map((f, i) => [f.key, i]));
  failed.sort((a, b) => (order.get(a.key) ?? 0) - (order.get(b.key) ?? 0));
  return { landed, failed };
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
