// Gap 3 (issue 10): an existing bucket with SSE-KMS default encryption. S3's ETags there are not
// MD5s, yet look like them; verification must not depend on them. The local S3 sits behind the
// fault proxy in its SSE-KMS emulation (random-hex ETags, `aws:kms`, S3's CRC32 checksums).
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.ts';
import { isRetryable } from '../../src/errors.ts';
import { startS3FaultProxy, type S3FaultProxy } from '../../lab/s3-fault-proxy.ts';
import { createOrigin } from '../../src/adapters/origin/client.ts';
import type { Origin } from '../../src/domain/ports/origin.ts';
import { verifyStored } from '../../src/pipeline/integrity.ts';
import { copyFile, type TransferDeps } from '../../src/pipeline/copy-file.ts';
import { expectedCrc32, type StreamDigest } from '../../src/pipeline/body-checker.ts';
import { crc32Base64 } from '../../src/util/crc.ts';
import { createObjectStore } from '../../src/adapters/s3/objects.ts';
import { etagNotMd5Under } from '../../src/adapters/s3/upload.ts';
import type { ObjectStore } from '../../src/domain/ports/object-store.ts';
import { startTestStack, transferDepsOn, type TestStack } from '../helpers/stack.ts';
import { transferDigest, uploadResult } from '../helpers/upload-digest.ts';

const MiB = 1024 * 1024;
let t: TestStack;
let proxy: S3FaultProxy;
let s3ViaProxy: S3Client;
let server: Server;
let base: string;
let cfg: Config;
let origin: Origin;
let direct: ObjectStore;
const bodies = new Map<string, Buffer>([
  ['/seg.ts', randomBytes(1000)],
  ['/big.mp4', randomBytes(12 * MiB + 7)],
]);

/** A fresh store each time: what it learnt about the endpoint (checksums or not) must not leak between cases. */
function deps(): TransferDeps {
  const store = createObjectStore(s3ViaProxy, cfg.destBucket, { partSizeBytes: cfg.transfer.partSizeBytes });
  return transferDepsOn(t, cfg, origin, store);
}

beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'], env: { TRANSFER_PART_SIZE_MB: '5' } });
  proxy = await startS3FaultProxy(t.stack.endpoints.s3!, {}, { emulation: { sseKms: true } });
  s3ViaProxy = new S3Client({
    region: 'us-east-1',
    endpoint: proxy.url,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  server = createServer((req, res) => {
    const body = bodies.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cfg = loadConfig({ ...process.env, ...t.env, ORIGIN_ALLOWED_HOSTS: new URL(base).host });
  origin = createOrigin({ allowedHosts: cfg.originAllowedHosts });
  direct = createObjectStore(t.aws.s3, cfg.destBucket, { partSizeBytes: cfg.transfer.partSizeBytes });
});
afterAll(async () => {
  await origin?.close();
  server?.close();
  s3ViaProxy?.destroy();
  await proxy?.close();
  await t?.stop();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
async function stored(key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await direct.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('an S3-compatible endpoint that reports no checksums, only plain ETags', () => {
  it('verifies a single-part and a multipart file by their MD5 ETags instead', async () => {
    proxy.setEmulation({ checksums: false });
    try {
      for (const [path, body] of bodies) {
        const key = `media/plain${path}`;
        const d = deps();
        const landed = await copyFile({ src: `${base}${path}`, key, kind: 'segment' }, d);
        // No checksum was ever reported, so only the MD5 comparison can have passed it.
        expect(d.store.reportsChecksums()).toBe(false);
        const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
        const part = cfg.transfer.partSizeBytes;
        const parts = [];
        for (let i = 0; i < body.length; i += part) parts.push(Buffer.from(md5(body.subarray(i, i + part)), 'hex'));
        expect(landed.etag).toBe(parts.length === 1 ? md5(body) : `${md5(Buffer.concat(parts))}-${parts.length}`);
        expect(sha(await stored(key))).toBe(sha(body));
      }
    } finally {
      proxy.setEmulation({ sseKms: true });
    }
  });
});

describe('a bucket whose default encryption is SSE-KMS', () => {
  it("copies a single-part and a multipart file, verified by S3's CRC32 although the ETags are not MD5s", async () => {
    proxy.setEmulation({ sseKms: true });
    for (const [path, body] of bodies) {
      const key = `media/kms${path}`;
      const landed = await copyFile({ src: `${base}${path}`, key, kind: 'segment' }, deps());
      expect(landed.bytes).toBe(body.length);
      // The ETag S3 gave is not the MD5 (nor the multipart MD5) of the bytes: the old check failed here.
      expect(landed.etag).toMatch(/^[0-9a-f]{32}(-\d+)?$/);
      expect(landed.etag.split('-')[0]).not.toBe(createHash('md5').update(body).digest('hex'));
      expect(sha(await stored(key))).toBe(sha(body));
    }
  });

  it('refuses to count a file it cannot verify (no checksum, KMS ETag), saying why', async () => {
    proxy.setEmulation({ sseKms: true, checksums: false });
    try {
      const err = await copyFile(
        { src: `${base}/seg.ts`, key: 'media/kms-unverifiable/seg.ts', kind: 'segment' },
        deps(),
      ).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CHECKSUM_UNAVAILABLE', retryable: false });
      expect((err as Error).message).toMatch(/aws:kms encryption its ETag is not an MD5/);
    } finally {
      proxy.setEmulation({ sseKms: true });
    }
  });

  it('S3 refuses a body whose CRC32 does not match the one sent with it (BadDigest), so nothing corrupt lands', async () => {
    const store = createObjectStore(s3ViaProxy, cfg.destBucket, { partSizeBytes: cfg.transfer.partSizeBytes });
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const err = await s3ViaProxy
      .send(
        new PutObjectCommand({
          Bucket: store.bucket,
          Key: 'media/kms/bad.ts',
          Body: Buffer.from('abc'),
          ChecksumCRC32: crc32Base64(1),
        }),
      )
      .catch((e: unknown) => e);
    expect((err as { name?: string }).name).toBe('BadDigest');
    // Damage in transit: another attempt sends the bytes again.
    expect(isRetryable(err)).toBe(true);
    expect(await direct.head('media/kms/bad.ts')).toBeUndefined();
  });
});

describe('verifyStored', () => {
  /** What copyFile verifies with: the checker's digest and the CRC32s the uploader sent. */
  const digestOf = (data: Buffer, partSize: number): StreamDigest => transferDigest(data, { partSize, url: 'x' });
  const result = uploadResult;

  it("compares S3's CRC32, full-object or composite, and catches a mismatch", async () => {
    const data = randomBytes(10_000);
    const d = digestOf(data, 4096);
    expect(
      verifyStored(
        'k',
        d,
        result({
          checksum: { crc32: expectedCrc32(d, 'FULL_OBJECT'), composite: false },
          etagNotMd5: etagNotMd5Under('aws:kms'),
          etag: 'f'.repeat(32),
        }),
        4096,
      ),
    ).toBe('crc32');
    expect(
      verifyStored(
        'k',
        d,
        result({
          checksum: { crc32: expectedCrc32(d, 'COMPOSITE'), composite: true },
          etagNotMd5: etagNotMd5Under('aws:kms'),
        }),
        4096,
      ),
    ).toBe('crc32');
    expect(() => verifyStored('k', d, result({ checksum: { crc32: crc32Base64(1), composite: false } }), 4096)).toThrow(
      /CRC32 AAAAAQ==/,
    );
  });

  it('trusts an ETag as an MD5 only when S3 did not say the object is KMS- or customer-key-encrypted', async () => {
    const data = randomBytes(1000);
    const d = digestOf(data, 4096);
    const md5 = createHash('md5').update(data).digest('hex');
    expect(verifyStored('k', d, result({ etag: md5 }), 4096)).toBe('md5-etag');
    expect(verifyStored('k', d, result({ etag: md5, etagNotMd5: etagNotMd5Under('AES256') }), 4096)).toBe('md5-etag');
    expect(() => verifyStored('k', d, result({ etag: 'e'.repeat(32) }), 4096)).toThrow(
      expect.objectContaining({ code: 'CHECKSUM_MISMATCH' }),
    );
    for (const sse of ['aws:kms', 'aws:kms:dsse'])
      expect(() => verifyStored('k', d, result({ etag: md5, etagNotMd5: etagNotMd5Under(sse) }), 4096)).toThrow(
        expect.objectContaining({ code: 'CHECKSUM_UNAVAILABLE' }),
      );
  });
});
