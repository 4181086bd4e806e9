// The local S3 server refuses conditional writes whose precondition fails, as S3 does (the
// generation guard of the transfer and its tests depend on it), and reads multipart completions
// whose parts carry checksums.
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalFauxqs, type LocalFauxqs } from '../../lab/servers/fauxqs.ts';

let server: LocalFauxqs;
let s3: S3Client;
const Bucket = 'cond';

const status = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
async function body(Key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket, Key }));
  return res.Body!.transformToString();
}

beforeAll(async () => {
  server = await startLocalFauxqs();
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: server.url,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await s3.send(new CreateBucketCommand({ Bucket }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

describe('local S3 conditional writes', () => {
  it('listens on loopback only', () => {
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
  });

  it('If-None-Match: * creates once, then refuses with 412 and leaves the object alone', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'a/one.ts', Body: 'first', IfNoneMatch: '*' }));
    const err = await s3
      .send(new PutObjectCommand({ Bucket, Key: 'a/one.ts', Body: 'second', IfNoneMatch: '*' }))
      .catch((e: unknown) => e);
    expect(status(err)).toBe(412);
    expect((err as Error).name).toBe('PreconditionFailed');
    expect(await body('a/one.ts')).toBe('first');
  });

  it('If-Match writes only over the ETag it names, and 404s on a missing key', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'a/two.ts', Body: 'v1' }));
    const { ETag } = await s3.send(new HeadObjectCommand({ Bucket, Key: 'a/two.ts' }));
    const wrong = await s3
      .send(
        new PutObjectCommand({ Bucket, Key: 'a/two.ts', Body: 'v2', IfMatch: '"0123456789abcdef0123456789abcdef"' }),
      )
      .catch((e: unknown) => e);
    expect(status(wrong)).toBe(412);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'a/two.ts', Body: 'v3', IfMatch: ETag! }));
    expect(await body('a/two.ts')).toBe('v3');
    const missing = await s3
      .send(new PutObjectCommand({ Bucket, Key: 'a/none.ts', Body: 'x', IfMatch: ETag! }))
      .catch((e: unknown) => e);
    expect(status(missing)).toBe(404);
  });

  it('guards CompleteMultipartUpload, and a refused upload can still complete under the right condition', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'a/big.mp4', Body: 'small old object' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'a/big.mp4' }));
    const part = await s3.send(
      new UploadPartCommand({ Bucket, Key: 'a/big.mp4', UploadId, PartNumber: 1, Body: 'new multipart body' }),
    );
    const complete = (cond: { IfNoneMatch?: string; IfMatch?: string }) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'a/big.mp4',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] },
          ...cond,
        }),
      );
    expect(status(await complete({ IfNoneMatch: '*' }).catch((e: unknown) => e))).toBe(412);
    expect(await body('a/big.mp4')).toBe('small old object');
    const { ETag } = await s3.send(new HeadObjectCommand({ Bucket, Key: 'a/big.mp4' }));
    await complete({ IfMatch: ETag! });
    expect(await body('a/big.mp4')).toBe('new multipart body');
  });

  it('serialises racing conditional creates: exactly one wins', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        s3.send(new PutObjectCommand({ Bucket, Key: 'a/race.ts', Body: `writer ${i}`, IfNoneMatch: '*' })),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => status(r.reason))).toEqual(Array(7).fill(412));
  });

  it('completes a multipart upload whose part list carries checksums, and refuses an empty one', async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket, Key: 'a/sum.mp4', ChecksumAlgorithm: 'CRC32' }),
    );
    const part = await s3.send(
      new UploadPartCommand({
        Bucket,
        Key: 'a/sum.mp4',
        UploadId,
        PartNumber: 1,
        Body: 'with checksum',
        ChecksumCRC32: 'AAAAAA==',
      }),
    );
    const empty = await s3
      .send(new CompleteMultipartUploadCommand({ Bucket, Key: 'a/sum.mp4', UploadId, MultipartUpload: { Parts: [] } }))
      .catch((e: unknown) => e);
    expect(status(empty)).toBe(400);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'a/sum.mp4',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag!, ChecksumCRC32: 'AAAAAA==' }] },
      }),
    );
    expect(await body('a/sum.mp4')).toBe('with checksum');
  });
});
