import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger } from '../../../src/adapters/dynamodb/ledger.ts';
import type { FailedFile, LandedFile } from '../../../src/domain/ledger/records.ts';
import type { Ledger } from '../../../src/domain/ports/ledger.ts';
import { startTestStack, type TestStack } from '../../helpers/stack.ts';

let t: TestStack;
let ledger: Ledger;

beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'] });
  ledger = createLedger(t.aws.ddb, t.cfg.tableName);
});
afterAll(async () => t?.stop());

const files = (n: number, chunk: number, prefix = 'c'): LandedFile[] =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}/${chunk}/${i}.ts`, bytes: 100 + i, etag: `e${i}` }));
const failed = (key: string, reason = 'origin answered HTTP 404'): FailedFile[] => [
  { key, src: `http://origin/${key}`, reason },
];
const info = { manifestUrl: 'http://origin/m.m3u8', title: 'T' };

/** A client whose first `n` transactions are cancelled for contention, as DynamoDB does under load. */
function conflicting(ddb: DynamoDBDocumentClient, n: number): DynamoDBDocumentClient & { conflicts: number } {
  let left = n;
  const wrapped = Object.create(ddb) as DynamoDBDocumentClient & { conflicts: number };
  wrapped.conflicts = 0;
  wrapped.send = (async (cmd: unknown) => {
    if (cmd instanceof TransactWriteCommand && left > 0) {
      left--;
      wrapped.conflicts++;
      throw new TransactionCanceledException({
        message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]',
        $metadata: {},
        CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
      });
    }
    return (ddb.send as (c: unknown) => Promise<unknown>)(cmd);
  }) as DynamoDBDocumentClient['send'];
  return wrapped;
}

