import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';

export interface StoredObject {
  key: string;
  size: number;
  etag: string | undefined;
}

/** What the pipeline needs of the destination bucket. */
export interface ObjectStore {
  readonly bucket: string;
  /** Streams a body into `key` (multipart above the part size); resolves with S3's ETag. */
  upload(key: string, body: Readable, opts: { contentType: string; signal?: AbortSignal }): Promise<{ etag: string | undefined }>;
  head(key: string): Promise<StoredObject | undefined>;
  get(key: string): Promise<Readable>;
  list(prefix: string): AsyncIterable<StoredObject>;
}

/** Parts lib-storage keeps in flight per upload; with the part being filled, what one upload may buffer. */
export const UPLOAD_QUEUE_SIZE = 4;

/** S3-backed ObjectStore using @aws-sdk/lib-storage for streaming multipart uploads. */
export function createObjectStore(s3: S3Client, bucket: string, opts: { partSizeBytes: number; queueSize?: number }): ObjectStore {
  return {
    bucket,
    async upload(key, body, { contentType, signal }) {
      const upload = new Upload({
        client: s3,
        params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType },
        partSize: opts.partSizeBytes,
        queueSize: opts.queueSize ?? UPLOAD_QUEUE_SIZE,
        leavePartsOnError: false,
      });
      const onAbort = () => void upload.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const res = await upload.done();
        return { etag: res.ETag?.replaceAll('"', '') };
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },
    async head(key) {
      try {
        const res = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { key, size: res.ContentLength ?? 0, etag: res.ETag?.replaceAll('"', '') };
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 || (err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchKey') return undefined;
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
        const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }));
        for (const o of res.Contents ?? []) {
          if (o.Key) yield { key: o.Key, size: o.Size ?? 0, etag: o.ETag?.replaceAll('"', '') };
        }
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
    },
  };
}
