import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { FlantsError } from '../../errors.ts';
import { BufferPool } from '../../util/buffer-pool.ts';
import { crc32Base64 } from '../../util/crc.ts';
import { awsErrorName, awsStatus as status } from '../../util/aws-errors.ts';
import { createObjectPutter } from './s3-put.ts';
import {
  GENERATION_METADATA,
  StaleWriteError,
  UPLOAD_QUEUE_SIZE,
  type ObjectHead,
  type ObjectStore,
  type StoredChecksum,
  type UploadResult,
} from '../../domain/ports/object-store.ts';

// The port's types and names, re-exported for importers of this module during the wave (issue 20).
export type {
  ObjectHead,
  ObjectStore,
  StoredChecksum,
  StoredObject,
  UploadOptions,
  UploadResult,
} from '../../domain/ports/object-store.ts';
export {
  GENERATION_METADATA,
  SHA256_METADATA,
  SRC_ETAG_METADATA,
  SRC_MODIFIED_METADATA,
  StaleWriteError,
  UPLOAD_QUEUE_SIZE,
} from '../../domain/ports/object-store.ts';

/** Body buffers a store keeps for reuse between writes, at most. */
const POOL_IDLE_BYTES = 32 * 1024 * 1024;

/** S3 refused a request for lack of a permission; the message names the permission to grant. Not retryable. */
export class S3AccessDeniedError extends FlantsError {
  constructor(message: string, cause?: unknown) {
    super('S3_ACCESS_DENIED', message, { cause });
  }
}

/** CRC32 of the whole object, kept by FLAnts for single-request writes (S3 reports its own for multipart ones). */
export const CRC32_METADATA = 'flants-crc32';
/** Returned by a guarded write that found the very bytes already stored. */
const SAME = Symbol('same bytes stored');
type Condition = { IfNoneMatch: '*' } | { IfMatch: string };

const named = (err: unknown, ...names: string[]): boolean => names.includes(awsErrorName(err) ?? '');
/** 412: the condition did not hold; 409: a concurrent conditional write got there (S3 says: try again); 404 NoSuchKey: If-Match on a key gone since. */
const conditionFailed = (err: unknown): boolean =>
  status(err) === 412 ||
  status(err) === 409 ||
  named(err, 'PreconditionFailed', 'ConditionalRequestConflict') ||
  (status(err) === 404 && named(err, 'NoSuchKey'));
const unquote = (etag: string | undefined) => etag?.replaceAll('"', '');

/** S3's checksum headers as the port's neutral value: a CRC32, of the whole object or COMPOSITE (of the parts'). */
function checksumOf(res: {
  ChecksumCRC32?: string | undefined;
  ChecksumType?: string | undefined;
}): StoredChecksum | undefined {
  if (!res.ChecksumCRC32) return undefined;
  return { crc32: res.ChecksumCRC32, composite: res.ChecksumType === 'COMPOSITE' || /-\d+$/.test(res.ChecksumCRC32) };
}

/**
 * Why S3's ETag is not an MD5 of the bytes, from the encryption it reported (x-amz-server-side-encryption):
 * under SSE-KMS, DSSE-KMS or a customer key it is not (AWS's ETag documentation); under AES256 or none it
 * is, for a single-part object.
 */
export function etagNotMd5Under(sse: string | undefined): string | undefined {
  return sse !== undefined && sse !== 'AES256' ? `under ${sse} encryption` : undefined;
}

/** A slice of the body as the chunks it arrived in: no copy until a part must be one buffer. */
interface Slice {
  chunks: Buffer[];
  size: number;
  last: boolean;
}

