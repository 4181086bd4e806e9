// The local S3 server refuses conditional writes whose precondition fails, as S3 does (the
// generation guard of the transfer and its tests depend on it), and reads multipart completions
// whose parts carry checksums, and checks and reports CRC32 checksums as S3 does.
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
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalFauxqs, type LocalFauxqs } from '../../lab/servers/fauxqs.ts';

let server: LocalFauxqs;
let s3: S3Client;
const Bucket = 'cond';

const crcOf = (data: string | Buffer, from = 0): string => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32(data, from) >>> 0);
  return b.toString('base64');
};
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
        ChecksumCRC32: crcOf('with checksum'),
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
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag!, ChecksumCRC32: crcOf('with checksum') }] },
      }),
    );
    expect(await body('a/sum.mp4')).toBe('with checksum');
  });
});

describe('local S3 checksums', () => {
  it('refuses a body that does not match its CRC32 (BadDigest, nothing stored) and reports its own CRC32 otherwise', async () => {
    const bad = await s3
      .send(new PutObjectCommand({ Bucket, Key: 'c/one.ts', Body: 'payload', ChecksumCRC32: crcOf('other') }))
      .catch((e: unknown) => e);
    expect(status(bad)).toBe(400);
    expect((bad as Error).name).toBe('BadDigest');
    expect(await s3.send(new HeadObjectCommand({ Bucket, Key: 'c/one.ts' })).catch((e: unknown) => status(e))).toBe(
      404,
    );
    const put = await s3.send(
      new PutObjectCommand({ Bucket, Key: 'c/one.ts', Body: 'payload', ChecksumCRC32: crcOf('payload') }),
    );
    expect(put.ChecksumCRC32).toBe(crcOf('payload'));
    expect(put.ChecksumType).toBe('FULL_OBJECT');
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'c/one.ts', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32).toBe(crcOf('payload'));
  });

  it('reports no checksum for an object last written without one', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'c/two.ts', Body: 'v1', ChecksumCRC32: crcOf('v1') }));
    // A raw write without a checksum header (the SDK would add one): fetch, unsigned (the local server does not check signatures).
    const res = await fetch(`${server.url}/${Bucket}/c/two.ts`, { method: 'PUT', body: 'v2' });
    expect(res.status).toBe(200);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'c/two.ts', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32).toBeUndefined();
  });

  it('checks a FULL_OBJECT multipart checksum against the parts and reports it; COMPOSITE otherwise', async () => {
    const a = Buffer.alloc(5 * 1024 * 1024, 1);
    const b = Buffer.from('tail');
    const upload = async (Key: string, type: 'FULL_OBJECT' | 'COMPOSITE', whole: string | undefined) => {
      const { UploadId } = await s3.send(
        new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: 'CRC32', ChecksumType: type }),
      );
      const parts = [];
      for (const [i, Body] of [a, b].entries()) {
        const r = await s3.send(
          new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body, ChecksumCRC32: crcOf(Body) }),
        );
        expect(r.ChecksumCRC32).toBe(crcOf(Body));
        parts.push({ PartNumber: i + 1, ETag: r.ETag!, ChecksumCRC32: crcOf(Body) });
      }
      return s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: parts },
          ...(type === 'FULL_OBJECT' ? { ChecksumType: type, ChecksumCRC32: whole } : {}),
        }),
      );
    };
    const right = crcOf(b, crc32(a));
    const wrong = await upload('c/bad.mp4', 'FULL_OBJECT', crcOf('nope')).catch((e: unknown) => e);
    expect((wrong as Error).name).toBe('BadDigest');
    const full = await upload('c/full.mp4', 'FULL_OBJECT', right);
    expect(full.ChecksumCRC32).toBe(right);
    expect(full.ChecksumType).toBe('FULL_OBJECT');
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'c/full.mp4', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32).toBe(right);
    const composite = await upload('c/comp.mp4', 'COMPOSITE', undefined);
    const joined = Buffer.concat([a, b].map((p) => Buffer.from(crcOf(p), 'base64')));
    expect(composite.ChecksumCRC32).toBe(`${crcOf(joined)}-2`);
  });
});
