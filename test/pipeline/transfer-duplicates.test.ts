import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { ChunkFailedError } from '../../src/errors.ts';
import { MESSAGE_VERSION, type TransferJob } from '../../src/domain/jobs/schemas.ts';
import { createOrigin } from '../../src/adapters/origin/client.ts';
import type { Origin } from '../../src/domain/ports/origin.ts';
import { recordTransferFailure, runTransfer } from '../../src/pipeline/transfer.ts';
import type { TransferDeps } from '../../src/pipeline/copy-file.ts';
import { createObjectStore } from '../../src/adapters/s3/objects.ts';
import type { ObjectStore } from '../../src/domain/ports/object-store.ts';
import { startTestStack, transferDepsOn, type TestStack } from '../helpers/stack.ts';

/**
 * Issue 18, case 9: duplicate deliveries of one transfer job. A file one delivery copied and
 * verified is in the bucket for the generation: another delivery's transient failure of that file
 * must not list it as failed.
 */

let t: TestStack;
let server: Server;
let base: string;
let origin: Origin;
let store: ObjectStore;
let deps: TransferDeps;
const bodies = new Map<string, Buffer>([
  ['/a.ts', randomBytes(3000)],
  ['/b.ts', randomBytes(4000)],
  ['/c.ts', randomBytes(5000)],
]);
/** Paths the origin answers 503 for, as an origin in trouble does for one delivery and not another. */
let failing = new Set<string>();

beforeAll(async () => {
  t = await startTestStack({
    services: ['sqs', 's3', 'dynamodb'],
    env: { TRANSFER_RETRY_ATTEMPTS: '1', TRANSFER_RETRY_BASE_MS: '1' },
  });
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const body = bodies.get(path);
    if (!body) return void res.writeHead(404).end();
    if (failing.has(path)) return void res.writeHead(503).end('busy');
    res.writeHead(200, { 'content-length': String(body.length), 'content-type': 'video/mp2t' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cfg = loadConfig({ ...process.env, ...t.env, ORIGIN_ALLOWED_HOSTS: new URL(base).host });
  origin = createOrigin({ allowedHosts: cfg.originAllowedHosts });
  store = createObjectStore(t.aws.s3, cfg.destBucket, { partSizeBytes: cfg.transfer.partSizeBytes });
  deps = transferDepsOn(t, cfg, origin, store);
});
afterAll(async () => {
  await store?.close();
  await origin?.close();
  server?.close();
  await t?.stop();
});

function job(classId: string, gen: number): TransferJob {
  return {
    v: MESSAGE_VERSION,
    type: 'transfer',
    classId,
    gen,
    planId: 'dddd0001',
    chunk: 0,
    files: ['/a.ts', '/b.ts', '/c.ts'].map((p) => ({ src: `${base}${p}`, key: `${classId}${p}`, kind: 'segment' })),
  };
}

/** One delivery of the job, its failure reported as the batch does on the last delivery. */
async function deliver(j: TransferJob, failPaths: string[]): Promise<string[]> {
  failing = new Set(failPaths);
  try {
    await runTransfer(j, { receiveCount: 3 }, deps);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ChunkFailedError);
    await recordTransferFailure(j, err, true, deps.ledger);
    return (err as ChunkFailedError).failures.map((f) => f.key);
  }
}

describe('duplicate deliveries of a chunk (issue 18, case 9)', () => {
  it('lists as failed only the files no delivery copied: one copies A and B and fails on C, the other fails on A, B and C', async () => {
    const classId = 'dup9';
    await deps.ledger.markCrawling(classId, { manifestUrl: `${base}/m.m3u8` });
    const { gen } = await deps.ledger.recordPlan(classId, { planId: 'dddd0001', totalFiles: 3, totalChunks: 1 });
    await deliver(job(classId, gen), ['/c.ts']);
    await deliver(job(classId, gen), ['/a.ts', '/b.ts', '/c.ts']);
    const failures = await deps.ledger.listFailures(classId);
    expect(failures.flatMap((f) => f.files.map((x) => x.key))).toEqual([`${classId}/c.ts`]);
    expect(await deps.ledger.getClass(classId)).toMatchObject({ status: 'FAILED', failedChunks: 1, failedFiles: 1 });
  });

  it('counts the chunk when the deliveries between them copied every file', async () => {
    const classId = 'dup9b';
    await deps.ledger.markCrawling(classId, { manifestUrl: `${base}/m.m3u8` });
    const { gen } = await deps.ledger.recordPlan(classId, { planId: 'dddd0001', totalFiles: 3, totalChunks: 1 });
    await deliver(job(classId, gen), ['/c.ts']);
    // The other delivery copies C and loses A and B to the origin: every file is in the bucket, verified.
    expect(await deliver(job(classId, gen), ['/a.ts', '/b.ts'])).toEqual([]);
    expect(await deps.ledger.getClass(classId)).toMatchObject({
      status: 'COMPLETE',
      doneFiles: 3,
      doneBytes: 12000,
      failedChunks: 0,
      failedFiles: 0,
    });
    expect(await deps.ledger.listFailures(classId)).toEqual([]);
  });

  it('still lists a file whose object in the bucket is another generation’s', async () => {
    const classId = 'dup9c';
    await deps.ledger.markCrawling(classId, { manifestUrl: `${base}/m.m3u8` });
    const g1 = await deps.ledger.recordPlan(classId, { planId: 'dddd0001', totalFiles: 3, totalChunks: 1 });
    await deliver(job(classId, g1.gen), ['/c.ts']);
    // A forced copy starts generation 2: generation 1's objects are no proof for it.
    const g2 = await deps.ledger.recordPlan(classId, {
      planId: 'dddd0001',
      totalFiles: 3,
      totalChunks: 1,
      forcedAt: new Date().toISOString(),
    });
    expect(g2.gen).toBe(g1.gen + 1);
    expect(await deliver(job(classId, g2.gen), ['/a.ts', '/b.ts', '/c.ts'])).toHaveLength(3);
    const failures = await deps.ledger.listFailures(classId);
    expect(failures.flatMap((f) => f.files.map((x) => x.key)).sort()).toEqual(
      ['/a.ts', '/b.ts', '/c.ts'].map((p) => `${classId}${p}`),
    );
  });
});
