import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, type Ledger, type LandedFile } from '../../src/store/ledger.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let t: TestStack;
let ledger: Ledger;

beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'] });
  ledger = createLedger(t.aws.ddb, t.cfg.tableName);
});
afterAll(async () => t?.stop());

const files = (n: number, chunk: number): LandedFile[] => Array.from({ length: n }, (_, i) => ({ key: `c/${chunk}/${i}.ts`, bytes: 100 + i, etag: `e${i}` }));
const info = { manifestUrl: 'http://origin/m.m3u8', title: 'T' };

describe('DynamoDB ledger (dynoxide)', () => {
  it('counts each chunk once and completes the class exactly once', async () => {
    await ledger.markPending('c1', info);
    expect((await ledger.getClass('c1'))?.status).toBe('PENDING');
    await ledger.markCrawling('c1', info);
    expect(await ledger.recordPlan('c1', { planId: 'aaaa0000', totalFiles: 5, totalChunks: 2 })).toEqual(new Set());
    expect(await ledger.completeChunk('c1', 'aaaa0000', 0, files(3, 0))).toBe('counted');
    expect(await ledger.completeChunk('c1', 'aaaa0000', 0, files(3, 0))).toBe('duplicate');
    expect(await ledger.tryComplete('c1', 'aaaa0000')).toBe(false);
    // Ten racing deliveries of the last chunk: one counts, one completes.
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => ledger.completeChunk('c1', 'aaaa0000', 1, files(2, 1))));
    expect(outcomes.filter((o) => o === 'counted')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(9);
    const completions = await Promise.all(Array.from({ length: 10 }, () => ledger.tryComplete('c1', 'aaaa0000')));
    expect(completions.filter(Boolean)).toHaveLength(1);
    const rec = await ledger.getClass('c1');
    expect(rec).toMatchObject({ status: 'COMPLETE', doneChunks: 2, totalChunks: 2, doneFiles: 5, totalFiles: 5, doneBytes: 100 + 101 + 102 + 100 + 101 });
    expect((await ledger.listChunks('c1', 'aaaa0000')).map((c) => c.files.length)).toEqual([3, 2]);
  });

  it('keeps counters across a re-crawl of the same plan and resets them for a new plan', async () => {
    await ledger.markCrawling('c2', info);
    await ledger.recordPlan('c2', { planId: 'bbbb0000', totalFiles: 4, totalChunks: 2 });
    await ledger.completeChunk('c2', 'bbbb0000', 1, files(2, 1));
    expect(await ledger.recordPlan('c2', { planId: 'bbbb0000', totalFiles: 4, totalChunks: 2 })).toEqual(new Set([1]));
    expect(await ledger.getClass('c2')).toMatchObject({ doneChunks: 1, doneFiles: 2, status: 'TRANSFERRING' });
    // A job of the old plan is stale once a new plan is recorded.
    await ledger.recordPlan('c2', { planId: 'cccc0000', totalFiles: 1, totalChunks: 1 });
    expect(await ledger.getClass('c2')).toMatchObject({ doneChunks: 0, doneFiles: 0, totalChunks: 1, planId: 'cccc0000' });
    expect(await ledger.completeChunk('c2', 'bbbb0000', 0, files(2, 0))).toBe('stale');
    expect(await ledger.getClass('c2')).toMatchObject({ doneChunks: 0 });
  });

  it('records failed files, marks the class FAILED, and completes it when the chunk later succeeds', async () => {
    await ledger.markCrawling('c3', info);
    await ledger.recordPlan('c3', { planId: 'dddd0000', totalFiles: 3, totalChunks: 2 });
    await ledger.completeChunk('c3', 'dddd0000', 0, files(2, 0));
    const failed = [{ key: 'c/1/0.ts', src: 'http://origin/c/1/0.ts', reason: 'origin answered HTTP 404' }];
    await ledger.recordFailure('c3', 'dddd0000', 1, failed);
    await ledger.recordFailure('c3', 'dddd0000', 1, failed); // a duplicate final attempt adds nothing
    expect(await ledger.getClass('c3')).toMatchObject({ status: 'FAILED', failedChunks: 1, failedFiles: 1, lastError: 'origin answered HTTP 404' });
    expect((await ledger.listFailures('c3')).map((f) => f.files)).toEqual([failed]);
    expect(await ledger.tryComplete('c3', 'dddd0000')).toBe(false);
    // Redriven and copied this time.
    expect(await ledger.completeChunk('c3', 'dddd0000', 1, files(1, 1))).toBe('counted');
    expect(await ledger.getClass('c3')).toMatchObject({ status: 'TRANSFERRING', failedChunks: 0, failedFiles: 0 });
    expect(await ledger.listFailures('c3')).toEqual([]);
    expect(await ledger.tryComplete('c3', 'dddd0000')).toBe(true);
    expect((await ledger.getClass('c3'))?.status).toBe('COMPLETE');
  });

  it('lists classes and never downgrades a record when marked pending again', async () => {
    await ledger.markPending('c1', info);
    expect((await ledger.getClass('c1'))?.status).toBe('COMPLETE');
    const all = await ledger.listClasses();
    expect(all.map((c) => c.classId)).toEqual(['c1', 'c2', 'c3']);
    const some = await ledger.getClasses(['c1', 'c3', 'nope']);
    expect([...some.keys()].sort()).toEqual(['c1', 'c3']);
  });
});
