// Each event's decision in full: the guard its write carries and everything the write does. A
// missing clause lets a write through on a record it was not decided for; an extra effect changes a
// record it must not.
import { describe, expect, it } from 'vitest';
import {
  apply,
  decide,
  holds,
  isNewChange,
  isNewForce,
  MAX_BUCKET_AHEAD_MOVES,
  NO_RECORD,
  type ClassState,
} from '../../../src/domain/lifecycle/class-lifecycle.ts';

const at = (s: Partial<ClassState>): ClassState => ({
  status: 'TRANSFERRING',
  gen: 1,
  planId: 'A',
  totalChunks: 3,
  doneChunks: 0,
  failed: [],
  ...s,
});

describe('before a plan: enqueue, crawl, wait, crawl failure', () => {
  it('enqueue creates the record only where there is none', () => {
    expect(decide(NO_RECORD, { type: 'enqueued' })).toEqual({
      kind: 'apply',
      guard: { exists: false },
      effect: { status: 'PENDING' },
    });
    expect(decide({ ...NO_RECORD, status: 'FAILED' }, { type: 'enqueued' })).toEqual({ kind: 'skip', why: 'exists' });
  });

  it('a crawl start moves any class not copying or complete to CRAWLING', () => {
    for (const status of [undefined, 'PENDING', 'CRAWLING', 'FAILED'] as const)
      expect(decide({ ...NO_RECORD, status }, { type: 'crawlStarted' })).toEqual({
        kind: 'apply',
        guard: { statusNot: ['COMPLETE', 'TRANSFERRING'] },
        effect: { status: 'CRAWLING' },
      });
    expect(decide(at({}), { type: 'crawlStarted' })).toEqual({ kind: 'skip', why: 'same-plan' });
    expect(decide(at({ status: 'COMPLETE', doneChunks: 3 }), { type: 'crawlStarted' })).toEqual({
      kind: 'skip',
      why: 'complete',
    });
  });

  it('waiting puts the class back to PENDING and clears a crawl error, unless copying or complete', () => {
    for (const status of [undefined, 'PENDING', 'CRAWLING', 'FAILED'] as const)
      expect(decide({ ...NO_RECORD, status, crawlError: 'x' }, { type: 'waiting' })).toEqual({
        kind: 'apply',
        guard: { statusNot: ['COMPLETE', 'TRANSFERRING'] },
        effect: { status: 'PENDING', clearCrawlError: true },
      });
    expect(decide(at({}), { type: 'waiting' })).toEqual({ kind: 'skip', why: 'same-plan' });
    expect(decide(at({ status: 'COMPLETE', doneChunks: 3 }), { type: 'waiting' })).toEqual({
      kind: 'skip',
      why: 'complete',
    });
  });

  it('a crawl failure fails any class not complete and not fully copied, recording the error', () => {
    for (const s of [NO_RECORD, { ...NO_RECORD, status: 'CRAWLING' as const }, at({ doneChunks: 2 })])
      for (const provisional of [undefined, true])
        expect(decide(s, { type: 'crawlFailed', provisional })).toEqual({
          kind: 'apply',
          guard: { statusNot: ['COMPLETE'], notAllDone: true },
          effect: { status: 'FAILED', setCrawlError: true },
        });
    expect(decide(at({ status: 'CRAWLING', doneChunks: 3 }), { type: 'crawlFailed' })).toEqual({
      kind: 'skip',
      why: 'all-done',
    });
    expect(decide(at({ status: 'COMPLETE', doneChunks: 3 }), { type: 'crawlFailed' })).toEqual({
      kind: 'skip',
      why: 'complete',
    });
  });
});

