// The benchmark's discarding S3 endpoint (lab/s3-sink.ts) answers the real ObjectStore the way S3
// does: a multipart upload completes with the FULL_OBJECT CRC32 of every byte, a small object with
// its own, and a body that does not match the CRC32 the client sent is refused.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32Combine, startS3Sink, type S3Sink } from '../../lab/s3-sink.ts';
import { loadConfig } from '../../src/config.ts';
import { createAwsClients, type AwsClients } from '../../src/wiring/aws-clients.ts';
import { createObjectStore } from '../../src/adapters/s3/objects.ts';
import { crc32Base64 } from '../../src/util/crc.ts';

let sink: S3Sink;
let aws: AwsClients;

beforeAll(async () => {
  sink = await startS3Sink();
  aws = createAwsClients(
    loadConfig({
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_S3: sink.url,
    }),
  );
});
afterAll(async () => {
  aws?.destroy();
  await sink?.close();
});

describe('the S3 sink', () => {
  it('combines CRC32s as zlib does', () => {
    for (const [a, b] of [
      [0, 9],
      [9, 0],
      [1, 1],
      [1000, 70_001],
    ] as const) {
      const x = randomBytes(a);
      const y = randomBytes(b);
      expect(crc32Combine(crc32(x), crc32(y), b)).toBe(crc32(Buffer.concat([x, y])));
    }
  });

  it('takes a multipart upload from the ObjectStore and reports the whole object CRC32', async () => {
    const store = createObjectStore(aws.s3, 'sink', { partSizeBytes: 5 * 1024 * 1024 });
    const data = randomBytes(12 * 1024 * 1024 + 17);
    const before = sink.stats();
    const r = await store.upload('a/big.bin', Readable.from([data]), { contentType: 'video/mp2t', generation: 1 });
    expect(r.parts).toBe(3);
    expect(r.checksum).toEqual({ crc32: crc32Base64(crc32(data)), composite: false });
    expect(sink.stats().bytes - before.bytes).toBe(data.length);
    expect(store.reportsChecksums()).toBe(true);
  });

  it('takes a small object in one request', async () => {
    const store = createObjectStore(aws.s3, 'sink', { partSizeBytes: 5 * 1024 * 1024 });
    const data = randomBytes(1000);
    const r = await store.upload('a/small.ts', Readable.from([data]), { contentType: 'video/mp2t' });
    expect(r.checksum?.crc32).toBe(crc32Base64(crc32(data)));
  });

  it('refuses a body whose CRC32 is not the one sent', async () => {
    const res = await fetch(`${sink.url}/sink/x`, {
      method: 'PUT',
      body: 'hello',
      headers: { 'x-amz-checksum-crc32': crc32Base64(crc32(Buffer.from('other'))) },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('BadDigest');
  });
});
