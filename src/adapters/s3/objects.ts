import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { FlantsError } from '../../errors.ts';
import { BufferPool } from '../../util/buffer-pool.ts';
import { awsErrorName, awsStatus as status } from '../../util/aws-errors.ts';
import { createObjectPutter } from './s3-put.ts';
import {
  checksumOf,
  CRC32_METADATA,
  putMultipart,
  putSmall,
  SAME,
  slices,
  unquote,
  type Condition,
  type Slice,
  type UploadRun,
  type UploadTarget,
} from './upload.ts';
import {
  GENERATION_METADATA,
  StaleWriteError,
  UPLOAD_QUEUE_SIZE,
  type ObjectHead,
  type ObjectStore,
  type UploadOptions,
  type UploadResult,
} from '../../domain/ports/object-store.ts';

/** Body buffers a store keeps for reuse between writes, at most. */
const POOL_IDLE_BYTES = 32 * 1024 * 1024;

/** S3 refused a request for lack of a permission; the message names the permission to grant. Not retryable. */
export class S3AccessDeniedError extends FlantsError {
  constructor(message: string, cause?: unknown) {
    super('S3_ACCESS_DENIED', message, { cause });
  }
}

const named = (err: unknown, ...names: string[]): boolean => names.includes(awsErrorName(err) ?? '');
/** 412: the condition did not hold; 409: a concurrent conditional write got there (S3 says: try again); 404 NoSuchKey: If-Match on a key gone since. */
const conditionFailed = (err: unknown): boolean =>
  status(err) === 412 ||
  status(err) === 409 ||
  named(err, 'PreconditionFailed', 'ConditionalRequestConflict') ||
  (status(err) === 404 && named(err, 'NoSuchKey'));

/**
 * S3-backed ObjectStore. Uploads are written here rather than by lib-storage so that the same
 * buffered body can be written again under a new condition after a 412, and so that every part
 * and the whole object carry a CRC32 that S3 checks on arrival and reports back.
 */