describe('planned: a new generation, or the same one resumed', () => {
  it('a first plan starts generation 1, guarded on generation 0 not being complete', () => {
    expect(
      decide({ ...NO_RECORD, status: 'CRAWLING', crawlError: 'x' }, { type: 'planned', planId: 'A', totalChunks: 3 }),
    ).toEqual({
      kind: 'apply',
      guard: { gen: 0, statusNot: ['COMPLETE'] },
      effect: {
        status: 'TRANSFERRING',
        newGeneration: {
          gen: 1,
          planId: 'A',
          totalChunks: 3,
          forcedAt: undefined,
          changedAt: undefined,
          cause: 'content',
        },
        clearCrawlError: true,
      },
    });
  });

  it('an empty plan is complete at once, and only an empty one', () => {
    expect(decide(NO_RECORD, { type: 'planned', planId: 'E', totalChunks: 0 })).toMatchObject({
      effect: { status: 'COMPLETE', complete: { gen: 1 } },
    });
    expect(decide(NO_RECORD, { type: 'planned', planId: 'E', totalChunks: 1 })).not.toHaveProperty('effect.complete');
  });

  it('the same plan resumes: counters kept, status from its own chunks, no completion unless all are done', () => {
    const failed = at({ status: 'CRAWLING', doneChunks: 1, failed: [2], crawlError: 'x' });
    expect(decide(failed, { type: 'planned', planId: 'A', totalChunks: 3 })).toEqual({
      kind: 'apply',
      guard: { gen: 1, statusNot: ['COMPLETE'], failedCount: 1 },
      effect: { status: 'FAILED', clearCrawlError: true },
    });
    expect(decide(at({ status: 'CRAWLING', doneChunks: 1 }), { type: 'planned', planId: 'A', totalChunks: 3 })).toEqual(
      {
        kind: 'apply',
        guard: { gen: 1, statusNot: ['COMPLETE'], failedCount: 0 },
        effect: { status: 'TRANSFERRING', clearCrawlError: true },
      },
    );
    expect(decide(at({ status: 'CRAWLING', doneChunks: 3 }), { type: 'planned', planId: 'A', totalChunks: 3 })).toEqual(
      {
        kind: 'apply',
        guard: { gen: 1, statusNot: ['COMPLETE'] },
        effect: { status: 'COMPLETE', complete: { gen: 1 }, clearCrawlError: true },
      },
    );
  });

  it('a redelivered forced copy (the same request time) resumes its generation, a newer one restarts it', () => {
    const forced = at({ forcedAt: '2026-01-02', doneChunks: 1 });
    expect(isNewForce(forced, '2026-01-02')).toBe(false);
    expect(isNewForce(forced, '2026-01-01')).toBe(false);
    expect(isNewForce(forced, '2026-01-03')).toBe(true);
    expect(isNewForce(at({}), '2026-01-01')).toBe(true);
    expect(isNewForce(forced, undefined)).toBe(false);
    expect(decide(forced, { type: 'planned', planId: 'A', totalChunks: 3, forcedAt: '2026-01-02' })).not.toHaveProperty(
      'effect.newGeneration',
    );
    expect(isNewChange(at({ changedAt: '2026-01-02' }), '2026-01-02')).toBe(false);
    expect(isNewChange(at({ changedAt: '2026-01-02' }), '2026-01-03')).toBe(true);
    expect(isNewChange(at({}), '2026-01-01')).toBe(true);
    expect(isNewChange(at({}), undefined)).toBe(false);
  });

  it('a complete class restarts for a newer forced copy, guarded on its generation only', () => {
    const done = at({ status: 'COMPLETE', doneChunks: 3, completedGen: 1, changedAt: '2026-01-01' });
    expect(decide(done, { type: 'planned', planId: 'A', totalChunks: 2, forcedAt: '2026-01-05' })).toEqual({
      kind: 'apply',
      guard: { gen: 1 },
      effect: {
        status: 'TRANSFERRING',
        newGeneration: {
          gen: 2,
          planId: 'A',
          totalChunks: 2,
          forcedAt: '2026-01-05',
          changedAt: '2026-01-01',
          cause: 'forced',
        },
        clearCrawlError: true,
      },
    });
  });
});

