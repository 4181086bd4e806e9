import { describe, expect, it } from 'vitest';
import {
  apply,
  CLASS_STATUSES,
  MAX_BUCKET_AHEAD_MOVES,
  decide,
  holds,
  NO_RECORD,
  TRANSITIONS,
  type ClassEvent,
  type ClassState,
  type ClassStatus,
} from '../../../src/domain/lifecycle/class-lifecycle.ts';

/** Every consistent state of a small class: up to 3 chunks, 2 generations, any failures and crawl errors. */
function states(): ClassState[] {
  const out: ClassState[] = [NO_RECORD];
  for (const status of ['PENDING', 'CRAWLING', 'FAILED'] as const) {
    for (const crawlError of [undefined, 'x']) out.push({ ...NO_RECORD, status, crawlError });
  }
  for (const gen of [1, 2]) {
    for (const total of [1, 2, 3]) {
      for (let done = 0; done <= total; done++) {
        const undone = Array.from({ length: total - done }, (_, i) => done + i);
        const subsets = undone.reduce<number[][]>((acc, c) => [...acc, ...acc.map((s) => [...s, c])], [[]]);
        for (const failed of subsets) {
          for (const crawlError of [undefined, 'x']) {
            for (const [forcedAt, changedAt] of [
              [undefined, undefined],
              ['2026-01-02', undefined],
              [undefined, '2026-01-02'],
            ] as const) {
              const doneIds = Array.from({ length: done }, (_, i) => i);
              const base = {
                gen,
                planId: 'A',
                forcedAt,
                changedAt,
                totalChunks: total,
                doneChunks: done,
                doneIds,
                failed,
                crawlError,
              };
              if (done === total) {
                // All done: COMPLETE for this generation (nothing else is reachable: the last count completes).
                if (failed.length === 0 && !crawlError) out.push({ ...base, status: 'COMPLETE', completedGen: gen });
                continue;
              }
              const statuses: ClassStatus[] =
                failed.length > 0 || crawlError
                  ? ['FAILED', 'CRAWLING', 'PENDING']
                  : ['TRANSFERRING', 'CRAWLING', 'PENDING'];
              for (const status of statuses) out.push({ ...base, status, ...(gen === 2 ? { completedGen: 1 } : {}) });
            }
          }
        }
      }
    }
  }
  return out;
}

function events(): ClassEvent[] {
  const out: ClassEvent[] = [
    { type: 'enqueued' },
    { type: 'crawlStarted' },
    { type: 'waiting' },
    { type: 'crawlFailed' },
    { type: 'crawlFailed', provisional: true },
  ];
  for (const planId of ['A', 'B']) {
    for (const totalChunks of [0, 1, 3]) {
      for (const forcedAt of [undefined, '2026-01-01', '2026-01-03'])
        out.push({ type: 'planned', planId, totalChunks, forcedAt });
      // A change check's findings, older and newer than the one that may have started the generation.
      for (const changedAt of ['2026-01-01', '2026-01-03'])
        out.push({ type: 'planned', planId, totalChunks, changedAt });
    }
  }
  for (const gen of [1, 2]) out.push({ type: 'checked', gen });
  // A transfer's PLAYLIST_CHANGED: counted, or (max 0) past the limit, or stale (another round's).
  for (const gen of [1, 2]) for (const max of [0, 2]) out.push({ type: 'replanRequested', gen, replans: 0, max });
  out.push({ type: 'replanRequested', gen: 1, replans: 1, max: 2 });
  for (const planId of ['A', 'B']) out.push({ type: 'planned', planId, totalChunks: 3, replan: true });
  // A bucket answer of a generation at, below and above the class's (issue 18 case 5).
  for (const gen of [1, 2]) for (const bucketGen of [1, 2, 3, 7]) out.push({ type: 'bucketAhead', gen, bucketGen });
  for (const gen of [1, 2]) {
    // Chunks 0..2 of a class of at most 3: events name only chunks that exist.
    for (const chunk of [0, 1, 2]) {
      out.push(
        { type: 'chunkCounted', gen, chunk },
        { type: 'attemptFailed', gen, chunk },
        { type: 'chunkFailed', gen, chunk },
        { type: 'chunkFailed', gen, chunk, provisional: true },
      );
    }
  }
  return out;
}