/** Reads a body in exact `partSize` slices; the last (possibly empty, possibly full) is marked. */
async function* slices(body: AsyncIterable<Buffer>, partSize: number): AsyncGenerator<Slice> {
  const pending: Buffer[] = [];
  let size = 0;
  const take = (n: number): Buffer[] => {
    const out: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const c = pending[0]!;
      if (c.length <= need) {
        out.push(c);
        pending.shift();
        need -= c.length;
      } else {
        out.push(c.subarray(0, need));
        pending[0] = c.subarray(need);
        need = 0;
      }
    }
    size -= n;
    return out;
  };
  for await (const chunk of body) {
    if (chunk.length === 0) continue;
    pending.push(chunk);
    size += chunk.length;
    // More than a part buffered: that part is certainly not the last.
    while (size > partSize) yield { chunks: take(partSize), size: partSize, last: false };
  }
  const rest = size;
  yield { chunks: take(rest), size: rest, last: true };
}

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

  const store: ObjectStore = {
    bucket,
    reportsChecksums: () => checksumsSeen,

    async upload(key, body, { contentType, signal, generation, metadata, existing }) {
      const send = { abortSignal: signal };
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

      const parts = slices(body, opts.partSizeBytes);
      const first = await parts.next();
      const firstPart: Slice = first.done ? { chunks: [], size: 0, last: true } : first.value;

      if (firstPart.last) {
        const size = firstPart.size;
        // One buffer: undici writes it with its headers in one corked write (several chunks cost a syscall each).
        // Each chunk is checksummed and copied in one visit, while it is still in the cache.
        const data = pool.take(size);
        let at = 0;
        let crc = 0;
        for (const c of firstPart.chunks) {
          crc = crc32(c, crc);
          at += c.copy(data, at);
        }
        const sent = { crc32: crc, partCrc32s: [crc] };
        const checksum = crc32Base64(crc);
        const same = (head: ObjectHead) => generation !== undefined && head.size === size && head.crc32 === checksum;
        // The caller read the key and it already holds these bytes: no write at all.
        if (existing && same(existing)) return unchanged(existing, checksum, sent);
        const res = await guarded(
          (cond) =>
            putter.put({
              key,
              body: data,
              contentType,
              checksumCrc32: checksum,
              // Kept so that a later copy can tell "same bytes" from a HEAD, on any endpoint.
              metadata: Metadata && { ...Metadata, [CRC32_METADATA]: checksum },
              ...(cond && 'IfNoneMatch' in cond ? { ifNoneMatch: cond.IfNoneMatch } : {}),
              ...(cond && 'IfMatch' in cond ? { ifMatch: cond.IfMatch } : {}),
              signal,
            }),
          same,
        );
        if (res === SAME) return unchanged(found!, checksum, sent);
        // S3 answered the write: every byte of the body has left the process, so its buffer can be used again.
        pool.give(data);
        checksumsSeen = Boolean(res.checksumCrc32);
        return {
          etag: unquote(res.etag),
          checksum: checksumOf({ ChecksumCRC32: res.checksumCrc32, ChecksumType: res.checksumType }),
          etagNotMd5: etagNotMd5Under(res.sse),
          parts: 1,
          extraRequests,
          sent,
          written: true,
        };
      }

      const created = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          ContentType: contentType,
          ChecksumAlgorithm: 'CRC32',
          ChecksumType: 'FULL_OBJECT',
          Metadata,
        }),
        send,
      );
      const UploadId = created.UploadId!;
      const done: CompletedPart[] = [];
      const partCrcs: number[] = [];
      const inFlight = new Set<Promise<void>>();
      let failure: Error | undefined;
      let whole = 0;
      let total = 0;
      let number = 0;
      const put = (data: Buffer, PartNumber: number, crc: number): Promise<void> => {
        const ChecksumCRC32 = crc32Base64(crc);
        const p = s3
          .send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: key,
              UploadId,
              PartNumber,
              Body: data,
              ContentLength: data.length,
              ChecksumCRC32,
            }),
            send,
          )
          .then((r) => void done.push({ PartNumber, ETag: r.ETag!, ChecksumCRC32 }))
          .catch((err: unknown) => void (failure ??= err instanceof Error ? err : new Error(String(err))))
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
        return p;
      };
      try {
        let next: Slice | undefined = firstPart;
        while (next) {
          const data = Buffer.concat(next.chunks, next.size);
          const partCrc = crc32(data);
          partCrcs.push(partCrc);
          whole = crc32(data, whole);
          total += data.length;
          void put(data, ++number, partCrc);
          // At most queueSize parts in memory and in flight: backpressure reaches the origin.
          while (inFlight.size >= queueSize) await Promise.race(inFlight);
          if (failure) throw failure;
          if (next.last) break;
          const r: IteratorResult<Slice> = await parts.next();
          next = r.done ? undefined : r.value;
        }
        await Promise.all(inFlight);
        if (failure) throw failure;
        done.sort((x, y) => x.PartNumber! - y.PartNumber!);
        const wholeCrc = crc32Base64(whole);
        const sent = { crc32: whole, partCrc32s: partCrcs };
        const sameWhole = (head: ObjectHead) => head.size === total && head.crc32 === wholeCrc;
        if (existing && sameWhole(existing)) {
          // Known before completing (S3 reports a FULL_OBJECT CRC32 on HEAD): the parts are dropped, nothing replaced.
          await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => undefined);
          return unchanged(existing, wholeCrc, sent);
        }
        const res = await guarded(
          (cond) =>
            s3.send(
              new CompleteMultipartUploadCommand({
                Bucket: bucket,
                Key: key,
                UploadId,
                MultipartUpload: { Parts: done },
                ChecksumCRC32: wholeCrc,
                ChecksumType: 'FULL_OBJECT',
                ...cond,
              }),
              send,
            ),
          sameWhole,
        );
        if (res === SAME) {
          // The parts were sent before S3 could say the object is already there: drop them.
          await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => undefined);
          return unchanged(found!, wholeCrc, sent);
        }
        checksumsSeen = Boolean(res.ChecksumCRC32);
        return {
          etag: unquote(res.ETag),
          checksum: checksumOf(res),
          etagNotMd5: etagNotMd5Under(res.ServerSideEncryption),
          parts: number,
          extraRequests,
          sent,
          written: true,
        };
      } catch (err) {
        // Stop reading the origin too: nothing must wait on a body nobody consumes. A stream is
        // destroyed with the cause (whoever pipes into it sees it); returning the slices returns
        // the body's iterator, which ends a generator body and, through it, its own source.
        if (body instanceof Readable) body.destroy(err instanceof Error ? err : new Error(String(err)));
        await parts.return(undefined).catch(() => undefined);
        await Promise.allSettled(inFlight);
        await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => undefined);
        throw err;
      }
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