describe('chunk events', () => {
  it('counting a chunk that did not fail pins its generation, progress and the chunk, and changes no status', () => {
    expect(decide(at({ doneChunks: 1, doneIds: [0] }), { type: 'chunkCounted', gen: 1, chunk: 1 })).toEqual({
      kind: 'apply',
      guard: { gen: 1, progress: 'notLast', chunkFailed: { chunk: 1, is: false }, chunkUndone: 1 },
      effect: { count: { chunk: 1 } },
    });
  });

  it('counting the last failed chunk pins the failed set, the crawl error and the status, and takes it out of the set', () => {
    const s = at({ status: 'FAILED', doneChunks: 0, failed: [1] });
    expect(decide(s, { type: 'chunkCounted', gen: 1, chunk: 1 })).toEqual({
      kind: 'apply',
      guard: {
        gen: 1,
        progress: 'notLast',
        chunkFailed: { chunk: 1, is: true },
        chunkUndone: 1,
        failedCount: 1,
        crawlError: false,
        statusIn: ['FAILED'],
      },
      effect: { count: { chunk: 1 }, unfail: { chunk: 1 }, status: 'TRANSFERRING' },
    });
  });

  it('counting a failed chunk while others stay failed only pins that others do (it changes no status)', () => {
    const s = at({ status: 'FAILED', doneChunks: 0, failed: [1, 2] });
    expect(decide(s, { type: 'chunkCounted', gen: 1, chunk: 1 })).toEqual({
      kind: 'apply',
      guard: { gen: 1, progress: 'notLast', chunkFailed: { chunk: 1, is: true }, chunkUndone: 1, failedAbove: 1 },
      effect: { count: { chunk: 1 }, unfail: { chunk: 1 } },
    });
    // The stored record reads only the event's own chunk's entry, with the count of all.
    const counted = at({ status: 'FAILED', doneChunks: 0, failed: [1], failedCount: 2 });
    expect(decide(counted, { type: 'chunkCounted', gen: 1, chunk: 1 })).toMatchObject({
      guard: { failedAbove: 1 },
      effect: { count: { chunk: 1 }, unfail: { chunk: 1 } },
    });
    expect(decide(counted, { type: 'chunkCounted', gen: 1, chunk: 1 })).not.toHaveProperty('effect.status');
  });

  it('holds: failedAbove refuses a record with that many failed chunks or fewer, counted or listed', () => {
    expect(holds({ failedAbove: 1 }, at({ failed: [1, 2] }))).toBe(true);
    expect(holds({ failedAbove: 1 }, at({ failed: [1] }))).toBe(false);
    expect(holds({ failedAbove: 1 }, at({ failed: [1], failedCount: 2 }))).toBe(true);
    expect(holds({ failedAbove: 1 }, at({ failed: [1, 2], failedCount: 1 }))).toBe(false);
    expect(holds({ failedCount: 3 }, at({ failed: [], failedCount: 3 }))).toBe(true);
  });

  it('apply keeps a failed count in step with the failed set, and a new generation resets it', () => {
    const s = at({ status: 'FAILED', failed: [1], failedCount: 5 });
    expect(apply(s, { unfail: { chunk: 1 } })).toMatchObject({ failed: [], failedCount: 4 });
    expect(apply(s, { unfail: { chunk: 2 } })).toMatchObject({ failed: [1], failedCount: 5 });
    expect(apply(s, { fail: { chunk: 2, provisional: false } })).toMatchObject({ failed: [1, 2], failedCount: 6 });
    expect(apply(s, { fail: { chunk: 1, provisional: false } })).toMatchObject({ failed: [1], failedCount: 5 });
    expect(apply(s, { newGeneration: { gen: 2, planId: 'B', totalChunks: 1, cause: 'content' } }).failedCount).toBe(0);
    expect(apply(at({}), { fail: { chunk: 2, provisional: false } }).failedCount).toBeUndefined();
  });

  it('counting the last failed chunk puts a FAILED class back to TRANSFERRING, unless a crawl error stands', () => {
    const s = at({ status: 'FAILED', doneChunks: 0, failed: [1] });
    expect(decide(s, { type: 'chunkCounted', gen: 1, chunk: 1 })).toMatchObject({
      kind: 'apply',
      effect: { status: 'TRANSFERRING', count: { chunk: 1 }, unfail: { chunk: 1 } },
    });
    expect(decide({ ...s, crawlError: 'x' }, { type: 'chunkCounted', gen: 1, chunk: 1 })).not.toHaveProperty(
      'effect.status',
    );
    expect(decide({ ...s, status: 'CRAWLING' }, { type: 'chunkCounted', gen: 1, chunk: 1 })).not.toHaveProperty(
      'effect.status',
    );
  });

  it('counting the last chunk completes the generation', () => {
    expect(decide(at({ doneChunks: 2, doneIds: [0, 1] }), { type: 'chunkCounted', gen: 1, chunk: 2 })).toEqual({
      kind: 'apply',
      guard: { gen: 1, progress: 'last', chunkFailed: { chunk: 2, is: false }, chunkUndone: 2 },
      effect: { count: { chunk: 2 }, status: 'COMPLETE', complete: { gen: 1 }, clearCrawlError: true },
    });
  });

  it('skips counts with no record, of another generation, or of a chunk already done', () => {
    expect(decide(NO_RECORD, { type: 'chunkCounted', gen: 0, chunk: 0 })).toEqual({ kind: 'skip', why: 'no-record' });
    expect(decide(at({}), { type: 'chunkCounted', gen: 2, chunk: 0 })).toEqual({ kind: 'skip', why: 'stale' });
    for (const s of [
      at({ doneChunks: 1, doneIds: [0] }),
      at({ doneChunks: 3 }),
      at({ status: 'COMPLETE', doneChunks: 3 }),
    ])
      expect(decide(s, { type: 'chunkCounted', gen: 1, chunk: 0 })).toEqual({ kind: 'skip', why: 'duplicate' });
  });

  it('a failed chunk is recorded, FAILED, with whether its failure is provisional', () => {
    for (const provisional of [undefined, false, true])
      expect(
        decide(at({ doneChunks: 1, doneIds: [0] }), { type: 'chunkFailed', gen: 1, chunk: 1, provisional }),
      ).toEqual({
        kind: 'apply',
        guard: { gen: 1, statusNot: ['COMPLETE'], chunkFailed: { chunk: 1, is: false }, chunkUndone: 1 },
        effect: { status: 'FAILED', fail: { chunk: 1, provisional: provisional ?? false } },
      });
    for (const [s, why] of [
      [NO_RECORD, 'no-record'],
      [at({ gen: 2 }), 'stale'],
      [at({ status: 'COMPLETE', doneChunks: 3 }), 'complete'],
      [at({ doneChunks: 2, doneIds: [0, 1] }), 'chunk-done'],
    ] as const)
      expect(decide(s, { type: 'chunkFailed', gen: 1, chunk: 1 })).toEqual({ kind: 'skip', why });
  });

  it('a failed delivery is bookkeeping on a class not complete', () => {
    expect(decide(at({}), { type: 'attemptFailed', gen: 1, chunk: 0 })).toEqual({
      kind: 'apply',
      guard: { gen: 1, statusNot: ['COMPLETE'] },
      effect: { noteOnly: true },
    });
    expect(decide(NO_RECORD, { type: 'attemptFailed', gen: 0, chunk: 0 })).toEqual({ kind: 'skip', why: 'no-record' });
    expect(decide(at({}), { type: 'attemptFailed', gen: 2, chunk: 0 })).toEqual({ kind: 'skip', why: 'stale' });
    expect(decide(at({ status: 'COMPLETE', doneChunks: 3 }), { type: 'attemptFailed', gen: 1, chunk: 0 })).toEqual({
      kind: 'skip',
      why: 'complete',
    });
  });

  it('a change check is bookkeeping on the COMPLETE generation it checked, and of no record is skipped', () => {
    expect(decide(at({ status: 'COMPLETE', doneChunks: 3 }), { type: 'checked', gen: 1 })).toEqual({
      kind: 'apply',
      guard: { gen: 1, statusIn: ['COMPLETE'] },
      effect: { noteOnly: true },
    });
    expect(decide(NO_RECORD, { type: 'checked', gen: 0 })).toEqual({ kind: 'skip', why: 'no-record' });
  });
});