export function createObjectStore(
  s3: S3Client,
  bucket: string,
  opts: { partSizeBytes: number; queueSize?: number },
): ObjectStore {
  const queueSize = opts.queueSize ?? UPLOAD_QUEUE_SIZE;
  // PutObject, one per file, is the hot call: sent without the SDK's per-request machinery (see s3-put.ts).
  const putter = createObjectPutter(s3, bucket);
  const pool = new BufferPool(POOL_IDLE_BYTES);
  let checksumsSeen = false;
  /** ETags learnt from 412s: a retry of the same key starts from If-Match (always re-checked by S3). */
  const known = new Map<string, string>();
  const remember = (key: string, etag: string) => {
    known.delete(key);
    known.set(key, etag);
    if (known.size > 1000) known.delete(known.keys().next().value!);
  };

  /**
   * A HEAD answered 403. S3 answers so for a key that does not exist when the caller may not list
   * the bucket (AWS's HeadObject page), and AWS does not say whether a ListBucket grant conditioned
   * on s3:prefix counts for that check. A listing of exactly this key (its s3:prefix is the key, so
   * such a grant applies) tells absent from refused: absent is an answer, anything else is named.
   */
  const absentOrDenied = async (key: string, headError: unknown): Promise<undefined> => {
    let listed: boolean;
    try {
      const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }));
      listed = (res.Contents ?? []).some((o) => o.Key === key);
    } catch (err) {
      if (status(err) !== 403) throw err;
      throw new S3AccessDeniedError(
        `S3 refused to say whether ${key} exists in bucket ${bucket} (HEAD and ListObjectsV2 answered 403 Forbidden): ` +
          `S3 answers 403 for a missing key to a caller without s3:ListBucket. Grant the transfer role s3:ListBucket ` +
          `on arn:aws:s3:::${bucket} with an s3:prefix condition on the destination prefix (serverless.yml's ` +
          `ListDestination statement does), and redeploy`,
        headError,
      );
    }
    if (!listed) return undefined;
    throw new S3AccessDeniedError(
      `S3 refused a HEAD of ${key} in bucket ${bucket} (403 Forbidden) although the object exists: the transfer role ` +
        `needs s3:GetObject on it (and kms:Decrypt of the bucket's key when the bucket uses SSE-KMS)`,
      headError,
    );
  };

  /** One upload's generation guard, and what its two paths (upload.ts) write with. */
  const beginUpload = (
    key: string,
    { contentType, signal, generation, metadata, existing }: UploadOptions,
  ): UploadRun => {
    const Metadata =
      generation === undefined && !metadata
        ? undefined
        : { ...metadata, ...(generation === undefined ? {} : { [GENERATION_METADATA]: String(generation) }) };
    let extraRequests = 0;
    const newer = (head: ObjectHead) =>
      head.generation !== undefined && generation !== undefined && head.generation > generation;
    if (existing && newer(existing)) throw new StaleWriteError(key, generation!, existing.generation!);

    /** What a 412's HEAD found when it held these very bytes. */
    let found: ObjectHead | undefined;
    /** Decides the next write from what is stored now; throws when a newer generation owns the key. */
    const decide = async (): Promise<{ cond: Condition; head: ObjectHead | undefined }> => {
      const head = await store.head(key);
      if (!head?.etag) return { cond: { IfNoneMatch: '*' }, head };
      if (newer(head)) throw new StaleWriteError(key, generation!, head.generation!);
      remember(key, head.etag);
      return { cond: { IfMatch: head.etag }, head };
    };

    /**
     * Runs a write under the generation guard. Optimistic: a first copy creates the object with
     * If-None-Match (no extra request); only when something is already there (412) does it HEAD,
     * compare generations and write again with If-Match on the ETag it read, so a newer
     * generation landing in between fails that write too. When the HEAD shows the very bytes this
     * write carries (`same`), nothing is written again.
     */
    const guarded = async <T>(
      write: (cond: Condition | undefined) => Promise<T>,
      same: (head: ObjectHead) => boolean,
    ): Promise<T | typeof SAME> => {
      if (generation === undefined) return write(undefined);
      const hint = existing?.etag ?? known.get(key);
      let cond: Condition = hint ? { IfMatch: hint } : { IfNoneMatch: '*' };
      for (let attempt = 0; ; attempt++) {
        try {
          return await write(cond);
        } catch (err) {
          if (attempt > 0 && named(err, 'NoSuchUpload')) {
            // S3 ended the upload after refusing its completion: copy again (the ETag is remembered).
            throw new FlantsError('WRITE_CONFLICT', `${key} changed while it was being uploaded; copying it again`, {
              retryable: true,
              cause: err,
            });
          }
          if (!conditionFailed(err)) throw err;
          if (attempt >= 4)
            throw new FlantsError(
              'WRITE_CONFLICT',
              `${key} kept changing under this write (${attempt + 1} conditional attempts)`,
              { retryable: true, cause: err },
            );
          extraRequests += 2; // this write, repeated, and the HEAD that decides how
          const next = await decide();
          if (next.head && same(next.head)) {
            extraRequests -= 1; // not repeated after all
            found = next.head;
            return SAME;
          }
          cond = next.cond;
        }
      }
    };
    /** The result of a write that found these bytes already stored. */
    const unchanged = (head: ObjectHead, crc: string, sent: UploadResult['sent']): UploadResult => ({
      etag: head.etag,
      checksum: { crc32: crc, composite: false },
      etagNotMd5: undefined,
      parts: 0,
      extraRequests,
      sent,
      written: false,
    });

    return {
      key,
      contentType,
      signal,
      generation,
      existing,
      metadata: Metadata,
      guarded,
      found: () => found,
      unchanged,
      extraRequests: () => extraRequests,
    };
  };
  const target: UploadTarget = {
    s3,
    bucket,
    putter,
    pool,
    queueSize,
    sawChecksums: (seen) => {
      checksumsSeen = seen;
    },
  };

  const store: ObjectStore = {
    bucket,
    reportsChecksums: () => checksumsSeen,

    async upload(key, body, o) {
      const run = beginUpload(key, o);
      const parts = slices(body, opts.partSizeBytes);
      const first = await parts.next();
      const firstPart: Slice = first.done ? { chunks: [], size: 0, last: true } : first.value;
      return firstPart.last ? putSmall(target, run, firstPart) : putMultipart(target, run, firstPart, parts, body);
    },

    async head(key) {
      try {
        // ChecksumMode: S3 reports the object's own CRC32 (no extra request, no extra permission).
        const res = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
        const metadata = res.Metadata ?? {};
        const g = metadata[GENERATION_METADATA];
        const own = checksumOf(res);
        return {
          key,
          size: res.ContentLength ?? 0,
          etag: unquote(res.ETag),
          generation: g !== undefined && /^\d+$/.test(g) ? Number(g) : undefined,
          crc32: own && !own.composite ? own.crc32 : metadata[CRC32_METADATA],
          metadata,
        };
      } catch (err) {
        if (status(err) === 404 || named(err, 'NotFound', 'NoSuchKey')) return undefined;
        if (status(err) === 403) return absentOrDenied(key, err);
        throw err;
      }
    },
    async get(key) {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return res.Body as Readable;
    },
    async *list(prefix) {
      let token: string | undefined;
      do {
        const res = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }),
        );
        for (const o of res.Contents ?? []) {
          if (o.Key) yield { key: o.Key, size: o.Size ?? 0, etag: unquote(o.ETag) };
        }
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
    },
    close: () => putter.close(),
  };
  return store;
}
