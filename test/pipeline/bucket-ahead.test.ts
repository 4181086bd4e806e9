// Issue 18, case 5: the bucket knows a newer generation than the ledger (the table restored from
// point-in-time recovery or recreated while the bucket kept its objects, or two stages writing one
// prefix). A stale-generation answer from the bucket is checked against the ledger's current
// generation: the plan moves above what the bucket holds, and a bucket that keeps being ahead fails
// the class with a reason instead of looping. Real crawler and transfer, lab origin, local S3 and DynamoDB.
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyKeyOf } from '../../lab/bucket-check.ts';
import { LIBRARY_ENV, generateLibrary, type SampleClass } from '../../lab/library.ts';
import type { OriginServer } from '../../lab/origin-server.ts';
import type { Config } from '../../src/config.ts';
import { MESSAGE_VERSION, type TransferJob } from '../../src/domain/jobs/schemas.ts';
import { runCrawl } from '../../src/pipeline/crawler.ts';
import { MAX_BUCKET_AHEAD_MOVES } from '../../src/domain/lifecycle/class-lifecycle.ts';
import type { Ledger } from '../../src/domain/ports/ledger.ts';
import { StaleWriteError, type ObjectStore } from '../../src/domain/ports/object-store.ts';
import type { PipelineDriver } from '../helpers/driver.ts';
import type { TestStack } from '../helpers/stack.ts';
import { pipelineDriver, startPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.ts';

const library = generateLibrary({
  classes: 6,
  variants: 1,
  segmentsPerRendition: 3,
  segmentBytes: 2048,
  seed: 'fence',
});
let env: PipelineEnv;
let t: TestStack;
let server: OriginServer;
let cfg: Config;
let store: ObjectStore;
let ledger: Ledger;

beforeAll(async () => {
  env = await startPipelineEnv(library, {
    // The library's fMP4 classes publish manifest.mpd beside the master: copied, as `npm start` does.
    ...LIBRARY_ENV,
    DEST_PREFIX: 'media/',
    TRANSFER_CHUNK_FILES: '4',
    TRANSFER_RETRY_BASE_MS: '5',
  });
  ({ t, server, cfg, store, ledger } = env);
});
afterAll(() => env?.stop());

/** A driver of the real crawler and transfer over this store. */
const driverWith = (s: ObjectStore): PipelineDriver => pipelineDriver(env, s);

const manifestUrl = (c: SampleClass) => `${server.url}${c.manifestPath}`;

/** Every ledger item of a class deleted: what a table recreated, or restored to before the class, holds of it. */
async function wipeClass(classId: string): Promise<void> {
  const res = await t.aws.ddb.send(
    new QueryCommand({
      TableName: cfg.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `CLASS#${classId}` },
      ProjectionExpression: 'pk, sk',
    }),
  );
  const keys = res.Items ?? [];
  for (let i = 0; i < keys.length; i += 25)
    await t.aws.ddb.send(
      new BatchWriteCommand({
        RequestItems: {
          [cfg.tableName]: keys.slice(i, i + 25).map((k) => ({ DeleteRequest: { Key: { pk: k.pk, sk: k.sk } } })),
        },
      }),
    );
  expect(await ledger.getClass(classId)).toBeUndefined();
}

/**
 * Copies a class as generation 3: three plans (a crawl and two forced copies) before any transfer
 * runs, so every object is written by generation 3. Returns every transfer job the crawls sent.
 */
async function copyAtGeneration3(c: SampleClass): Promise<TransferJob[]> {
  const d = driverWith(store);
  const at = Date.now();
  for (let i = 0; i < 3; i++)
    await runCrawl(
      {
        v: MESSAGE_VERSION,
        type: 'crawl',
        classId: c.id,
        manifestUrl: manifestUrl(c),
        requestedAt: new Date(at + i).toISOString(),
        ...(i > 0 ? { force: true } : {}),
      },
      d.crawler,
    );
  const jobs = [...d.transfers];
  expect((await d.run()).deadLettered).toEqual([]);
  expect(await ledger.getClass(c.id)).toMatchObject({ status: 'COMPLETE', gen: 3, doneFiles: c.files });
  return jobs;
}

describe('issue 18 case 5: the bucket holds a newer generation than the ledger', () => {
  it('after the ledger lost a class copied at generation 3, the next copy moves above the bucket and completes: no loop', async () => {
    const c = library.classes[0]!;
    await copyAtGeneration3(c);
    const d = driverWith(store);
    const someKey = copyKeyOf(cfg.destPrefix, c.id, server.url, c.paths[0]!);
    expect((await store.head(someKey))?.generation).toBe(3);

    await wipeClass(c.id);
    d.crawl(c.id, manifestUrl(c));
    const r = await d.run(100);
    expect(r.deadLettered).toEqual([]);
    const rec = await ledger.getClass(c.id);
    expect(rec).toMatchObject({ status: 'COMPLETE', doneFiles: c.files, totalFiles: c.files, failedFiles: 0 });
    expect(rec!.gen).toBeGreaterThan(3);
    // One move above the bucket was enough: every object of the class was written by generation 3.
    expect(r.outcomes.filter((o) => o === 'transfer:bucket-ahead')).toHaveLength(1);
  });

  it('a bucket that keeps being ahead (another stage writing the same prefix) fails the class with a reason, in bounded steps', async () => {
    const c = library.classes[1]!;
    // Whatever generation the ledger is at, the bucket answers with a newer one's object.
    const ahead = async () => ((await ledger.getClass(c.id))?.gen ?? 0) + 1;
    const racing: ObjectStore = {
      ...store,
      head: async (key) => {
        const h = await store.head(key);
        return h && { ...h, generation: await ahead() };
      },
      upload: async (key, body, opts) => {
        // As a write refused after its 412: the body was read, then the HEAD showed a newer generation.
        for await (const _ of body);
        throw new StaleWriteError(key, opts.generation ?? 0, await ahead());
      },
    };
    const d = driverWith(racing);
    d.crawl(c.id, manifestUrl(c));
    const r = await d.run(200);
    const rec = await ledger.getClass(c.id);
    expect(rec).toMatchObject({ status: 'FAILED' });
    expect(rec!.lastError).toMatch(/newer generation/);
    expect(rec!.lastError).toMatch(/DEST_PREFIX/);
    // Moved above the bucket a bounded number of times, each followed by one re-plan, then failed.
    expect(rec!.bucketAheadMoves).toBe(MAX_BUCKET_AHEAD_MOVES);
    expect(r.outcomes.filter((o) => o.startsWith('crawl:'))).toHaveLength(1 + MAX_BUCKET_AHEAD_MOVES);
    expect(r.deadLettered).toEqual([]);
  });

  it('a job of an older generation finding a newer generation in the bucket is only stale: the ledger does not move', async () => {
    const c = library.classes[2]!;
    const jobs = await copyAtGeneration3(c);
    const before = await ledger.getClass(c.id);
    // A generation-2 job whose view of the class was read before generation 3 was planned.
    const late = jobs.find((j) => j.gen === 2)!;
    const d = driverWith(store);
    d.transfer.ledger = {
      ...ledger,
      viewChunk: async (id, gen, chunk) => {
        const v = await ledger.viewChunk(id, gen, chunk);
        return { chunkDone: false, record: v.record && { ...v.record, gen: late.gen, status: 'TRANSFERRING' } };
      },
    };
    d.transfers.push(late);
    const r = await d.run();
    expect(r.outcomes).toEqual(['transfer:stale']);
    expect(await ledger.getClass(c.id)).toMatchObject({ status: 'COMPLETE', gen: 3, updatedAt: before!.updatedAt });
  });
});