describe('DynamoDB ledger (dynoxide)', () => {
  it('counts each chunk once and completes the class exactly once, in the last chunk’s own transaction', async () => {
    await ledger.markPending('c1', info);
    expect((await ledger.getClass('c1'))?.status).toBe('PENDING');
    await ledger.markCrawling('c1', info);
    expect((await ledger.getClass('c1'))?.status).toBe('CRAWLING');
    const plan = await ledger.recordPlan('c1', { planId: 'aaaa0000', totalFiles: 5, totalChunks: 2 });
    expect(plan).toMatchObject({ outcome: 'new', gen: 1, done: new Set() });
    expect(await ledger.countChunk('c1', 1, 0, files(3, 0))).toEqual({ outcome: 'counted', completed: false });
    expect(await ledger.countChunk('c1', 1, 0, files(3, 0))).toEqual({ outcome: 'duplicate', completed: false });
    // Ten racing deliveries of the last chunk: one counts and completes, nine are duplicates.
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => ledger.countChunk('c1', 1, 1, files(2, 1))));
    expect(outcomes.filter((o) => o.outcome === 'counted')).toHaveLength(1);
    expect(outcomes.filter((o) => o.completed)).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(9);
    expect(await ledger.getClass('c1')).toMatchObject({
      status: 'COMPLETE',
      gen: 1,
      completedGen: 1,
      doneChunks: 2,
      totalChunks: 2,
      doneFiles: 5,
      totalFiles: 5,
      doneBytes: 100 + 101 + 102 + 100 + 101,
    });
    expect((await ledger.listChunks('c1', 1)).map((c) => c.files.length)).toEqual([3, 2]);
  });

  it('resumes a re-crawl of the same plan and starts a new generation for any other', async () => {
    await ledger.markCrawling('c2', info);
    const g1 = await ledger.recordPlan('c2', { planId: 'bbbb0000', totalFiles: 4, totalChunks: 2 });
    await ledger.countChunk('c2', g1.gen, 1, files(2, 1));
    expect(await ledger.recordPlan('c2', { planId: 'bbbb0000', totalFiles: 4, totalChunks: 2 })).toMatchObject({
      outcome: 'resumed',
      gen: g1.gen,
      done: new Set([1]),
    });
    expect(await ledger.getClass('c2')).toMatchObject({ doneChunks: 1, doneFiles: 2, status: 'TRANSFERRING' });
    const g2 = await ledger.recordPlan('c2', { planId: 'cccc0000', totalFiles: 1, totalChunks: 1 });
    expect(g2).toMatchObject({ outcome: 'new', gen: g1.gen + 1 });
    expect(await ledger.getClass('c2')).toMatchObject({ doneChunks: 0, totalChunks: 1, planId: 'cccc0000', gen: 2 });
    // A job of the old generation counts nothing, before or after it copied.
    expect(await ledger.countChunk('c2', g1.gen, 0, files(2, 0))).toEqual({ outcome: 'stale', completed: false });
    expect(await ledger.getClass('c2')).toMatchObject({ doneChunks: 0 });
  });

  it('records failed files, marks the class FAILED, and completes it when the redriven chunk is copied', async () => {
    await ledger.markCrawling('c3', info);
    const { gen } = await ledger.recordPlan('c3', { planId: 'dddd0000', totalFiles: 3, totalChunks: 2 });
    await ledger.countChunk('c3', gen, 0, files(2, 0));
    expect(await ledger.recordChunkFailure('c3', gen, 1, failed('c/1/0.ts'))).toBe('recorded');
    expect(await ledger.recordChunkFailure('c3', gen, 1, failed('c/1/0.ts'))).toBe('recorded'); // a second final attempt re-states it
    expect(await ledger.getClass('c3')).toMatchObject({
      status: 'FAILED',
      failedChunks: 1,
      failedFiles: 1,
      lastError: 'origin answered HTTP 404',
    });
    expect((await ledger.listFailures('c3')).map((f) => f.files)).toEqual([failed('c/1/0.ts')]);
    expect(await ledger.countChunk('c3', gen, 1, files(1, 1))).toMatchObject({ outcome: 'counted', completed: true });
    expect(await ledger.getClass('c3')).toMatchObject({ status: 'COMPLETE', failedChunks: 0, failedFiles: 0 });
    expect(await ledger.listFailures('c3')).toEqual([]);
  });

  it('a redriven chunk that is not the last takes a FAILED class back to TRANSFERRING', async () => {
    const { gen } = await ledger.recordPlan('c3b', { planId: 'dddd0001', totalFiles: 3, totalChunks: 3 });
    await ledger.recordChunkFailure('c3b', gen, 0, failed('a'));
    expect((await ledger.getClass('c3b'))?.status).toBe('FAILED');
    await ledger.countChunk('c3b', gen, 0, files(1, 0));
    expect(await ledger.getClass('c3b')).toMatchObject({ status: 'TRANSFERRING', failedChunks: 0, doneChunks: 1 });
  });

  it('lists classes and never downgrades a record when marked pending again', async () => {
    await ledger.markPending('c1', info);
    expect((await ledger.getClass('c1'))?.status).toBe('COMPLETE');
    const all = await ledger.listClasses();
    expect(all.map((c) => c.classId)).toEqual(expect.arrayContaining(['c1', 'c2', 'c3']));
    const some = await ledger.getClasses(['c1', 'c3', 'nope']);
    expect([...some.keys()].sort()).toEqual(['c1', 'c3']);
  });
});

describe('round trips', () => {
  it('a chunk costs one read and one transaction in the common case (the last one included)', async () => {
    let calls: string[] = [];
    const counting = Object.create(t.aws.ddb) as typeof t.aws.ddb;
    counting.send = ((cmd: { constructor: { name: string } }) => {
      calls.push(cmd.constructor.name);
      return (t.aws.ddb.send as (c: unknown) => Promise<unknown>)(cmd);
    }) as typeof t.aws.ddb.send;
    const l = createLedger(counting, t.cfg.tableName);
    const { gen } = await l.recordPlan('rt', { planId: 'a1a1a1a1', totalFiles: 3, totalChunks: 3 });
    for (let chunk = 0; chunk < 3; chunk++) {
      calls = [];
      const view = await l.viewChunk('rt', gen, chunk);
      const res = await l.countChunk('rt', gen, chunk, files(1, chunk), view);
      expect(res).toEqual({ outcome: 'counted', completed: chunk === 2 });
      expect(calls).toEqual(['BatchGetCommand', 'TransactWriteCommand']);
    }
  });
});

