import { describe, expect, it } from 'vitest';
import { describeFreshness, formatSeconds, freshnessSummary, percentile } from '../../src/views/freshness.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const at = (hoursAgo: number) => new Date(NOW.getTime() - hoursAgo * 3_600_000).toISOString();

describe('freshness summary', () => {
  it('takes the median, nearest-rank p95 and worst of the classes completed in the last 24 hours', () => {
    const records = [
      ...Array.from({ length: 19 }, (_, i) => ({
        classId: `c${i}`,
        status: 'COMPLETE' as const,
        completedAt: at(1),
        freshnessSeconds: 10 + i,
      })),
      { classId: 'slow', status: 'COMPLETE' as const, completedAt: at(2), freshnessSeconds: 900 },
      // Outside the window, not complete, or without a figure: not counted.
      { classId: 'old', status: 'COMPLETE' as const, completedAt: at(25), freshnessSeconds: 5000 },
      { classId: 'moving', status: 'TRANSFERRING' as const, completedAt: undefined, freshnessSeconds: undefined },
      { classId: 'legacy', status: 'COMPLETE' as const, completedAt: at(1), freshnessSeconds: undefined },
    ];
    const f = freshnessSummary(records, NOW);
    expect(f).toEqual({
      windowHours: 24,
      asOf: NOW.toISOString(),
      classes: 20,
      medianSeconds: 19.5,
      p95Seconds: 28,
      worstSeconds: 900,
      worstClassId: 'slow',
    });
    expect(describeFreshness(f)).toBe(
      'freshness (last 24 h, 20 classes): median 20 s, p95 28 s, worst 15.0 min (slow)',
    );
    expect(describeFreshness(freshnessSummary([], NOW))).toBe('freshness (last 24 h): no class completed');
  });

  it('computes nearest-rank percentiles and formats durations for people', () => {
    expect([50, 95, 100].map((p) => percentile([1, 2, 3, 4], p))).toEqual([2, 4, 4]);
    expect(percentile([], 95)).toBeUndefined();
    expect([3.25, 42, 125, 7200, 3 * 86_400, undefined].map(formatSeconds)).toEqual([
      '3.3 s',
      '42 s',
      '2.1 min',
      '2.0 h',
      '3.0 d',
      '-',
    ]);
  });
});