/** The invariants every reachable state keeps. */
function invariants(s: ClassState): void {
  expect(s.doneChunks + s.failed.length).toBeLessThanOrEqual(Math.max(s.totalChunks, 0));
  if (s.doneIds) {
    expect(new Set(s.doneIds).size).toBe(s.doneChunks);
    expect(s.failed.filter((c) => s.doneIds!.includes(c))).toEqual([]);
  }
  expect(new Set(s.failed).size).toBe(s.failed.length);
  if (s.status === 'COMPLETE') {
    expect(s.completedGen).toBe(s.gen);
    expect(s.doneChunks).toBe(s.totalChunks);
    expect(s.failed).toEqual([]);
  }
}

describe('class lifecycle (pure)', () => {
  const all = states();
  const evs = events();

  it(`every decision's guard holds in the state it was decided from, and its transition is a declared one (${all.length} states × ${evs.length} events)`, () => {
    let applied = 0;
    for (const s of all) {
      for (const e of evs) {
        if ('chunk' in e && e.chunk >= s.totalChunks && e.gen === s.gen) continue; // no such chunk in this plan
        const d = decide(s, e);
        if (d.kind === 'skip') continue;
        applied++;
        expect(holds(d.guard, s), JSON.stringify({ s, e, d })).toBe(true);
        const next = apply(s, d.effect);
        const from = s.status ?? 'none';
        if (d.effect.status)
          expect(TRANSITIONS[e.type], JSON.stringify({ s, e, next })).toContainEqual([from, next.status]);
        invariants(next);
        expect(next.gen).toBeGreaterThanOrEqual(s.gen);
      }
    }
    expect(applied).toBeGreaterThan(1000);
  });

  it('COMPLETE is final for its generation: only a newer forced plan or a newer change found by a check moves it', () => {
    for (const s of all.filter((x) => x.status === 'COMPLETE')) {
      for (const e of evs) {
        const d = decide(s, e);
        if (d.kind === 'skip') continue;
        if (e.type === 'checked') {
          // Bookkeeping only: no status, no generation, no counter.
          expect(d.effect).toEqual({ noteOnly: true });
          expect(d.guard).toEqual({ gen: s.gen, statusIn: ['COMPLETE'] });
          continue;
        }
        expect(e.type).toBe('planned');
        if (e.type !== 'planned') continue;
        const newerForce = e.forcedAt !== undefined && (s.forcedAt === undefined || e.forcedAt > s.forcedAt);
        const newerChange = e.changedAt !== undefined && (s.changedAt === undefined || e.changedAt > s.changedAt);
        expect(newerForce || newerChange).toBe(true);
        expect(d.effect.newGeneration).toMatchObject({ gen: s.gen + 1, cause: newerForce ? 'forced' : 'changed' });
        if (newerChange && !newerForce) expect(d.effect.newGeneration?.changedAt).toBe(e.changedAt);
      }
    }
  });

  it('a change check starts a generation only from COMPLETE, once per finding, even with the same plan id', () => {
    const done: ClassState = {
      status: 'COMPLETE',
      gen: 2,
      planId: 'A',
      totalChunks: 3,
      doneChunks: 3,
      failed: [],
      completedGen: 2,
      changedAt: '2026-01-02',
    };
    // A segment changed in place: same playlists, same plan id, yet a new generation (each file is compared when copied).
    expect(decide(done, { type: 'planned', planId: 'A', totalChunks: 3, changedAt: '2026-01-03' })).toMatchObject({
      kind: 'apply',
      guard: { gen: 2 },
      effect: {
        status: 'TRANSFERRING',
        newGeneration: { gen: 3, planId: 'A', changedAt: '2026-01-03', cause: 'changed' },
      },
    });
    // The same finding again (a redelivered check) changes nothing.
    expect(decide(done, { type: 'planned', planId: 'B', totalChunks: 3, changedAt: '2026-01-02' })).toEqual({
      kind: 'skip',
      why: 'complete',
    });
    // A class still being copied resumes (or re-plans on other content) as any crawl would: the change starts nothing of its own.
    const copying: ClassState = {
      status: 'TRANSFERRING',
      gen: 3,
      planId: 'A',
      totalChunks: 3,
      doneChunks: 1,
      failed: [],
      changedAt: '2026-01-03',
    };
    expect(decide(copying, { type: 'planned', planId: 'A', totalChunks: 3, changedAt: '2026-01-04' })).toMatchObject({
      kind: 'apply',
      effect: { status: 'TRANSFERRING' },
    });
    expect(
      decide(copying, { type: 'planned', planId: 'A', totalChunks: 3, changedAt: '2026-01-04' }),
    ).not.toHaveProperty('effect.newGeneration');
    expect(decide(copying, { type: 'planned', planId: 'B', totalChunks: 3, changedAt: '2026-01-04' })).toMatchObject({
      effect: { newGeneration: { gen: 4, changedAt: '2026-01-03', cause: 'content' } },
    });
    // A check of a generation that is not (or no longer) COMPLETE records nothing.
    expect(decide(copying, { type: 'checked', gen: 3 })).toEqual({ kind: 'skip', why: 'not-complete' });
    expect(decide(done, { type: 'checked', gen: 1 })).toEqual({ kind: 'skip', why: 'stale' });
  });

  it('a job of any other generation counts nothing and records nothing', () => {
    for (const s of all.filter((x) => x.gen > 0)) {
      for (const type of ['chunkCounted', 'attemptFailed', 'chunkFailed'] as const) {
        expect(decide(s, { type, gen: s.gen + 1, chunk: 0 })).toEqual({ kind: 'skip', why: 'stale' });
        if (s.gen > 1) expect(decide(s, { type, gen: s.gen - 1, chunk: 0 })).toEqual({ kind: 'skip', why: 'stale' });
      }
      // After a ledger reset a generation number may name another plan: a job of that other plan is stale too.
      for (const type of ['chunkCounted', 'chunkFailed'] as const) {
        expect(decide(s, { type, gen: s.gen, chunk: 0, planId: 'other' })).toEqual({ kind: 'skip', why: 'stale' });
        const own = decide(s, { type, gen: s.gen, chunk: 0, planId: s.planId });
        if (own.kind === 'apply') expect(own.guard.planId).toBe(s.planId);
      }
    }
  });

  it('only the last chunk completes, exactly once, and a counted chunk leaves the failed set', () => {
    for (const s of all.filter((x) => x.gen > 0 && x.status !== 'COMPLETE')) {
      for (let chunk = 0; chunk < s.totalChunks; chunk++) {
        const d = decide(s, { type: 'chunkCounted', gen: s.gen, chunk });
        if (s.doneIds?.includes(chunk)) {
          expect(d).toEqual({ kind: 'skip', why: 'duplicate' });
          continue;
        }
        expect(d.kind).toBe('apply');
        if (d.kind !== 'apply') continue;
        const last = s.doneChunks + 1 === s.totalChunks;
        expect(d.effect.complete !== undefined).toBe(last);
        expect(d.guard.progress).toBe(last ? 'last' : 'notLast');
        expect(apply(s, d.effect).failed).not.toContain(chunk);
      }
    }
  });

  it('a new plan resets the generation; the same plan resumes it; an older forced request resumes', () => {
    const s: ClassState = {
      status: 'TRANSFERRING',
      gen: 3,
      planId: 'A',
      forcedAt: '2026-01-02',
      totalChunks: 3,
      doneChunks: 1,
      failed: [2],
    };
    expect(decide(s, { type: 'planned', planId: 'A', totalChunks: 3 })).toMatchObject({
      kind: 'apply',
      effect: { status: 'FAILED' },
    });
    expect(decide(s, { type: 'planned', planId: 'A', totalChunks: 3, forcedAt: '2026-01-01' })).toMatchObject({
      kind: 'apply',
      effect: { status: 'FAILED' },
    });
    expect(decide(s, { type: 'planned', planId: 'A', totalChunks: 3, forcedAt: '2026-01-03' })).toMatchObject({
      kind: 'apply',
      effect: { newGeneration: { gen: 4, forcedAt: '2026-01-03' } },
    });
    expect(decide(s, { type: 'planned', planId: 'B', totalChunks: 3 })).toMatchObject({
      kind: 'apply',
      guard: { gen: 3 },
      effect: { newGeneration: { gen: 4, planId: 'B', forcedAt: '2026-01-02' } },
    });
    expect(decide(s, { type: 'planned', planId: 'B', totalChunks: 0 })).toMatchObject({
      kind: 'apply',
      effect: { status: 'COMPLETE', complete: { gen: 4 } },
    });
  });

  it('a crawl failure never fails a fully copied class, and a provisional failure is never recorded twice', () => {
    const done: ClassState = {
      status: 'COMPLETE',
      gen: 1,
      planId: 'A',
      totalChunks: 2,
      doneChunks: 2,
      failed: [],
      completedGen: 1,
    };
    expect(decide(done, { type: 'crawlFailed' })).toEqual({ kind: 'skip', why: 'complete' });
    const failedAlready: ClassState = {
      status: 'FAILED',
      gen: 1,
      planId: 'A',
      totalChunks: 2,
      doneChunks: 0,
      failed: [1],
    };
    expect(decide(failedAlready, { type: 'chunkFailed', gen: 1, chunk: 1, provisional: true })).toEqual({
      kind: 'skip',
      why: 'chunk-failed-already',
    });
    // A real failure after a provisional one re-states it (its files and reasons replace "did not finish").
    expect(decide(failedAlready, { type: 'chunkFailed', gen: 1, chunk: 1 })).toMatchObject({
      kind: 'apply',
      guard: { chunkFailed: { chunk: 1, is: true } },
    });
  });

  it('a bucket ahead of the ledger moves the plan above it (same plan, counters reset), a bounded number of times; an old job is only stale', () => {
    const copying: ClassState = {
      status: 'TRANSFERRING',
      gen: 1,
      planId: 'A',
      totalChunks: 3,
      doneChunks: 1,
      doneIds: [0],
      failed: [2],
    };
    const d = decide(copying, { type: 'bucketAhead', gen: 1, bucketGen: 5 });
    expect(d).toEqual({
      kind: 'apply',
      guard: { gen: 1, statusNot: ['COMPLETE'] },
      effect: {
        status: 'TRANSFERRING',
        newGeneration: {
          gen: 6,
          planId: 'A',
          totalChunks: 3,
          forcedAt: undefined,
          changedAt: undefined,
          cause: 'bucketAhead',
        },
        clearCrawlError: true,
      },
    });
    let s = apply(copying, (d as Extract<typeof d, { kind: 'apply' }>).effect);
    expect(s).toMatchObject({ gen: 6, planId: 'A', doneChunks: 0, failed: [], doneIds: [], bucketAheadMoves: 1 });
    // The bucket at or below the ledger's generation: the job was old, nothing moves (whatever its own generation).
    expect(decide(s, { type: 'bucketAhead', gen: 1, bucketGen: 6 })).toEqual({ kind: 'skip', why: 'not-ahead' });
    expect(decide(s, { type: 'bucketAhead', gen: 6, bucketGen: 3 })).toEqual({ kind: 'skip', why: 'not-ahead' });
    // A bucket that keeps being ahead: after MAX_BUCKET_AHEAD_MOVES moves the class fails instead.
    for (let i = 1; i < MAX_BUCKET_AHEAD_MOVES; i++) {
      const next = decide(s, { type: 'bucketAhead', gen: s.gen, bucketGen: s.gen + 1 });
      expect(next.kind).toBe('apply');
      s = apply(s, (next as Extract<typeof next, { kind: 'apply' }>).effect);
    }
    expect(s.bucketAheadMoves).toBe(MAX_BUCKET_AHEAD_MOVES);
    expect(decide(s, { type: 'bucketAhead', gen: s.gen, bucketGen: s.gen + 1 })).toEqual({
      kind: 'apply',
      guard: { gen: s.gen, statusNot: ['COMPLETE'] },
      effect: { status: 'FAILED', setCrawlError: true },
    });
    // A plan of its own (forced, other content) or a completion starts the count again.
    const forced = decide(s, { type: 'planned', planId: 'A', totalChunks: 3, forcedAt: '2026-02-01' });
    expect(apply(s, (forced as Extract<typeof forced, { kind: 'apply' }>).effect).bucketAheadMoves).toBeUndefined();
    const last = { ...s, doneChunks: 2, doneIds: [0, 1], failed: [] };
    const counted = decide(last, { type: 'chunkCounted', gen: s.gen, chunk: 2 });
    expect(
      apply(last, (counted as Extract<typeof counted, { kind: 'apply' }>).effect).bucketAheadMoves,
    ).toBeUndefined();
    // COMPLETE is final for its generation: a late job's stale answer changes nothing.
    const done: ClassState = {
      ...copying,
      status: 'COMPLETE',
      doneChunks: 3,
      doneIds: [0, 1, 2],
      failed: [],
      completedGen: 1,
    };
    expect(decide(done, { type: 'bucketAhead', gen: 1, bucketGen: 9 })).toEqual({ kind: 'skip', why: 'complete' });
    expect(decide(NO_RECORD, { type: 'bucketAhead', gen: 1, bucketGen: 9 })).toEqual({
      kind: 'skip',
      why: 'no-record',
    });
  });

  it('declares a transition table that names only real statuses', () => {
    for (const rows of Object.values(TRANSITIONS)) {
      for (const [from, to] of rows) {
        expect([...CLASS_STATUSES, 'none']).toContain(from);
        expect(CLASS_STATUSES).toContain(to);
      }
    }
  });

  it('re-plans a transfer asks for are counted once per round and bounded; a plain crawl or a completion ends the run (issue 18, case 1)', () => {
    const copying: ClassState = {
      status: 'TRANSFERRING',
      gen: 3,
      planId: 'A',
      totalChunks: 3,
      doneChunks: 1,
      failed: [],
      replans: 2,
    };
    // The round's first request counts, guarded on the count it saw; any other request of the round is spent.
    const first = decide(copying, { type: 'replanRequested', gen: 3, replans: 2, max: 5 });
    expect(first).toEqual({
      kind: 'apply',
      guard: { gen: 3, statusNot: ['COMPLETE'], replans: 2 },
      effect: { replans: 3 },
    });
    const after = apply(copying, (first as Extract<typeof first, { kind: 'apply' }>).effect);
    expect(decide(after, { type: 'replanRequested', gen: 3, replans: 2, max: 5 })).toEqual({
      kind: 'skip',
      why: 'stale',
    });
    expect(decide(copying, { type: 'replanRequested', gen: 2, replans: 2, max: 5 })).toEqual({
      kind: 'skip',
      why: 'stale',
    });
    // The request after REPLAN_MAX re-plans fails the class (its reason is the crawl error), in this generation.
    expect(decide({ ...copying, replans: 5 }, { type: 'replanRequested', gen: 3, replans: 5, max: 5 })).toEqual({
      kind: 'apply',
      guard: { gen: 3, statusNot: ['COMPLETE'], replans: 5, notAllDone: true },
      effect: { status: 'FAILED', setCrawlError: true, replans: 6 },
    });
    // A re-plan's own plan keeps the count, new generation or not; a plain crawl's plan ends the run.
    const replanned = decide(after, { type: 'planned', planId: 'B', totalChunks: 3, replan: true });
    expect(replanned).toMatchObject({ kind: 'apply', effect: { newGeneration: { gen: 4 } } });
    expect(replanned).not.toHaveProperty('effect.replans');
    expect(decide(after, { type: 'planned', planId: 'A', totalChunks: 3, replan: true })).not.toHaveProperty(
      'effect.replans',
    );
    expect(decide(after, { type: 'planned', planId: 'A', totalChunks: 3 })).toMatchObject({
      effect: { replans: 0 },
    });
    // The generation completing ends it too, and a COMPLETE class is never re-planned on a transfer's word.
    const last = { ...after, doneChunks: 2, doneIds: [0, 1] };
    const counted = decide(last, { type: 'chunkCounted', gen: 3, chunk: 2 });
    const done = apply(last, (counted as Extract<typeof counted, { kind: 'apply' }>).effect);
    expect(done).toMatchObject({ status: 'COMPLETE', replans: 0 });
    expect(decide(done, { type: 'replanRequested', gen: 3, replans: 0, max: 5 })).toEqual({
      kind: 'skip',
      why: 'complete',
    });
  });
});
