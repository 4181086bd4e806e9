// Copying one file from the origin into the bucket: the origin body read through its checker, a
// playlist held to its plan, the upload, and what S3 stored verified against what was sent.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Config } from '../config.ts';
import { describeError, FlantsError } from '../errors.ts';
import type { TransferFile } from '../domain/jobs/schemas.ts';
import type { Logger } from '../log.ts';
import { digestOfPlaylist } from '../hls/reference-digest.ts';
import { mpdRulesOf, type MpdRules } from '../dash/hosts.ts';
import { isGoneStatus } from '../domain/lifecycle/gone-at-origin.ts';
import { OriginError, type Origin, type StreamResponse } from '../domain/ports/origin.ts';
// eslint-disable-next-line no-restricted-imports -- the origin's classifier of a body's read error (src/adapters/origin/http-errors.ts), not yet a port of the domain (issue 20)
import { bodyReadError } from '../adapters/origin/http-errors.ts';
import { isAwsServiceError } from '../util/aws-errors.ts';
import type { Ledger } from '../domain/ports/ledger.ts';
import {
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
import { crc32Base64 } from '../util/crc.ts';
import { contentTypeFor } from './content-type.ts';
import { verifyStored } from './integrity.ts';
import { BodyChecker, expectedCrc32, readDigest, type StreamDigest } from './body-checker.ts';
import { alreadyThere, copyMetadata, keepGoneFile, playlistFields, type CopiedFile } from './landed.ts';

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
