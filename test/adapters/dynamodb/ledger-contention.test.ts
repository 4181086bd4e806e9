// Issue 19: every chunk's transaction updates its class item, and DynamoDB cancels a transaction
// while another is in progress on the same item (TransactionConflict). The ledger retries a
// conflicted count a bounded number of times; a count that still conflicts must fail its delivery,
// so that SQS delivers the job again, never be dropped. Conflicts come from lab/ddb-conflict-proxy.ts
// in front of the local DynamoDB (which serialises transactions and never reports one by itself).
import { Readable } from 'node:stream';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../../handlers/transfer.ts';
import { startDdbConflictProxy, type ConflictProxy } from '../../../lab/ddb-conflict-proxy.ts';
import { startOriginServer, type OriginServer } from '../../../lab/origin-server.ts';
import { loadConfig } from '../../../src/config.ts';
import { MESSAGE_VERSION, type TransferJob } from '../../../src/domain/jobs/schemas.ts';
import { buildDeps, type Deps } from '../../../src/wiring/deps.ts';
import { createLedger } from '../../../src/adapters/dynamodb/ledger.ts';
import type { Ledger } from '../../../src/domain/ports/ledger.ts';
import { startTestStack, type TestStack } from '../../helpers/stack.ts';

let t: TestStack;
let proxy: ConflictProxy;
let origin: OriginServer;
let deps: Deps;
let ledger: Ledger;
const body = Buffer.from('a segment of video');

beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'] });
  proxy = await startDdbConflictProxy(t.stack.endpoints.dynamodb!);
  origin = await startOriginServer({
    stat: (path) => (path === '/c/seg-1.ts' ? { size: body.length, contentType: 'video/mp2t' } : undefined),
    read: () => Readable.from([body]),
  });
  deps = buildDeps(
    loadConfig({
      ...process.env,
      ...t.env,
      AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
      ORIGIN_ALLOWED_HOSTS: new URL(origin.url).host,
    }),
    t.log,
  );
  ledger = createLedger(t.aws.ddb, t.cfg.tableName);
}, 120_000);
afterAll(async () => {
  await deps?.close();
  await origin?.close();
  await proxy?.close();
  await t?.stop();
});

const context = { getRemainingTimeInMillis: () => 120_000 };
const delivery = (job: TransferJob, receiveCount: number): SQSEvent =>
  ({
    Records: [
      {
        messageId: 'm-contended',
        receiptHandle: '',
        body: JSON.stringify(job),
        attributes: { ApproximateReceiveCount: String(receiveCount) },
      },
    ],
  }) as unknown as SQSEvent;

describe('a chunk count that keeps conflicting', () => {
  it('fails its delivery (SQS delivers it again) after the ledger spent its retries, and counts once on the next', async () => {
    const classId = 'contended';
    await ledger.markCrawling(classId, { manifestUrl: `${origin.url}/c/master.m3u8` });
    const { gen } = await ledger.recordPlan(classId, { planId: 'c0ffee00c0ffee00', totalFiles: 1, totalChunks: 1 });
    const job: TransferJob = {
      v: MESSAGE_VERSION,
      type: 'transfer',
      classId,
      gen,
      planId: 'c0ffee00c0ffee00',
      chunk: 0,
      files: [{ src: `${origin.url}/c/seg-1.ts`, key: `c/${classId}/seg-1.ts`, kind: 'segment' }],
    };
    const handler = createHandler(deps);

    proxy.conflictAll = true;
    const first = await handler(delivery(job, 1), context);
    proxy.conflictAll = false;
    // Reported as failed: the event source mapping leaves it in the queue for another delivery.
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm-contended' }]);
    // The ledger retried the transaction before giving up (its bound, not once), and nothing counted.
    expect(proxy.stats.cancelled).toBeGreaterThanOrEqual(10);
    const waiting = await ledger.getClass(classId);
    expect(waiting).toMatchObject({ status: 'TRANSFERRING', doneChunks: 0 });
    expect(waiting?.lastAttemptError ?? '').toMatch(/TransactionConflict|Transaction cancelled/i);

    const second = await handler(delivery(job, 2), context);
    expect(second.batchItemFailures).toEqual([]);
    expect(await ledger.getClass(classId)).toMatchObject({ status: 'COMPLETE', doneChunks: 1, doneFiles: 1 });
  }, 120_000);
});
