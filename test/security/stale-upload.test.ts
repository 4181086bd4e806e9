// Gap 6 (issue 10): an old plan's upload that finishes after a newer plan's must not replace the
// newer object. The write itself is conditional (If-None-Match / If-Match on the ETag read, with
// the generation in the object's metadata), so the order "newer lands, then older lands" cannot
// happen. Driven at the copyFile level with generations as parameters, on the local S3 (which
// implements S3's conditional writes).
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.ts';
import { createOrigin } from '../../src/adapters/origin/client.ts';
import type { Origin } from '../../src/domain/ports/origin.ts';
import { copyFile, type TransferDeps } from '../../src/pipeline/copy-file.ts';
import { createObjectStore } from '../../src/adapters/s3/objects.ts';
import type { ObjectStore } from '../../src/domain/ports/object-store.ts';
import { objectBytes, recordingS3, startTestStack, transferDepsOn, type TestStack } from '../helpers/stack.ts';

const MiB = 1024 * 1024;
let t: TestStack;
let server: Server;
let base: string;
let cfg: Config;
let origin: Origin;
let store: ObjectStore;
let deps: TransferDeps;
/** Path → body; a held path sends half its body, then waits for its release. */
const bodies = new Map<string, Buffer>();
const held = new Map<string, () => void>();
const holds = new Map<string, Promise<void>>();
/** Every S3 request the store sends, by operation, as it reached S3. */
const sent: string[] = [];
let s3: Awaited<ReturnType<typeof recordingS3>>;

function hold(path: string): () => void {
  let release!: () => void;
  holds.set(path, new Promise<void>((r) => (release = r)));
  held.set(path, release);
  return release;
}

beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'], env: { TRANSFER_PART_SIZE_MB: '5' } });
  server = createServer((req, res: ServerResponse) => {
    const body = bodies.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': String(body.length) });
    const wait = holds.get(req.url ?? '');
    if (!wait) return void res.end(body);
    const half = Math.floor(body.length / 2);
    res.write(body.subarray(0, half));
    void wait.then(() => res.end(body.subarray(half)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cfg = loadConfig({ ...process.env, ...t.env, ORIGIN_ALLOWED_HOSTS: new URL(base).host });
  origin = createOrigin({ allowedHosts: cfg.originAllowedHosts });
  s3 = await recordingS3(t, (op) => sent.push(op.operation));
  store = createObjectStore(s3.s3, cfg.destBucket, { partSizeBytes: cfg.transfer.partSizeBytes });
  deps = transferDepsOn(t, cfg, origin, store);
});
afterAll(async () => {
  for (const release of held.values()) release();
  await origin?.close();
  await store?.close();
  await s3?.close();
  server?.close();
  await t?.stop();
});

const bytesAt = (key: string): Promise<Buffer> => objectBytes(store, key);

const copy = (path: string, key: string, generation: number) =>
  copyFile({ src: `${base}${path}`, key, kind: 'segment' }, deps, { generation });

describe.each([
  ['a single-part file', 1000],
  ['a multipart file', 11 * MiB + 5],
])("%s: an old generation's upload finishing after a newer one", (_name, size) => {
  it('is refused as stale, and the newer object survives', async () => {
    const key = `media/c1/host/stale-${size}.ts`;
    bodies.set(`/old-${size}.ts`, randomBytes(size));
    bodies.set(`/new-${size}.ts`, randomBytes(size));
    const release = hold(`/old-${size}.ts`);
    // Generation 1 starts first (it passed its plan check) and is slowed by its origin...
    const late = copy(`/old-${size}.ts`, key, 1).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string; retryable?: boolean },
    );
    await new Promise((r) => setTimeout(r, 100));
    // ...generation 2 copies the same key meanwhile and is counted...
    await copy(`/new-${size}.ts`, key, 2);
    expect((await bytesAt(key)).equals(bodies.get(`/new-${size}.ts`)!)).toBe(true);
    // ...then generation 1's upload completes its write last.
    release();
    const err = await late;
    expect(err).toMatchObject({ code: 'STALE_GENERATION', retryable: false });
    expect(err?.message).toContain(`refusing to overwrite ${key}: it holds generation 2's copy`);
    expect((await bytesAt(key)).equals(bodies.get(`/new-${size}.ts`)!)).toBe(true);
    expect((await store.head(key))?.generation).toBe(2);
  });
});

describe('the generation guard', () => {
  it('costs no extra request on a first copy: one conditional PutObject', async () => {
    bodies.set('/first.ts', randomBytes(2000));
    sent.length = 0;
    await copy('/first.ts', 'media/c1/host/first.ts', 1);
    expect(sent).toEqual(['PutObject']);
  });

  it('lets a newer generation replace an older object (a forced re-copy): a HEAD and one repeated write', async () => {
    bodies.set('/v1.ts', randomBytes(2000));
    bodies.set('/v2.ts', randomBytes(2000));
    await copy('/v1.ts', 'media/c1/host/recopy.ts', 3);
    sent.length = 0;
    await copy('/v2.ts', 'media/c1/host/recopy.ts', 4);
    expect(sent).toEqual(['PutObject', 'HeadObject', 'PutObject']);
    expect((await bytesAt('media/c1/host/recopy.ts')).equals(bodies.get('/v2.ts')!)).toBe(true);
    expect((await store.head('media/c1/host/recopy.ts'))?.generation).toBe(4);
  });

  it('lets the same generation write again (a redelivered chunk after a crash)', async () => {
    bodies.set('/again.ts', randomBytes(3000));
    await copy('/again.ts', 'media/c1/host/again.ts', 5);
    await copy('/again.ts', 'media/c1/host/again.ts', 5);
    expect((await bytesAt('media/c1/host/again.ts')).equals(bodies.get('/again.ts')!)).toBe(true);
  });

  it('refuses an older generation outright when the newer object is already there', async () => {
    bodies.set('/newer.ts', randomBytes(100));
    bodies.set('/older.ts', randomBytes(100));
    await copy('/newer.ts', 'media/c1/host/order.ts', 7);
    await expect(copy('/older.ts', 'media/c1/host/order.ts', 6)).rejects.toMatchObject({ code: 'STALE_GENERATION' });
    expect((await bytesAt('media/c1/host/order.ts')).equals(bodies.get('/newer.ts')!)).toBe(true);
  });
});
