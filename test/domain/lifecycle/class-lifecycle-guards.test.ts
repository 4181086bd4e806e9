// A decision's guard is the condition of the ledger's write: it is checked against the record as
// stored, which another delivery may have changed since the decision read it. So every clause must
// refuse the records it names, not only hold for the one read.
import { describe, expect, it } from 'vitest';
import { holds, NO_RECORD, type ClassState, type Guard } from '../../../src/domain/lifecycle/class-lifecycle.ts';

const copying: ClassState = {
  status: 'TRANSFERRING',
  gen: 2,
  planId: 'A',
  totalChunks: 4,
  doneChunks: 2,
  doneIds: [0, 1],
  failed: [3],
};

describe('holds: each clause refuses what it excludes', () => {
  it('exists: a record, or none', () => {
    expect(holds({ exists: true }, copying)).toBe(true);
    expect(holds({ exists: true }, NO_RECORD)).toBe(false);
    expect(holds({ exists: false }, NO_RECORD)).toBe(true);
    expect(holds({ exists: false }, copying)).toBe(false);
  });

  it('statusIn: only the statuses listed, never a missing record', () => {
    expect(holds({ statusIn: ['TRANSFERRING', 'FAILED'] }, copying)).toBe(true);
    expect(holds({ statusIn: ['FAILED'] }, copying)).toBe(false);
    expect(holds({ statusIn: ['PENDING', 'CRAWLING', 'TRANSFERRING', 'COMPLETE', 'FAILED'] }, NO_RECORD)).toBe(false);
  });

  it('statusNot: any status but those listed, and a missing record (DynamoDB reads <> on nothing as true)', () => {
    expect(holds({ statusNot: ['COMPLETE'] }, copying)).toBe(true);
    expect(holds({ statusNot: ['COMPLETE', 'TRANSFERRING'] }, copying)).toBe(false);
    expect(holds({ statusNot: ['COMPLETE'] }, NO_RECORD)).toBe(true);
  });

  it('gen: exactly that generation', () => {
    expect(holds({ gen: 2 }, copying)).toBe(true);
    expect(holds({ gen: 1 }, copying)).toBe(false);
    expect(holds({ gen: 3 }, copying)).toBe(false);
    expect(holds({ gen: 0 }, copying)).toBe(false);
  });

  it('progress: "last" only with exactly one chunk left, "notLast" only with more', () => {
    const left = (n: number): ClassState => ({ ...copying, failed: [], doneChunks: 4 - n });
    expect(holds({ progress: 'last' }, left(1))).toBe(true);
    expect(holds({ progress: 'last' }, left(2))).toBe(false);
    expect(holds({ progress: 'last' }, left(0))).toBe(false);
    expect(holds({ progress: 'notLast' }, left(2))).toBe(true);
    expect(holds({ progress: 'notLast' }, left(1))).toBe(false);
    expect(holds({ progress: 'notLast' }, left(0))).toBe(false);
  });

  it('chunkFailed: the chunk is, or is not, in the failed set', () => {
    expect(holds({ chunkFailed: { chunk: 3, is: true } }, copying)).toBe(true);
    expect(holds({ chunkFailed: { chunk: 3, is: false } }, copying)).toBe(false);
    expect(holds({ chunkFailed: { chunk: 2, is: false } }, copying)).toBe(true);
    expect(holds({ chunkFailed: { chunk: 2, is: true } }, copying)).toBe(false);
  });

  it('failedCount: exactly that many failed chunks', () => {
    expect(holds({ failedCount: 1 }, copying)).toBe(true);
    expect(holds({ failedCount: 0 }, copying)).toBe(false);
    expect(holds({ failedCount: 2 }, copying)).toBe(false);
  });

  it('crawlError: one stands, or none does', () => {
    const erred = { ...copying, crawlError: 'origin down' };
    expect(holds({ crawlError: true }, erred)).toBe(true);
    expect(holds({ crawlError: true }, copying)).toBe(false);
    expect(holds({ crawlError: false }, copying)).toBe(true);
    expect(holds({ crawlError: false }, erred)).toBe(false);
  });

  it('notAllDone: refuses a planned generation with every chunk done, not one before its plan', () => {
    const allDone: ClassState = { ...copying, status: 'COMPLETE', doneChunks: 4, doneIds: [0, 1, 2, 3], failed: [] };
    expect(holds({ notAllDone: true }, allDone)).toBe(false);
    expect(holds({ notAllDone: true }, { ...allDone, doneChunks: 5 })).toBe(false);
    expect(holds({ notAllDone: true }, copying)).toBe(true);
    expect(holds({ notAllDone: true }, NO_RECORD)).toBe(true);
  });

  it('chunkUndone: refuses a chunk already counted in this generation', () => {
    expect(holds({ chunkUndone: 2 }, copying)).toBe(true);
    expect(holds({ chunkUndone: 1 }, copying)).toBe(false);
    // The stored record keeps counts only: the chunk's own record answers there.
    expect(holds({ chunkUndone: 1 }, { ...copying, doneIds: undefined })).toBe(true);
  });

  it('every clause must hold: one refusing clause refuses the whole guard', () => {
    const guard: Guard = { exists: true, gen: 2, statusNot: ['COMPLETE'], failedCount: 1, chunkUndone: 2 };
    expect(holds(guard, copying)).toBe(true);
    for (const refusing of [
      { gen: 1 },
      { failedCount: 0 },
      { chunkUndone: 0 },
      { statusNot: ['TRANSFERRING'] as const },
    ])
      expect(holds({ ...guard, ...refusing }, copying), JSON.stringify(refusing)).toBe(false);
    expect(holds({}, NO_RECORD)).toBe(true);
  });
});