describe('apply: the model of the ledger write', () => {
  const s = at({
    status: 'FAILED',
    doneChunks: 1,
    doneIds: [0],
    failed: [2],
    crawlError: 'old',
    forcedAt: 'f',
    changedAt: 'c',
  });

  it('a new generation resets counters, failures and done ids, and takes its plan', () => {
    const next = apply(s, {
      status: 'TRANSFERRING',
      newGeneration: { gen: 2, planId: 'B', totalChunks: 5, forcedAt: 'g', changedAt: undefined, cause: 'forced' },
    });
    expect(next).toEqual({
      ...s,
      status: 'TRANSFERRING',
      gen: 2,
      planId: 'B',
      totalChunks: 5,
      forcedAt: 'g',
      changedAt: undefined,
      doneChunks: 0,
      doneIds: [],
      failed: [],
    });
    expect(
      apply({ ...s, doneIds: undefined }, { newGeneration: { gen: 2, planId: 'B', totalChunks: 5, cause: 'content' } })
        .doneIds,
    ).toBeUndefined();
  });

  it('a count adds the chunk once to the done ids; unfail and fail edit the failed set', () => {
    expect(apply(s, { count: { chunk: 1 } })).toMatchObject({ doneChunks: 2, doneIds: [0, 1] });
    expect(apply({ ...s, doneIds: undefined }, { count: { chunk: 1 } })).toEqual({
      ...s,
      doneIds: undefined,
      doneChunks: 2,
    });
    expect(apply(s, { unfail: { chunk: 2 } }).failed).toEqual([]);
    expect(apply({ ...s, failed: [1, 2] }, { unfail: { chunk: 2 } }).failed).toEqual([1]);
    expect(apply(s, { fail: { chunk: 1, provisional: false } }).failed).toEqual([2, 1]);
    expect(apply(s, { fail: { chunk: 2, provisional: true } }).failed).toEqual([2]);
    expect(s.failed).toEqual([2]);
  });

  it('completion, crawl errors and the status are written as told', () => {
    expect(apply(s, { complete: { gen: 1 } }).completedGen).toBe(1);
    expect(apply(s, { clearCrawlError: true }).crawlError).toBeUndefined();
    expect(apply(s, { setCrawlError: true }, 'origin down').crawlError).toBe('origin down');
    expect(apply(s, { setCrawlError: true }).crawlError).toBe('error');
    expect(apply(s, { status: 'CRAWLING' }).status).toBe('CRAWLING');
    expect(apply(s, { noteOnly: true })).toEqual(s);
  });
});

