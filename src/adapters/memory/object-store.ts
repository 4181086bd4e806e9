// An object store in memory: the destination unit tests copy into. It keeps the port's promises the way the
// S3 adapter does (the generation guard, "same bytes already there", CRC32s per part and whole, HEAD's
// metadata), and test/contracts/object-store.contract.ts holds both to them, so a test passing against it
// means what it would against S3.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { FlantsError } from '../../errors.ts';
import { crc32Base64 } from '../../util/crc.ts';
import {
  GENERATION_METADATA,
  StaleWriteError,
  type ObjectHead,
  type ObjectStore,
  type StoredObject,
  type UploadResult,
} from '../../domain/ports/object-store.ts';

/** One stored object, as a test may read it. */
export interface MemoryObject {
  body: Buffer;
  contentType: string;
  metadata: Record<string, string>;
  etag: string;
}

export interface MemoryObjectStore extends ObjectStore {
  /** What the store holds, by key: a test's view of the bucket. */
  readonly objects: Map<string, MemoryObject>;
}

/** A body cut in parts as the S3 adapter cuts it: exact `partSize` slices, the last possibly short (one empty part for an empty body). */
function partsOf(data: Buffer, partSize: number): Buffer[] {
  if (data.length <= partSize) return [data];
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += partSize) parts.push(data.subarray(at, at + partSize));
  return parts;
}

/** S3's ETag of what it stores: the MD5 of a single-part body, the MD5 of the parts' MD5s and "-<parts>" otherwise. */
function etagOf(parts: Buffer[]): string {
  const md5 = (b: Buffer) => createHash('md5').update(b).digest();
  if (parts.length === 1) return md5(parts[0]!).toString('hex');
  return `${md5(Buffer.concat(parts.map(md5))).toString('hex')}-${parts.length}`;
}

export function createMemoryObjectStore(opts: { bucket?: string; partSizeBytes?: number } = {}): MemoryObjectStore {
  const partSize = opts.partSizeBytes ?? 8 * 1024 * 1024;
  const objects = new Map<string, MemoryObject>();
  const headOf = (key: string, o: MemoryObject): ObjectHead => {
    const g = o.metadata[GENERATION_METADATA];
    return {
      key,
      size: o.body.length,
      etag: o.etag,
      generation: g !== undefined && /^\d+$/.test(g) ? Number(g) : undefined,
      crc32: crc32Base64(crc32(o.body)),
      metadata: { ...o.metadata },
    };
  };

  return {
    bucket: opts.bucket ?? 'memory',
    objects,
    reportsChecksums: () => true,

    async upload(key, body, { contentType, signal, generation, metadata, existing }): Promise<UploadResult> {
      const newer = (head: ObjectHead) =>
        head.generation !== undefined && generation !== undefined && head.generation > generation;
      if (existing && newer(existing)) throw new StaleWriteError(key, generation!, existing.generation!);
      const chunks: Buffer[] = [];
      try {
        for await (const c of body) {
          signal?.throwIfAborted();
          chunks.push(c);
        }
      } catch (err) {
        if (body instanceof Readable) body.destroy(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
      const data = Buffer.concat(chunks);
      const parts = partsOf(data, partSize);
      const sent = { crc32: crc32(data), partCrc32s: parts.map((p) => crc32(p)) };
      const whole = crc32Base64(sent.crc32);
      // As the S3 adapter decides: a single-part write finds "same bytes" only under a generation.
      const same = (head: ObjectHead) =>
        (generation !== undefined || parts.length > 1) && head.size === data.length && head.crc32 === whole;
      const unchanged = (head: ObjectHead, extraRequests: number): UploadResult => ({
        etag: head.etag,
        checksum: { crc32: whole, composite: false },
        etagNotMd5: undefined,
        parts: 0,
        extraRequests,
        sent,
        written: false,
      });
      if (existing && same(existing)) return unchanged(existing, 0);
      signal?.throwIfAborted();
      let extraRequests = 0;
      const stored = objects.get(key);
      if (generation !== undefined && stored) {
        // S3 refuses the first conditional write unless it named this very version (If-Match on `existing`).
        const current = headOf(key, stored);
        if (existing?.etag !== current.etag) {
          extraRequests += 2;
          if (newer(current)) throw new StaleWriteError(key, generation, current.generation!);
          if (same(current)) return unchanged(current, extraRequests - 1);
        }
      }
      const etag = etagOf(parts);
      objects.set(key, {
        body: data,
        contentType,
        metadata: { ...metadata, ...(generation === undefined ? {} : { [GENERATION_METADATA]: String(generation) }) },
        etag,
      });
      return {
        etag,
        checksum: { crc32: whole, composite: false },
        etagNotMd5: undefined,
        parts: parts.length,
        extraRequests,
        sent,
        written: true,
      };
    },

    head(key) {
      const o = objects.get(key);
      return Promise.resolve(o ? headOf(key, o) : undefined);
    },
    get(key) {
      const o = objects.get(key);
      if (!o) return Promise.reject(new FlantsError('FILE_NOT_FOUND', `no object ${key} in the memory store`));
      return Promise.resolve(Readable.from([o.body]));
    },
    list(prefix) {
      // The objects as they were when the listing began, in key order.
      const rows: StoredObject[] = [...objects]
        .filter(([key]) => key.startsWith(prefix))
        .sort(([a], [b]) => byBytes(a, b))
        .map(([key, o]) => ({ key, size: o.body.length, etag: o.etag }));
      return Readable.from(rows, { objectMode: true }) as AsyncIterable<StoredObject>;
    },
    close: () => Promise.resolve(),
  };
}

/** Keys in S3's order: by their UTF-8 bytes. */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
