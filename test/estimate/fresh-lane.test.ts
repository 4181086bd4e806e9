import { describe, expect, it } from 'vitest';
import { freshnessModel, SEED_LIBRARY } from '../../src/estimate/fresh-lane.ts';

describe('the freshness model of a class ending mid-backfill (docs/SCALE.md)', () => {
  it("gives the seed's library's figures: a 915 MB class copied in 13 s on 5 workers, fresh in 7.7 min on average instead of 12.9", () => {
    const m = freshnessModel(SEED_LIBRARY);
    expect(m.classFiles).toBeCloseTo(3307.9, 1);
    expect(m.classBytes / 1e6).toBeCloseTo(915.0, 1);
    expect(m.workerMBpsShared).toBe(14.3);
    // 34 chunks in batches of 8: 5 invocations at once.
    expect(m.classWorkers).toBe(5);
    expect(m.classCopySeconds).toBeCloseTo(915.0 / (5 * 14.3), 1);
    expect(m.freshUtilisation).toBeCloseTo(((500 / 86_400) * 915.0) / (20 * 14.3), 4);
    expect(m.freshQueueSeconds).toBeCloseTo((m.freshUtilisation / (1 - m.freshUtilisation)) * m.classCopySeconds, 6);
    expect(m.backfillSeconds).toBeCloseTo(4.4377e6 / (500 * 14.3), 3);
    const pipeline = 1 + 0.3 + m.classCopySeconds;
    expect(m.withLanes.meanSeconds).toBeCloseTo(450 + pipeline + m.freshQueueSeconds, 6);
    expect(m.withLanes.worstSeconds).toBeCloseTo(900 + pipeline + m.freshQueueSeconds, 6);
    expect(m.withoutLanes.meanSeconds).toBeCloseTo(450 + pipeline + m.backfillSeconds / 2, 6);
    expect(m.withoutLanes.worstSeconds).toBeCloseTo(900 + pipeline + m.backfillSeconds, 6);
  });

  it('shares a bounding origin among every worker of both lanes, and the backfill among its own', () => {
    const m = freshnessModel({ ...SEED_LIBRARY, originMBps: 523, bulkConcurrency: 37 });
    expect(m.workerMBpsShared).toBeCloseTo(523 / 57, 6);
    expect(m.backfillSeconds).toBeCloseTo(4.4377e6 / 523, 3);
    expect(m.withoutLanes.meanSeconds / 3600).toBeGreaterThan(1.2);
    expect(m.withLanes.worstSeconds / 60).toBeLessThan(16);
  });

  it('a class with fewer chunks than a batch still has one worker; a lane smaller than a class caps it', () => {
    expect(freshnessModel({ ...SEED_LIBRARY, classes: 16_043_396 / 50 }).classWorkers).toBe(1);
    expect(freshnessModel({ ...SEED_LIBRARY, freshConcurrency: 3 }).classWorkers).toBe(3);
    expect(freshnessModel({ ...SEED_LIBRARY, batchSize: 34 }).classWorkers).toBe(1);
    expect(freshnessModel({ ...SEED_LIBRARY, batchSize: 33 }).classWorkers).toBe(2);
  });

  it('a fresh lane whose arrivals outrun it never catches up', () => {
    const full = freshnessModel({ ...SEED_LIBRARY, freshPerDay: 1e9 });
    expect(full.freshUtilisation).toBeGreaterThanOrEqual(1);
    expect(full.freshQueueSeconds).toBe(Infinity);
    const exactly = freshnessModel({ ...SEED_LIBRARY, freshPerDay: (86_400 * 20 * 14.3e6) / (4.4377e12 / 4_850) });
    expect(exactly.freshUtilisation).toBeCloseTo(1, 9);
  });
});
