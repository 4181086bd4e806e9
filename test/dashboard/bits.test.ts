// The bit field of status.json and `flants status --json` (docs/ledger.md, "The bit field").
import { describe, expect, it } from 'vitest';
import { bitAt, classBits, encodeBits, toClassView } from '../../src/views/report.ts';

describe('encodeBits / bitAt', () => {
  it('puts bit 0 in the most significant bit of the first hex digit', () => {
    // The example of docs/ledger.md: chunks 0, 1, 2, 4 done, chunk 7 failed, of 10.
    expect(encodeBits(10, [0, 1, 2, 4])).toBe('e80');
    expect(encodeBits(10, [7])).toBe('010');
    expect(encodeBits(1, [0])).toBe('8');
    expect(encodeBits(4, [3])).toBe('1');
    expect(encodeBits(0, [])).toBe('');
    expect(encodeBits(5, [])).toBe('00');
  });

  it('ignores ids outside the field rather than widening it', () => {
    expect(encodeBits(3, [-1, 3, 99, 1.5, 2])).toBe('2');
  });

  it('reads back every bit it wrote', () => {
    const total = 1003;
    const ids = Array.from({ length: total }, (_, i) => i).filter((i) => (i * 7919) % 5 < 2);
    const hex = encodeBits(total, ids);
    expect(hex).toHaveLength(Math.ceil(total / 4));
    const read = Array.from({ length: total }, (_, i) => i).filter((i) => bitAt(hex, i));
    expect(read).toEqual(ids);
  });
});

describe('classBits', () => {
  it('is undefined before the first plan, and per chunk after it', () => {
    expect(classBits({ status: 'PENDING' })).toBeUndefined();
    expect(
      classBits({ status: 'TRANSFERRING', gen: 1, totalChunks: 6, doneChunkIds: [0, 5], failedChunkIds: [2] }),
    ).toEqual({
      unit: 'chunk',
      total: 6,
      done: '84',
      failed: '20',
    });
  });

  it('shows a COMPLETE generation all done, also when it was counted before doneSet existed', () => {
    expect(classBits({ status: 'COMPLETE', gen: 2, completedGen: 2, totalChunks: 5, doneChunkIds: [] })).toEqual({
      unit: 'chunk',
      total: 5,
      done: 'f8',
      failed: '00',
    });
  });

  it('is carried by the class view (status --json, report --json)', () => {
    const v = toClassView({
      classId: 'c',
      status: 'FAILED',
      gen: 1,
      totalChunks: 2,
      totalFiles: 30,
      doneChunkIds: [0],
      failedChunkIds: [1],
    });
    expect(v.bits).toEqual({ unit: 'chunk', total: 2, done: '8', failed: '4' });
    // Present for scripts even before a plan: null, not missing.
    expect(JSON.parse(JSON.stringify(toClassView({ classId: 'p', status: 'PENDING' })))).toHaveProperty('bits', null);
  });
});
