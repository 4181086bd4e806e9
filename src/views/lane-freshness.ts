import { wasFresh } from '../domain/lifecycle/lanes.ts';
import type { ClassRecord } from '../domain/ledger/records.ts';
import { describeFreshness, freshnessSummary, type FreshnessSummary } from './freshness.ts';

/**
 * Freshness apart for fresh work and the backfill: a backfill's classes ended long before they were
 * copied, and mixed in they would hide how soon a class that ended during the backfill was playable.
 */
export interface LaneFreshness {
  /** Classes whose end (or change) was at most FRESH_WITHIN_HOURS before they were first enqueued. */
  fresh: FreshnessSummary;
  /** Every other class completed in the window: the backfill. */
  backfill: FreshnessSummary;
}

type Rec = Pick<ClassRecord, 'classId' | 'status' | 'completedAt' | 'freshnessSeconds' | 'freshFrom' | 'createdAt'>;

/** The window's freshness (24 h), split by `wasFresh`. */
export function laneFreshness(records: readonly Rec[], now: Date, freshWithinHours: number): LaneFreshness {
  const fresh = records.filter((r) => wasFresh(r, freshWithinHours));
  const backfill = records.filter((r) => !wasFresh(r, freshWithinHours));
  return { fresh: freshnessSummary(fresh, now), backfill: freshnessSummary(backfill, now) };
}

/** Two lines for status and the dashboard: fresh work first. */
export function describeLaneFreshness(f: LaneFreshness): string[] {
  return [`fresh work: ${describeFreshness(f.fresh)}`, `backfill: ${describeFreshness(f.backfill)}`];
}