// Each numbered case of issue 8, against the real local DynamoDB. Every one failed on the ledger before the lifecycle.
describe('issue 8: every count provable', () => {
  it('case 1: a plan id that returns after a forced copy counts again from zero and completes', async () => {
    const id = 'case1';
    const p0 = await ledger.recordPlan(id, { planId: 'p0p0p0p0', totalFiles: 4, totalChunks: 2 });
    await ledger.countChunk(id, p0.gen, 0, files(2, 0));
    expect((await ledger.countChunk(id, p0.gen, 1, files(2, 1))).completed).toBe(true);
    // enqueue --force: same files, a new generation.
    const f1 = await ledger.recordPlan(id, {
      planId: 'p0p0p0p0',
      totalFiles: 4,
      totalChunks: 2,
      forcedAt: '2026-12-01T10:00:00.000Z',
    });
    expect(f1).toMatchObject({ outcome: 'new', gen: 2 });
    // A non-forced crawl of the same content resumes the forced generation instead of reviving P0's.
    const again = await ledger.recordPlan(id, { planId: 'p0p0p0p0', totalFiles: 4, totalChunks: 2 });
    expect(again).toMatchObject({ outcome: 'resumed', gen: 2 });
    // The content changes and comes back: each time a new generation whose chunks count from zero.
    const other = await ledger.recordPlan(id, { planId: 'p1p1p1p1', totalFiles: 2, totalChunks: 1 });
    const back = await ledger.recordPlan(id, { planId: 'p0p0p0p0', totalFiles: 4, totalChunks: 2 });
    expect([other.gen, back.gen]).toEqual([3, 4]);
    expect(await ledger.countChunk(id, back.gen, 0, files(2, 0))).toEqual({ outcome: 'counted', completed: false });
    expect(await ledger.countChunk(id, back.gen, 1, files(2, 1))).toMatchObject({
      outcome: 'counted',
      completed: true,
    });
    expect(await ledger.getClass(id)).toMatchObject({
      status: 'COMPLETE',
      doneFiles: 4,
      totalFiles: 4,
      gen: 4,
      completedGen: 4,
    });
  });

  it('case 1: a stale forced request (older than the generation it finds) starts nothing new', async () => {
    const id = 'case1b';
    await ledger.recordPlan(id, {
      planId: 'aaaa1111',
      totalFiles: 1,
      totalChunks: 1,
      forcedAt: '2026-12-01T11:00:00.000Z',
    });
    expect(
      await ledger.recordPlan(id, {
        planId: 'aaaa1111',
        totalFiles: 1,
        totalChunks: 1,
        forcedAt: '2026-12-01T10:00:00.000Z',
      }),
    ).toMatchObject({ outcome: 'resumed', gen: 1 });
  });

  it('case 2: a re-crawl with another chunk size is a new generation; nothing is counted twice or skipped', async () => {
    const id = 'case2';
    // The crawler's plan id includes the chunk size (test/domain/planning/chunking.test.ts): 4 per chunk, then 2.
    const big = await ledger.recordPlan(id, { planId: 'c4c4c4c4', totalFiles: 8, totalChunks: 2 });
    await ledger.countChunk(id, big.gen, 0, files(4, 0));
    const small = await ledger.recordPlan(id, { planId: 'c2c2c2c2', totalFiles: 8, totalChunks: 4 });
    expect(small).toMatchObject({ outcome: 'new', gen: big.gen + 1, done: new Set() });
    expect(await ledger.countChunk(id, big.gen, 1, files(4, 1))).toMatchObject({ outcome: 'stale' });
    for (let c = 0; c < 3; c++) expect((await ledger.countChunk(id, small.gen, c, files(2, c))).completed).toBe(false);
    expect(await ledger.getClass(id)).toMatchObject({ status: 'TRANSFERRING', doneFiles: 6, totalFiles: 8 });
    expect((await ledger.countChunk(id, small.gen, 3, files(2, 3))).completed).toBe(true);
    expect(await ledger.getClass(id)).toMatchObject({
      status: 'COMPLETE',
      doneFiles: 8,
      totalFiles: 8,
      doneChunks: 4,
      totalChunks: 4,
    });
  });

  it('case 4: a late final failure of a counted chunk leaves COMPLETE alone, and a redrive completes nothing twice', async () => {
    const id = 'case4';
    const { gen } = await ledger.recordPlan(id, { planId: 'eeee0000', totalFiles: 4, totalChunks: 2 });
    await ledger.countChunk(id, gen, 0, files(2, 0));
    // A late final failure of a chunk another delivery counted (class still in progress): nothing recorded.
    expect(await ledger.recordChunkFailure(id, gen, 0, failed('c/0/0.ts'))).toBe('chunk-done');
    expect(await ledger.getClass(id)).toMatchObject({ status: 'TRANSFERRING', failedChunks: 0 });
    // Two copies of the last chunk in flight: B counts and completes…
    expect((await ledger.countChunk(id, gen, 1, files(2, 1))).completed).toBe(true);
    // …A fails on its third delivery: the generation is complete, nothing is recorded.
    expect(await ledger.recordChunkFailure(id, gen, 1, failed('c/1/0.ts'))).toBe('complete');
    expect(await ledger.recordChunkFailure(id, gen, 1, failed('c/1/0.ts'), { provisional: true })).toBe('complete');
    expect(await ledger.getClass(id)).toMatchObject({ status: 'COMPLETE', failedFiles: 0, failedChunks: 0 });
    // Redriving A counts nothing and completes nothing.
    expect(await ledger.countChunk(id, gen, 1, files(2, 1))).toEqual({ outcome: 'duplicate', completed: false });
    // A stale re-crawl: markCrawling and the same plan leave COMPLETE as it is, and complete nothing again.
    await ledger.markCrawling(id, info);
    expect(await ledger.recordPlan(id, { planId: 'eeee0000', totalFiles: 4, totalChunks: 2 })).toMatchObject({
      outcome: 'complete',
      completed: false,
    });
    // A re-crawl that hits a 404 does not fail a fully copied class.
    expect(await ledger.failCrawl(id, 'crawl failed: origin answered HTTP 404')).toBe(false);
    expect(await ledger.getClass(id)).toMatchObject({ status: 'COMPLETE', completedGen: gen, doneFiles: 4 });
    expect(await ledger.listFailures(id)).toEqual([]);
  });

  it('case 4: a crawl failure on a class whose chunks are all done but not yet marked cannot fail it', async () => {
    const id = 'case4b';
    const { gen } = await ledger.recordPlan(id, { planId: 'ffff0000', totalFiles: 2, totalChunks: 2 });
    await ledger.countChunk(id, gen, 0, files(1, 0));
    expect(await ledger.failCrawl(id, 'crawl failed: HTTP 404')).toBe(true);
    expect((await ledger.getClass(id))?.status).toBe('FAILED');
    // The plan's own last chunk still completes it: every file of the plan is in place.
    expect((await ledger.countChunk(id, gen, 1, files(1, 1))).completed).toBe(true);
    expect(await ledger.getClass(id)).toMatchObject({ status: 'COMPLETE' });
    expect((await ledger.getClass(id))?.crawlError).toBeUndefined();
  });

  it('case 5: a counted chunk survives transaction conflicts, and so does a failure record', async () => {
    const busy = conflicting(t.aws.ddb, 3);
    const l = createLedger(busy, t.cfg.tableName);
    const { gen } = await l.recordPlan('case5', { planId: 'abab0000', totalFiles: 2, totalChunks: 2 });
    expect(await l.countChunk('case5', gen, 0, files(1, 0))).toEqual({ outcome: 'counted', completed: false });
    expect(busy.conflicts).toBe(3);
    const busy2 = conflicting(t.aws.ddb, 2);
    expect(await createLedger(busy2, t.cfg.tableName).recordChunkFailure('case5', gen, 1, failed('x'))).toBe(
      'recorded',
    );
    expect(busy2.conflicts).toBe(2);
    expect(await ledger.getClass('case5')).toMatchObject({ status: 'FAILED', failedFiles: 1, doneChunks: 1 });
  });

  it('case 5: a failure too large for one item is still recorded (listed up to a bound, the rest counted)', async () => {
    const { gen } = await ledger.recordPlan('case5b', { planId: 'acac0000', totalFiles: 1000, totalChunks: 1 });
    const many: FailedFile[] = Array.from({ length: 1000 }, (_, i) => ({
      key: `k/${i}.ts`,
      src: `http://origin/${'x'.repeat(300)}/${i}.ts`,
      reason: `origin answered HTTP 503 ${'y'.repeat(2000)}`,
    }));
    expect(await ledger.recordChunkFailure('case5b', gen, 0, many)).toBe('recorded');
    expect(await ledger.getClass('case5b')).toMatchObject({ status: 'FAILED', failedFiles: 1000 });
    const [rec] = await ledger.listFailures('case5b');
    expect(rec!.files.length + (rec!.truncated ?? 0)).toBe(1000);
    expect(rec!.files.length).toBeGreaterThan(100);
  });

  it('case 6: a last delivery that never finishes leaves the class FAILED with that reason; success clears it', async () => {
    const { gen } = await ledger.recordPlan('case6', { planId: 'adad0000', totalFiles: 2, totalChunks: 2 });
    expect(
      await ledger.recordChunkFailure('case6', gen, 0, failed('a', 'the last delivery did not finish'), {
        provisional: true,
      }),
    ).toBe('recorded');
    expect(await ledger.getClass('case6')).toMatchObject({
      status: 'FAILED',
      lastError: 'the last delivery did not finish',
    });
    // The delivery that was recorded in advance succeeds after all.
    await ledger.countChunk('case6', gen, 0, files(1, 0));
    expect(await ledger.getClass('case6')).toMatchObject({ status: 'TRANSFERRING', failedChunks: 0 });
  });

  it('case 7: a failed attempt that SQS will retry shows on the class before the last one', async () => {
    const { gen } = await ledger.recordPlan('case7', { planId: 'aeae0000', totalFiles: 1, totalChunks: 1 });
    await ledger.noteAttemptFailure('case7', gen, 0, 'seg.ts: S3 refused the part (EntityTooLarge)');
    await ledger.noteAttemptFailure('case7', gen, 0, 'seg.ts: S3 refused the part (EntityTooLarge)');
    expect(await ledger.getClass('case7')).toMatchObject({
      status: 'TRANSFERRING',
      failedAttempts: 2,
      lastAttemptError: 'chunk 0: seg.ts: S3 refused the part (EntityTooLarge)',
    });
    expect((await ledger.countChunk('case7', gen, 0, files(1, 0))).completed).toBe(true);
    expect((await ledger.getClass('case7'))?.lastAttemptError).toBeUndefined();
  });

  it('case 8: a scan page with an enormous skip detail is still recorded, and a page is claimed by one message', async () => {
    await ledger.recordScanPage({
      scanId: 's8',
      page: 'objectId:start',
      at: new Date().toISOString(),
      scanned: 1,
      enqueued: [],
      skipped: [{ classId: 'x', reason: 'not broadcast yet', detail: `status is "${'z'.repeat(450_000)}"` }],
    });
    expect((await ledger.getScan('s8'))[0]!.skipped[0]!.detail!.length).toBeLessThanOrEqual(200);
    expect(await ledger.claimScanPage('s8', 'objectId:abc', 'm1')).toBe('claimed');
    expect(await ledger.claimScanPage('s8', 'objectId:abc', 'm1')).toBe('claimed'); // its own redelivery, unfinished
    expect(await ledger.claimScanPage('s8', 'objectId:abc', 'm2')).toBe('taken'); // a duplicate continuation
    await ledger.finishScanPage('s8', 'objectId:abc');
    expect(await ledger.claimScanPage('s8', 'objectId:abc', 'm1')).toBe('done'); // redelivered after it finished
  });
});

