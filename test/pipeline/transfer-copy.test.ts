import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createOrigin } from '../../src/adapters/origin/client.ts';
import type { Origin } from '../../src/domain/ports/origin.ts';
import { createObjectStore } from '../../src/adapters/s3/objects.ts';
import type { ObjectStore } from '../../src/domain/ports/object-store.ts';
import { copyFile, type TransferDeps } from '../../src/pipeline/copy-file.ts';
import { ByteBudget } from '../../src/util/byte-budget.ts';
import { objectBytes, recordingS3, startTestStack, transferDepsOn, type TestStack } from '../helpers/stack.ts';

let t: TestStack;
let server: Server;
let base: string;
let origin: Origin;
let store: ObjectStore;
let deps: TransferDeps;
const MiB = 1024 * 1024;
/** Origin requests that reached a file (method, path, whether conditional), and S3 object writes (command, key). */
const requests: string[] = [];
const writes: string[] = [];
/** Origin paths whose response the client closed before reading it through. */
const stoppedEarly = new Set<string>();
let s3: Awaited<ReturnType<typeof recordingS3>>;
const bodies = new Map<string, Buffer>([
  ['/small.ts', randomBytes(1000)],
  ['/empty.vtt', Buffer.alloc(0)],
  ['/exact.ts', randomBytes(5 * MiB)],
  ['/large.mp4', randomBytes(12 * MiB + 123)],
]);

beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'], env: { TRANSFER_PART_SIZE_MB: '5' } });
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/truncated.ts') {
      // Promise 1000 bytes, send 400, then drop the connection.
      res.writeHead(200, { 'content-length': '1000' });
      res.write(Buffer.alloc(400, 1));
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (path === '/reset.mp4') {
      // Promise 12 MiB, send 7 (past the first part), then drop the connection.
      res.writeHead(200, { 'content-length': String(12 * MiB) });
      res.write(Buffer.alloc(7 * MiB, 2));
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (path === '/long.mp4') {
      // 64 MiB, written as the client takes it: whether the client stopped reading shows on the server.
      const total = 64 * MiB;
      const piece = Buffer.alloc(256 * 1024, 3);
      let sent = 0;
      res.writeHead(200, { 'content-length': String(total) });
      res.once('close', () => void (res.writableFinished ? undefined : stoppedEarly.add(path)));
      const pump = () => {
        while (sent < total) {
          sent += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    if (path === '/gone.ts') {
      res.writeHead(404).end();
      return;
    }
    const body = bodies.get(path);
    if (!body) return void res.writeHead(404).end();
    requests.push(`${req.method} ${path}${req.headers['if-none-match'] ? ' if-none-match' : ''}`);
    // Paths under /v/ have an ETag (of their bytes) and answer conditional requests, as a CDN does.
    const etag = path.startsWith('/v/') ? `"${createHash('md5').update(body).digest('hex')}"` : undefined;
    if (etag && req.headers['if-none-match'] === etag) return void res.writeHead(304, { etag }).end();
    res.writeHead(200, {
      'content-length': String(body.length),
      'content-type': 'application/octet-stream',
      ...(etag ? { etag } : {}),
    });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cfg = loadConfig({ ...process.env, ...t.env, ORIGIN_ALLOWED_HOSTS: new URL(base).host });
  origin = createOrigin({ allowedHosts: cfg.originAllowedHosts });
  s3 = await recordingS3(t, (op) => {
    if (/^(PutObject|UploadPart|CompleteMultipartUpload)$/.test(op.operation)) writes.push(`${op.operation} ${op.key}`);
  });
  store = createObjectStore(s3.s3, cfg.destBucket, { partSizeBytes: cfg.transfer.partSizeBytes });
  deps = transferDepsOn(t, cfg, origin, store);
});
afterAll(async () => {
  await store?.close();
  await s3?.close();
  await origin?.close();
  server?.close();
  await t?.stop();
});

const s3Bytes = (key: string): Promise<Buffer> => objectBytes(store, key);

/** Multipart uploads still open under `key`: a failed copy must leave none. */
async function pendingUploads(key: string): Promise<string[]> {
  const res = await t.aws.s3.send(new ListMultipartUploadsCommand({ Bucket: store.bucket, Prefix: key }));
  return (res.Uploads ?? []).map((u) => u.UploadId ?? '');
}

/** The store on a client that answers 403 (as S3 does) to the commands `fails` picks, by their count of that kind. */
function failingStore(fails: (cmd: object, n: number) => boolean): ObjectStore {
  const seen = new Map<string, number>();
  const client = new Proxy(s3.s3, {
    get(target, prop) {
      if (prop !== 'send') return Reflect.get(target, prop, target) as unknown;
      return (cmd: Parameters<S3Client['send']>[0], ...rest: [object?]) => {
        const n = (seen.get(cmd.constructor.name) ?? 0) + 1;
        seen.set(cmd.constructor.name, n);
        if (!fails(cmd, n)) return target.send(cmd, ...rest);
        const denied = Object.assign(new Error('Access Denied'), {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        });
        return Promise.reject(denied);
      };
    },
  });
  return createObjectStore(client, store.bucket, { partSizeBytes: 5 * MiB });
}

describe('copyFile: origin → S3, verified while streaming', () => {
  for (const [path, body] of bodies) {
    it(`copies ${path} (${body.length} bytes) byte for byte and checks S3's ETag`, async () => {
      const key = `media${path}`;
      const landed = await copyFile({ src: `${base}${path}`, key, kind: 'segment' }, deps);
      expect(landed.bytes).toBe(body.length);
      expect(
        createHash('sha256')
          .update(await s3Bytes(key))
          .digest('hex'),
      ).toBe(createHash('sha256').update(body).digest('hex'));
      if (body.length > 5 * MiB) expect(landed.etag).toMatch(/-3$/);
      else expect(landed.etag).toBe(createHash('md5').update(body).digest('hex'));
      const head = await store.head(key);
      expect(head?.size).toBe(body.length);
    });
  }

  it('holds upload buffers within the byte budget however many large files copy at once', async () => {
    // One multipart upload's worth: large files take turns, small ones fit beside them.
    const budget = new ByteBudget(5 * MiB * 5);
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, budget.inUse)), 1);
    try {
      const files = Array.from({ length: 4 }, (_, i) => ({
        src: `${base}/large.mp4?copy=${i}`,
        key: `media/budget/${i}.mp4`,
        kind: 'segment' as const,
      }));
      const landed = await Promise.all(files.map((f) => copyFile(f, { ...deps, budget })));
      expect(landed.map((l) => l.bytes)).toEqual(files.map(() => bodies.get('/large.mp4')!.length));
    } finally {
      clearInterval(timer);
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(budget.total);
    expect(budget.inUse).toBe(0);
  });

  it('refuses a playlist whose bytes are not the ones the crawler enumerated, and writes nothing', async () => {
    const err = await copyFile(
      { src: `${base}/small.ts`, key: 'media/changed.m3u8', kind: 'playlist', bytes: 1000, sha256: '0'.repeat(64) },
      deps,
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PLAYLIST_CHANGED' });
    expect(await store.head('media/changed.m3u8')).toBeUndefined();
  });

  it('stores a playlist with the HLS content type', async () => {
    bodies.set('/x/index.m3u8', Buffer.from('#EXTM3U\n'));
    await copyFile({ src: `${base}/x/index.m3u8`, key: 'media/x/index.m3u8', kind: 'playlist' }, deps);
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const head = await t.aws.s3.send(new HeadObjectCommand({ Bucket: store.bucket, Key: 'media/x/index.m3u8' }));
    expect(head.ContentType).toBe('application/vnd.apple.mpegurl');
  });

  it('refuses a truncated body (retryable) and leaves no object behind', async () => {
    const err = await copyFile({ src: `${base}/truncated.ts`, key: 'media/truncated.ts', kind: 'segment' }, deps).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as { retryable?: boolean }).retryable).toBe(true);
    expect(await store.head('media/truncated.ts')).toBeUndefined();
  });

  it('refuses a body that breaks past its first part (retryable) and aborts the multipart upload', async () => {
    const err = await copyFile({ src: `${base}/reset.mp4`, key: 'media/reset.mp4', kind: 'segment' }, deps).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'ORIGIN_NETWORK', retryable: true });
    expect(await store.head('media/reset.mp4')).toBeUndefined();
    expect(await pendingUploads('media/reset.mp4')).toEqual([]);
  });

  for (const command of [UploadPartCommand, CreateMultipartUploadCommand]) {
    it(`a failed ${command.name} fails the copy with S3's error, aborts, and stops reading the origin`, async () => {
      const key = `media/fail-${command.name}.mp4`;
      stoppedEarly.delete('/long.mp4');
      const failing = failingStore((cmd, n) => cmd instanceof command && n === (command === UploadPartCommand ? 2 : 1));
      const err = await copyFile({ src: `${base}/long.mp4`, key, kind: 'segment' }, { ...deps, store: failing }).catch(
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      await vi.waitFor(() => expect(stoppedEarly.has('/long.mp4')).toBe(true));
      expect(await store.head(key)).toBeUndefined();
      expect(await pendingUploads(key)).toEqual([]);
    });
  }

  it('fails fast on 404, not retryable', async () => {
    const err = await copyFile({ src: `${base}/gone.ts`, key: 'media/gone.ts', kind: 'segment' }, deps).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'ORIGIN_HTTP_STATUS', status: 404, retryable: false });
  });

  it('never fetches a host outside ORIGIN_ALLOWED_HOSTS', async () => {
    const err = await copyFile({ src: 'http://localhost:1/x.ts', key: 'media/x.ts', kind: 'segment' }, deps).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'ORIGIN_HOST_NOT_ALLOWED' });
    expect((err as Error).message).toContain('localhost:1');
  });
});

