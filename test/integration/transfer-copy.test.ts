import { createJobQueue } from '../../src/store/queue.ts';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createOrigin, type Origin } from '../../src/origin/client.ts';
import { createLedger } from '../../src/store/ledger.ts';
import { createObjectStore, type ObjectStore } from '../../src/store/objects.ts';
import { copyFile, type TransferDeps } from '../../src/pipeline/transfer.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let t: TestStack;
let server: Server;
let base: string;
let origin: Origin;
let store: ObjectStore;
let deps: TransferDeps;
const MiB = 1024 * 1024;
const bodies = new Map<string, Buffer>([
  ['/small.ts', randomBytes(1000)],
  ['/empty.vtt', Buffer.alloc(0)],
  ['/exact.ts', randomBytes(5 * MiB)],
  ['/large.mp4', randomBytes(12 * MiB + 123)],
]);

beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'], env: { TRANSFER_PART_SIZE_MB: '5' } });
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/truncated.ts') {
      // Promise 1000 bytes, send 400, then drop the connection.
      res.writeHead(200, { 'content-length': '1000' });
      res.write(Buffer.alloc(400, 1));
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (path === '/gone.ts') {
      res.writeHead(404).end();
      return;
    }
    const body = bodies.get(path);
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': String(body.length), 'content-type': 'application/octet-stream' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cfg = loadConfig({ ...process.env, ORIGIN_ALLOWED_HOSTS: '127.0.0.1' });
  origin = createOrigin({ allowedHosts: cfg.originAllowedHosts });
  store = createObjectStore(t.aws.s3, cfg.destBucket, { partSizeBytes: cfg.transfer.partSizeBytes });
  deps = { cfg, origin, store, ledger: createLedger(t.aws.ddb, cfg.tableName), queue: createJobQueue(t.aws.sqs, cfg), log: t.log };
});
afterAll(async () => {
  await origin?.close();
  server?.close();
  await t?.stop();
});

async function s3Bytes(key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('copyFile: origin → S3, verified while streaming', () => {
  for (const [path, body] of bodies) {
    it(`copies ${path} (${body.length} bytes) byte for byte and checks S3's ETag`, async () => {
      const key = `media${path}`;
      const landed = await copyFile({ src: `${base}${path}`, key, kind: 'segment' }, deps);
      expect(landed.bytes).toBe(body.length);
      expect(createHash('sha256').update(await s3Bytes(key)).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
      if (body.length > 5 * MiB) expect(landed.etag).toMatch(/-3$/);
      else expect(landed.etag).toBe(createHash('md5').update(body).digest('hex'));
      const head = await store.head(key);
      expect(head?.size).toBe(body.length);
    });
  }

  it('stores a playlist with the HLS content type', async () => {
    bodies.set('/x/index.m3u8', Buffer.from('#EXTM3U\n'));
    await copyFile({ src: `${base}/x/index.m3u8`, key: 'media/x/index.m3u8', kind: 'playlist' }, deps);
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const head = await t.aws.s3.send(new HeadObjectCommand({ Bucket: store.bucket, Key: 'media/x/index.m3u8' }));
    expect(head.ContentType).toBe('application/vnd.apple.mpegurl');
  });

  it('refuses a truncated body (retryable) and leaves no object behind', async () => {
    const err = await copyFile({ src: `${base}/truncated.ts`, key: 'media/truncated.ts', kind: 'segment' }, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { retryable?: boolean }).retryable).toBe(true);
    expect(await store.head('media/truncated.ts')).toBeUndefined();
  });

  it('fails fast on 404, not retryable', async () => {
    const err = await copyFile({ src: `${base}/gone.ts`, key: 'media/gone.ts', kind: 'segment' }, deps).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ORIGIN_HTTP_STATUS', status: 404, retryable: false });
  });

  it('never fetches a host outside ORIGIN_ALLOWED_HOSTS', async () => {
    const err = await copyFile({ src: 'http://localhost:1/x.ts', key: 'media/x.ts', kind: 'segment' }, deps).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ORIGIN_HOST_NOT_ALLOWED' });
    expect((err as Error).message).toContain('localhost:1');
  });
});