describe('issue 11: changed classes and freshness in the ledger', () => {
  it('the write that completes a generation records its freshness: from endedAt, or from the change that started it', async () => {
    const ended = new Date(Date.now() - 90_000).toISOString();
    await ledger.markPending('f1', { ...info, endedAt: ended });
    await ledger.markCrawling('f1', { ...info, endedAt: ended });
    const { gen } = await ledger.recordPlan('f1', { planId: 'f1f10000', totalFiles: 2, totalChunks: 1 });
    const done = await ledger.countChunk('f1', gen, 0, files(2, 0));
    expect(done.completed).toBe(true);
    expect(done.freshnessSeconds).toBeGreaterThanOrEqual(90);
    expect(done.freshnessSeconds).toBeLessThan(120);
    const rec = await ledger.getClass('f1');
    expect(rec).toMatchObject({
      status: 'COMPLETE',
      endedAt: ended,
      freshFrom: ended,
      freshnessSeconds: done.freshnessSeconds,
    });
    expect(Date.parse(rec!.completedAt!) - Date.parse(ended)).toBe(Math.round(done.freshnessSeconds! * 1000));

    // A change check found the origin changed: a new generation from COMPLETE, with the same plan id, fresh from the finding.
    const changedAt = new Date(Date.now() - 5_000).toISOString();
    expect(await ledger.markChecked('f1', gen, 'changed: seg.ts')).toBe(true);
    const again = await ledger.recordPlan('f1', {
      planId: 'f1f10000',
      totalFiles: 2,
      totalChunks: 1,
      changedAt,
      removed: ['c/old.ts'],
    });
    expect(again).toMatchObject({ outcome: 'new', gen: gen + 1 });
    expect(await ledger.getClass('f1')).toMatchObject({
      status: 'TRANSFERRING',
      changedAt,
      freshFrom: changedAt,
      removedFiles: ['c/old.ts'],
      removedCount: 1,
      checkResult: 'changed: seg.ts',
    });
    expect((await ledger.getClass('f1'))?.freshnessSeconds).toBeUndefined();
    // The same finding delivered again starts nothing; a check of the replaced generation notes nothing.
    expect(
      await ledger.recordPlan('f1', { planId: 'f1f10000', totalFiles: 2, totalChunks: 1, changedAt }),
    ).toMatchObject({ outcome: 'resumed', gen: gen + 1 });
    expect(await ledger.markChecked('f1', gen, 'unchanged')).toBe(false);
    const redone = await ledger.countChunk('f1', gen + 1, 0, files(2, 0));
    expect(redone.freshnessSeconds).toBeGreaterThanOrEqual(5);
    expect(redone.freshnessSeconds).toBeLessThan(30);
    expect(await ledger.getClass('f1')).toMatchObject({ status: 'COMPLETE', completedGen: gen + 1, endedAt: ended });
    expect(
      await ledger.recordPlan('f1', { planId: 'f1f10000', totalFiles: 2, totalChunks: 1, changedAt }),
    ).toMatchObject({ outcome: 'complete' });
  });

  it('a class with no end in the catalog is as fresh as its first record; landed files keep their source and validators', async () => {
    await ledger.markCrawling('f2', info);
    const created = (await ledger.getClass('f2'))!.createdAt!;
    expect((await ledger.getClass('f2'))?.freshFrom).toBe(created);
    const { gen } = await ledger.recordPlan('f2', { planId: 'f2f20000', totalFiles: 1, totalChunks: 1 });
    const landed: LandedFile = {
      key: 'f2/a.m3u8',
      bytes: 10,
      etag: 'e',
      src: 'http://origin/a.m3u8',
      sha256: 'a'.repeat(64),
      originEtag: '"v1"',
      originModified: 'Tue, 01 Jan 2030 00:00:00 GMT',
    };
    expect((await ledger.countChunk('f2', gen, 0, [landed])).completed).toBe(true);
    expect(await ledger.listChunks('f2', gen)).toEqual([{ chunk: 0, files: [landed] }]);
  });
});

