// The landed-file bookkeeping of a transfer: what a copied (or already present) file records in its chunk,
// a file the bucket already holds counted without a write, a file gone at the origin kept when its
// verified copy is in the bucket, and failed files another delivery of the same job copied.
import { describeError } from '../errors.ts';
import type { TransferFile, TransferJob } from '../domain/jobs/schemas.ts';
import type { Logger } from '../log.ts';
import { judgeGoneFile } from '../domain/lifecycle/gone-at-origin.ts';
import { OriginError } from '../domain/ports/origin.ts';
import type { FailedFile, LandedFile } from '../domain/ledger/records.ts';
import {
  GENERATION_METADATA,
  SHA256_METADATA,
  SRC_ETAG_METADATA,
  SRC_MODIFIED_METADATA,
  StaleWriteError,
  type ObjectHead,
} from '../domain/ports/object-store.ts';
import { mapLimit } from '../util/concurrency.ts';
import type { TransferDeps } from './copy-file.ts';

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
export function copyMetadata(
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
export function playlistFields(file: TransferFile): Pick<LandedFile, 'refs' | 'base' | 'vars'> {
  return {
    ...(file.refs ? { refs: file.refs } : {}),
    ...(file.base ? { base: file.base } : {}),
    ...(file.vars ? { vars: file.vars } : {}),
  };
}

/** A file the bucket already holds, counted without a write. */
export function alreadyThere(
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

/**
 * A file the origin no longer has (404, 410): kept when the bucket holds its verified copy (see
 * judgeGoneFile), counted and listed on the class as gone at the origin; otherwise the origin's
 * answer fails it, saying what the bucket lacks. A newer generation's copy makes the job stale.
 */
export function keepGoneFile(
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

/**
 * Files this delivery could not copy that another delivery of the same job did (SQS delivers a job
 * more than once; each delivery copies every file). An object carrying this generation's
 * `flants-generation` is that file's verified copy: FLAnts writes it only once the body passed the
 * checker (length, a playlist's digest) and S3 accepted the CRC32 sent with it, and the generation's
 * plan fixes which file the key holds. Such files are settled from a HEAD, not listed as failed; a
 * file whose object is another generation's, or whose HEAD fails, stays failed.
 */
export async function settledByOtherDeliveries(
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