describe('copyFile when the bucket may already hold the file (issue 11)', () => {
  const fresh = () => {
    requests.length = 0;
    writes.length = 0;
  };

  it('re-copies an unchanged file with one HEAD and a 304: no body, no write; a changed one is written', async () => {
    bodies.set('/v/seg.ts', randomBytes(3000));
    const file = { src: `${base}/v/seg.ts`, key: 'media/v/seg.ts', kind: 'segment' as const };
    const first = await copyFile(file, deps, { generation: 1 });
    expect(first).toMatchObject({
      how: 'written',
      src: file.src,
      originEtag: expect.stringMatching(/^"[0-9a-f]{32}"$/),
    });
    expect((await store.head(file.key))?.metadata).toMatchObject({
      'flants-generation': '1',
      'flants-src-etag': first.originEtag,
      'flants-crc32': expect.any(String),
    });
    fresh();
    const again = await copyFile(file, deps, { generation: 2, recopy: true });
    expect(again).toMatchObject({ how: 'not-modified', bytes: 3000, etag: first.etag, originEtag: first.originEtag });
    expect([requests, writes]).toEqual([['GET /v/seg.ts if-none-match'], []]);
    bodies.set('/v/seg.ts', randomBytes(3000));
    fresh();
    const changed = await copyFile(file, deps, { generation: 2, recopy: true });
    expect(changed.how).toBe('written');
    expect(changed.originEtag).not.toBe(first.originEtag);
    expect(writes).toEqual(['PutObject media/v/seg.ts']);
    expect(await s3Bytes(file.key)).toEqual(bodies.get('/v/seg.ts'));
  });

  it('without origin validators compares size and CRC32 before writing: same bytes are not written again', async () => {
    bodies.set('/plain.ts', randomBytes(2000));
    const file = { src: `${base}/plain.ts`, key: 'media/plain.ts', kind: 'segment' as const };
    await copyFile(file, deps, { generation: 1 });
    fresh();
    expect((await copyFile(file, deps, { generation: 2, recopy: true })).how).toBe('same-crc32');
    expect([requests, writes]).toEqual([['GET /plain.ts'], []]);
    // Same size, other bytes: written (If-Match on what was read, no 412 round trip).
    const other = Buffer.from(bodies.get('/plain.ts')!);
    other[0] = other[0]! ^ 0xff;
    bodies.set('/plain.ts', other);
    fresh();
    expect((await copyFile(file, deps, { generation: 2, recopy: true })).how).toBe('written');
    expect(writes).toEqual(['PutObject media/plain.ts']);
    expect(await s3Bytes(file.key)).toEqual(other);
  });

  it('a playlist whose stored digest is the enumerated one costs one HEAD and nothing else', async () => {
    const text = Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nv/seg.ts\n#EXT-X-ENDLIST\n');
    bodies.set('/p/index.m3u8', text);
    const sha256 = createHash('sha256').update(text).digest('hex');
    const file = {
      src: `${base}/p/index.m3u8`,
      key: 'media/p/index.m3u8',
      kind: 'playlist' as const,
      bytes: text.length,
      sha256,
    };
    await copyFile(file, deps, { generation: 1 });
    fresh();
    expect(await copyFile(file, deps, { generation: 3, recopy: true })).toMatchObject({
      how: 'same-digest',
      sha256,
      bytes: text.length,
    });
    expect([requests, writes]).toEqual([[], []]);
  });

  it('a first copy makes no extra request; finding the same bytes already there (a 412) it writes nothing more', async () => {
    bodies.set('/first.ts', randomBytes(1500));
    const file = { src: `${base}/first.ts`, key: 'media/first.ts', kind: 'segment' as const };
    fresh();
    expect((await copyFile(file, deps, { generation: 1 })).how).toBe('written');
    expect(writes).toEqual(['PutObject media/first.ts']);
    // The ledger lost track (a redelivery after a crash, a new table): the refused write and a HEAD settle it.
    fresh();
    expect((await copyFile(file, deps, { generation: 1 })).how).toBe('same-crc32');
    expect(writes).toEqual(['PutObject media/first.ts']);
  });

  it("a newer generation's object is never replaced by a re-copy of an older one", async () => {
    bodies.set('/v/newer.ts', randomBytes(100));
    const file = { src: `${base}/v/newer.ts`, key: 'media/v/newer.ts', kind: 'segment' as const };
    await copyFile(file, deps, { generation: 5 });
    await expect(copyFile(file, deps, { generation: 4, recopy: true })).rejects.toMatchObject({
      code: 'STALE_GENERATION',
    });
  });
});