describe('issue 18 case 8: an implausible endedAt is no freshness anchor', () => {
  it('an endedAt at the epoch or more than a day ahead is not stored: freshness counts from the first record, never 56 years nor zero', async () => {
    const epoch = new Date(0).toISOString();
    await ledger.markPending('d1', { ...info, endedAt: epoch });
    await ledger.markCrawling('d1', { ...info, endedAt: epoch });
    let rec = await ledger.getClass('d1');
    expect(rec?.endedAt).toBeUndefined();
    expect(rec?.freshFrom).toBe(rec?.createdAt);
    // A plan with no chunk completes when it is recorded: its freshness is written then.
    const plan = await ledger.recordPlan('d1', { planId: 'd1d10000', totalFiles: 0, totalChunks: 0 });
    expect(plan.completed).toBe(true);
    expect(plan.freshnessSeconds).toBeLessThan(60);

    const ahead = new Date(Date.now() + 2 * 86_400_000).toISOString();
    await ledger.markPending('d2', { ...info, endedAt: ahead });
    rec = await ledger.getClass('d2');
    expect(rec?.endedAt).toBeUndefined();
    expect(rec?.freshFrom).toBe(rec?.createdAt);
  });

  it('a record that kept an epoch freshFrom from before the rule counts its freshness from its first record', async () => {
    await ledger.markPending('d3', info);
    // As a ledger written before issue 18 holds it: the catalog's default stored as the class's end.
    const epoch = new Date(0).toISOString();
    await t.aws.ddb.send(
      new UpdateCommand({
        TableName: t.cfg.tableName,
        Key: { pk: 'CLASS#d3', sk: 'META' },
        UpdateExpression: 'SET endedAt = :e, freshFrom = :e',
        ExpressionAttributeValues: { ':e': epoch },
      }),
    );
    const { gen } = await ledger.recordPlan('d3', { planId: 'd3d30000', totalFiles: 1, totalChunks: 1 });
    const done = await ledger.countChunk('d3', gen, 0, files(1, 0, 'd3'));
    expect(done.completed).toBe(true);
    expect(done.freshnessSeconds).toBeLessThan(60);
    expect((await ledger.getClass('d3'))?.freshnessSeconds).toBe(done.freshnessSeconds);
  });
});