describe("a job's plan, re-plans and a bucket ahead of the ledger", () => {
  it('a chunk event of another plan under the same generation number is stale; of this plan, its guard pins the plan', () => {
    const s = at({ doneChunks: 1, doneIds: [0] });
    for (const type of ['chunkCounted', 'chunkFailed'] as const) {
      expect(decide(s, { type, gen: 1, chunk: 1, planId: 'OTHER' })).toEqual({ kind: 'skip', why: 'stale' });
      expect(decide(s, { type, gen: 1, chunk: 1, planId: 'A' })).toMatchObject({
        kind: 'apply',
        guard: { gen: 1, planId: 'A' },
      });
      expect(decide(s, { type, gen: 1, chunk: 1 })).not.toHaveProperty('guard.planId');
    }
  });

  it('holds: planId and replans refuse any other value (no replans counts as 0)', () => {
    expect(holds({ planId: 'A' }, at({}))).toBe(true);
    expect(holds({ planId: 'B' }, at({}))).toBe(false);
    expect(holds({ replans: 0 }, at({}))).toBe(true);
    expect(holds({ replans: 1 }, at({}))).toBe(false);
    expect(holds({ replans: 1 }, at({ replans: 1 }))).toBe(true);
    expect(holds({ replans: 0 }, at({ replans: 2 }))).toBe(false);
  });

  it('a re-plan request is counted once per round, and the one past the limit fails the class', () => {
    const s = at({ replans: 1 });
    expect(decide(s, { type: 'replanRequested', gen: 1, replans: 1, max: 3 })).toEqual({
      kind: 'apply',
      guard: { gen: 1, statusNot: ['COMPLETE'], replans: 1 },
      effect: { replans: 2 },
    });
    expect(decide(at({}), { type: 'replanRequested', gen: 1, replans: 0, max: 3 })).toMatchObject({
      effect: { replans: 1 },
    });
    expect(decide(at({ replans: 3 }), { type: 'replanRequested', gen: 1, replans: 3, max: 3 })).toEqual({
      kind: 'apply',
      guard: { gen: 1, statusNot: ['COMPLETE'], replans: 3, notAllDone: true },
      effect: { status: 'FAILED', setCrawlError: true, replans: 4 },
    });
    expect(decide(s, { type: 'replanRequested', gen: 1, replans: 0, max: 3 })).toEqual({ kind: 'skip', why: 'stale' });
    expect(decide(s, { type: 'replanRequested', gen: 2, replans: 1, max: 3 })).toEqual({ kind: 'skip', why: 'stale' });
    expect(decide(NO_RECORD, { type: 'replanRequested', gen: 0, replans: 0, max: 3 })).toEqual({
      kind: 'skip',
      why: 'no-record',
    });
    expect(
      decide(at({ status: 'COMPLETE', doneChunks: 3 }), { type: 'replanRequested', gen: 1, replans: 0, max: 3 }),
    ).toEqual({ kind: 'skip', why: 'complete' });
  });

  it('a plan no transfer asked for ends a run of re-plans; a re-plan keeps it', () => {
    const s = at({ status: 'CRAWLING', replans: 2 });
    expect(decide(s, { type: 'planned', planId: 'A', totalChunks: 3 })).toMatchObject({ effect: { replans: 0 } });
    expect(decide(s, { type: 'planned', planId: 'B', totalChunks: 3 })).toMatchObject({ effect: { replans: 0 } });
    expect(decide(s, { type: 'planned', planId: 'B', totalChunks: 3, replan: true })).not.toHaveProperty(
      'effect.replans',
    );
    expect(decide(at({ status: 'CRAWLING' }), { type: 'planned', planId: 'B', totalChunks: 3 })).not.toHaveProperty(
      'effect.replans',
    );
  });

  // Found by the ledger's model-based test (seed 311381709): crawl, three re-plans (the third past the limit:
  // FAILED), then a stale job's transfer finds the bucket one generation ahead. The move restarted the class
  // with its re-plan count still past the limit: TRANSFERRING with "replans above the limit", which only
  // FAILED may be, and the next re-plan request would fail it again at once.
  it('a bucket ahead of a class that failed for its re-plans starts the new generation with a run of its own', () => {
    const failed = at({ status: 'FAILED', crawlError: 'replanned too often', replans: 3 });
    const d = decide(failed, { type: 'bucketAhead', gen: 0, bucketGen: 2 });
    expect(d).toMatchObject({ kind: 'apply', effect: { status: 'TRANSFERRING', replans: 0 } });
    const next = apply(failed, (d as Extract<typeof d, { kind: 'apply' }>).effect);
    expect([next.status, next.replans, next.gen]).toEqual(['TRANSFERRING', 0, 3]);
    // A class without a run of re-plans writes no count.
    expect(decide(at({ status: 'FAILED' }), { type: 'bucketAhead', gen: 1, bucketGen: 2 })).not.toHaveProperty(
      'effect.replans',
    );
  });

  it('a bucket ahead of the ledger moves the same plan above the generation it holds, a bounded number of times', () => {
    const s = at({ status: 'FAILED', failed: [1], crawlError: 'x', forcedAt: 'f', changedAt: 'c' });
    expect(decide(s, { type: 'bucketAhead', gen: 1, bucketGen: 5 })).toEqual({
      kind: 'apply',
      guard: { gen: 1, statusNot: ['COMPLETE'] },
      effect: {
        status: 'TRANSFERRING',
        newGeneration: { gen: 6, planId: 'A', totalChunks: 3, forcedAt: 'f', changedAt: 'c', cause: 'bucketAhead' },
        clearCrawlError: true,
      },
    });
    expect(
      decide(at({ bucketAheadMoves: MAX_BUCKET_AHEAD_MOVES }), { type: 'bucketAhead', gen: 1, bucketGen: 5 }),
    ).toEqual({
      kind: 'apply',
      guard: { gen: 1, statusNot: ['COMPLETE'] },
      effect: { status: 'FAILED', setCrawlError: true },
    });
    expect(
      decide(at({ bucketAheadMoves: MAX_BUCKET_AHEAD_MOVES - 1 }), { type: 'bucketAhead', gen: 1, bucketGen: 5 }),
    ).toMatchObject({
      effect: { status: 'TRANSFERRING' },
    });
    expect(decide(at({}), { type: 'bucketAhead', gen: 1, bucketGen: 1 })).toEqual({ kind: 'skip', why: 'not-ahead' });
    expect(decide(at({}), { type: 'bucketAhead', gen: 1, bucketGen: 2 })).toMatchObject({ kind: 'apply' });
    expect(decide({ ...NO_RECORD, status: 'CRAWLING' }, { type: 'bucketAhead', gen: 0, bucketGen: 2 })).toEqual({
      kind: 'skip',
      why: 'no-record',
    });
    expect(decide(NO_RECORD, { type: 'bucketAhead', gen: 0, bucketGen: 2 })).toEqual({
      kind: 'skip',
      why: 'no-record',
    });
    expect(decide(at({ status: 'COMPLETE', doneChunks: 3 }), { type: 'bucketAhead', gen: 1, bucketGen: 2 })).toEqual({
      kind: 'skip',
      why: 'complete',
    });
  });

  it("apply counts the bucket's moves until a generation of the class's own, and completion ends re-plans and moves", () => {
    const moved = apply(at({ bucketAheadMoves: 1 }), {
      newGeneration: { gen: 3, planId: 'A', totalChunks: 3, cause: 'bucketAhead' },
    });
    expect(moved.bucketAheadMoves).toBe(2);
    expect(
      apply(at({}), { newGeneration: { gen: 3, planId: 'A', totalChunks: 3, cause: 'bucketAhead' } }).bucketAheadMoves,
    ).toBe(1);
    expect(
      apply(at({ bucketAheadMoves: 2 }), { newGeneration: { gen: 3, planId: 'B', totalChunks: 3, cause: 'content' } })
        .bucketAheadMoves,
    ).toBeUndefined();
    const done = apply(at({ replans: 2, bucketAheadMoves: 2 }), { complete: { gen: 1 } });
    expect(done).toMatchObject({ completedGen: 1, replans: 0 });
    expect(done.bucketAheadMoves).toBeUndefined();
    expect(apply(at({ replans: 2 }), { replans: 0 }).replans).toBe(0);
    expect(apply(at({ replans: 2 }), {}).replans).toBe(2);
  });
});
