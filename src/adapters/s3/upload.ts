// Writing one object's bytes, in one of two ways: a small file (one part) gathered into one pooled
// buffer and sent with one PutObject; a large one as a multipart upload, a bounded number of parts in
// flight. Both compute the CRC32s S3 checks (per part and whole) in one step as they gather the bytes,
// and both write under the generation guard the store builds for each upload (objects.ts).
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import type { BufferPool } from '../../util/buffer-pool.ts';
import { crc32Base64 } from '../../util/crc.ts';
import type { ObjectHead, StoredChecksum, UploadResult } from '../../domain/ports/object-store.ts';
import type { ObjectPutter } from './s3-put.ts';

/** CRC32 of the whole object, kept by FLAnts for single-request writes (S3 reports its own for multipart ones). */
export const CRC32_METADATA = 'flants-crc32';
/** Returned by a guarded write that found the very bytes already stored. */
export const SAME = Symbol('same bytes stored');
export type Condition = { IfNoneMatch: '*' } | { IfMatch: string };

export const unquote = (etag: string | undefined) => etag?.replaceAll('"', '');

/** S3's checksum headers as the port's neutral value: a CRC32, of the whole object or COMPOSITE (of the parts'). */
export function checksumOf(res: {
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
export interface Slice {
  chunks: Buffer[];
  size: number;
  last: boolean;
}

/** Reads a body in exact `partSize` slices; the last (possibly empty, possibly full) is marked. */
export async function* slices(body: AsyncIterable<Buffer>, partSize: number): AsyncGenerator<Slice> {
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

/** What a store gives its uploads: the clients, the buffers, and where it learns that S3 reports checksums. */
export interface UploadTarget {
  s3: S3Client;
  bucket: string;
  putter: ObjectPutter;
  pool: BufferPool;
  /** Parts kept in flight per multipart upload. */
  queueSize: number;
  sawChecksums(seen: boolean): void;
}

/** One upload: what it writes, and its generation guard (built by the store, see createObjectStore). */
export interface UploadRun {
  key: string;
  contentType: string;
  signal: AbortSignal | undefined;
  generation: number | undefined;
  /** What the caller just read at the key (HEAD), if it did. */
  existing: ObjectHead | undefined;
  /** User metadata, with the generation; undefined when there is none. */
  metadata: Record<string, string> | undefined;
  /** Runs a write under the generation guard; SAME when what is stored already holds these bytes. */
  guarded<T>(
    write: (cond: Condition | undefined) => Promise<T>,
    same: (head: ObjectHead) => boolean,
  ): Promise<T | typeof SAME>;
  /** What a 412's HEAD found when it held these very bytes. */
  found(): ObjectHead | undefined;
  /** The result of a write that found these bytes already stored. */
  unchanged(head: ObjectHead, crc: string, sent: UploadResult['sent']): UploadResult;
  /** Extra requests the generation guard made so far. */
  extraRequests(): number;
}

/**
 * The checksum step both paths share: a slice's chunks copied into one buffer, each chunk's CRC32
 * taken in the same visit (while it is still in the cache): of the part, and, given the CRC32 of the
 * parts before (a multipart upload), of the whole so far. One part is its own whole: one CRC32 pass.
 */
function gather(slice: Slice, into: Buffer, wholeSoFar?: number): { part: number; whole: number } {
  let at = 0;
  let part = 0;
  let whole = wholeSoFar ?? 0;
  for (const c of slice.chunks) {
    part = crc32(c, part);
    if (wholeSoFar !== undefined) whole = crc32(c, whole);
    at += c.copy(into, at);
  }
  return { part, whole: wholeSoFar === undefined ? part : whole };
}

/** A body of one part: one pooled buffer, one PutObject (through s3-put.ts), its CRC32 and metadata with it. */
export async function putSmall(t: UploadTarget, run: UploadRun, only: Slice): Promise<UploadResult> {
  const { key, generation, existing, signal } = run;
  const size = only.size;
  // One buffer: undici writes it with its headers in one corked write (several chunks cost a syscall each).
  const data = t.pool.take(size);
  const crc = gather(only, data).part;
  const sent = { crc32: crc, partCrc32s: [crc] };
  const checksum = crc32Base64(crc);
  const same = (head: ObjectHead) => generation !== undefined && head.size === size && head.crc32 === checksum;
  // The caller read the key and it already holds these bytes: no write at all.
  if (existing && same(existing)) return run.unchanged(existing, checksum, sent);
  const res = await run.guarded(
    (cond) =>
      t.putter.put({
        key,
        body: data,
        contentType: run.contentType,
        checksumCrc32: checksum,
        // Kept so that a later copy can tell "same bytes" from a HEAD, on any endpoint.
        metadata: run.metadata && { ...run.metadata, [CRC32_METADATA]: checksum },
        ...(cond && 'IfNoneMatch' in cond ? { ifNoneMatch: cond.IfNoneMatch } : {}),
        ...(cond && 'IfMatch' in cond ? { ifMatch: cond.IfMatch } : {}),
        signal,
      }),
    same,
  );
  if (res === SAME) return run.unchanged(run.found()!, checksum, sent);
  // S3 answered the write: every byte of the body has left the process, so its buffer can be used again.
  t.pool.give(data);
  t.sawChecksums(Boolean(res.checksumCrc32));
  return {
    etag: unquote(res.etag),
    checksum: checksumOf({ ChecksumCRC32: res.checksumCrc32, ChecksumType: res.checksumType }),
    etagNotMd5: etagNotMd5Under(res.sse),
    parts: 1,
    extraRequests: run.extraRequests(),
    sent,
    written: true,
  };
}

/**
 * A body of several parts: a multipart upload with at most `queueSize` parts in memory and in flight
 * (backpressure reaches the origin), completed under the generation guard with the whole object's
 * CRC32; aborted, and the body no longer read, on any failure or when the bytes are already stored.
 */
export async function putMultipart(
  t: UploadTarget,
  run: UploadRun,
  firstPart: Slice,
  parts: AsyncGenerator<Slice>,
  body: AsyncIterable<Buffer>,
): Promise<UploadResult> {
  const { key, existing } = run;
  const { s3, bucket } = t;
  const send = { abortSignal: run.signal };
  const created = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      ContentType: run.contentType,
      ChecksumAlgorithm: 'CRC32',
      ChecksumType: 'FULL_OBJECT',
      Metadata: run.metadata,
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
      const data = Buffer.allocUnsafe(next.size);
      const crcs = gather(next, data, whole);
      partCrcs.push(crcs.part);
      whole = crcs.whole;
      total += data.length;
      void put(data, ++number, crcs.part);
      // At most queueSize parts in memory and in flight: backpressure reaches the origin.
      while (inFlight.size >= t.queueSize) await Promise.race(inFlight);
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
      return run.unchanged(existing, wholeCrc, sent);
    }
    const res = await run.guarded(
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
      return run.unchanged(run.found()!, wholeCrc, sent);
    }
    t.sawChecksums(Boolean(res.ChecksumCRC32));
    return {
      etag: unquote(res.ETag),
      checksum: checksumOf(res),
      etagNotMd5: etagNotMd5Under(res.ServerSideEncryption),
      parts: number,
      extraRequests: run.extraRequests(),
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
}
