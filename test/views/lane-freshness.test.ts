import { describe, expect, it } from 'vitest';
import { describeLanes } from '../../src/cli/status-lanes.ts';
import { describeLaneFreshness, laneFreshness } from '../../src/views/lane-freshness.ts';
import { oldestOfInspection } from '../../src/adapters/sqs/queue.ts';

const now = new Date('2026-12-07T12:00:00.000Z');
const at = (h: number) => new Date(now.getTime() - h * 3_600_000).toISOString();

describe('freshness apart for fresh work and the backfill', () => {
  const records = [
    // Ended 1 h before it was first enqueued, completed 10 min later: fresh work.
    {
      classId: 'fresh',
      status: 'COMPLETE' as const,
      freshFrom: at(2),
      createdAt: at(1),
      completedAt: at(1.8),
      freshnessSeconds: 720,
    },
    // Ended a month before the backfill found it.
    {
      classId: 'old',
      status: 'COMPLETE' as const,
      freshFrom: at(720),
      createdAt: at(3),
      completedAt: at(1),
      freshnessSeconds: 2_588_400,
    },
    { classId: 'busy', status: 'TRANSFERRING' as const, freshFrom: at(2), createdAt: at(1) },
  ];

  it('splits the window by whether a class ended shortly before it was enqueued', () => {
    const split = laneFreshness(records, now, 24);
    expect([split.fresh.classes, split.fresh.worstClassId, split.fresh.medianSeconds]).toEqual([1, 'fresh', 720]);
    expect([split.backfill.classes, split.backfill.worstClassId]).toEqual([1, 'old']);
    expect(describeLaneFreshness(split)).toEqual([
      'fresh work: freshness (last 24 h, 1 class): median 12.0 min, p95 12.0 min, worst 12.0 min (fresh)',
      'backfill: freshness (last 24 h, 1 class): median 30.0 d, p95 30.0 d, worst 30.0 d (old)',
    ]);
  });

  it('prints both lanes of each queue with their depth and the oldest message', () => {
    const split = laneFreshness([], now, 24);
    expect(
      describeLanes(
        [
          { queue: 'transfer-fresh', lane: 'fresh', visible: 2, inFlight: 1, delayed: 0, oldestSeconds: 30 },
          { queue: 'transfer', lane: 'bulk', visible: 900, inFlight: 8, delayed: 3, oldestSeconds: 7200 },
          { queue: 'crawl', lane: 'bulk', error: 'no such queue' },
        ],
        split,
      )[0],
    ).toBe(
      'lanes: transfer-fresh 2 (+1 in flight), oldest 30 s · transfer 900 (+8 in flight) (+3 delayed), oldest 2.0 h · crawl ? (no such queue)',
    );
  });
});

describe('the oldest message of a local queue (fauxqs inspection, nothing received)', () => {
  it('is the earliest sent of ready, delayed and in-flight messages; null when empty; undefined for anything else', () => {
    const t = now.getTime();
    const body = {
      messages: {
        ready: [{ sentTimestamp: t - 5_000 }, { sentTimestamp: t - 1_000 }],
        delayed: [{ sentTimestamp: t - 2_000 }],
        inflight: [{ message: { sentTimestamp: t - 9_000 } }],
      },
    };
    expect(oldestOfInspection(body)).toBe(t - 9_000);
    expect(oldestOfInspection({ messages: { ready: [], delayed: [], inflight: [] } })).toBeNull();
    expect(oldestOfInspection({ error: 'not found' })).toBeUndefined();
    expect(oldestOfInspection(null)).toBeUndefined();
    expect(
      oldestOfInspection({
        messages: {
          ready: Array.from({ length: 200_000 }, (_, i) => ({ sentTimestamp: t - i })),
          delayed: [],
          inflight: [],
        },
      }),
    ).toBe(t - 199_999);
  });
});
