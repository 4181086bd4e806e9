import type { ClassRecord } from '../domain/ledger/records.ts';

/** Freshness over a window: how long classes took from their end (or the change that started their copy) to COMPLETE. */
export interface FreshnessSummary {
  /** The window, in hours, ending at `asOf`. */
  windowHours: number;
  asOf: string;
  /** Classes that completed in the window with a freshness recorded. */
  classes: number;
  medianSeconds: number | undefined;
  /** Nearest-rank 95th percentile. */
  p95Seconds: number | undefined;
  worstSeconds: number | undefined;
  worstClassId: string | undefined;
}

/** The median of sorted values (mean of the middle two for an even count). */
function median(sorted: readonly number[]): number | undefined {
  if (sorted.length === 0) return undefined;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile of sorted values: the smallest value with at least p% of values at or below it. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

/** Median, p95 and worst freshness of the classes that completed within the last `windowHours` (24 by default). */
export function freshnessSummary(
  records: ReadonlyArray<Pick<ClassRecord, 'classId' | 'status' | 'completedAt' | 'freshnessSeconds'>>,
  now: Date = new Date(),
  windowHours = 24,
): FreshnessSummary {
  const from = now.getTime() - windowHours * 3_600_000;
  const inWindow = records.filter(
    (r) => r.status === 'COMPLETE' && typeof r.freshnessSeconds === 'number' && Date.parse(r.completedAt ?? '') >= from,
  );
  const sorted = inWindow.map((r) => r.freshnessSeconds!).sort((a, b) => a - b);
  const worst = inWindow.reduce<(typeof inWindow)[number] | undefined>(
    (w, r) => (w === undefined || r.freshnessSeconds! > w.freshnessSeconds! ? r : w),
    undefined,
  );
  return {
    windowHours,
    asOf: now.toISOString(),
    classes: sorted.length,
    medianSeconds: median(sorted),
    p95Seconds: percentile(sorted, 95),
    worstSeconds: worst?.freshnessSeconds,
    worstClassId: worst?.classId,
  };
}

/** A duration for people: 42 s, 3.5 min, 2.1 h, 3.0 d. */
export function formatSeconds(s: number | undefined): string {
  if (s === undefined) return '-';
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  if (s < 86_400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}

/** One line about the window's freshness, for `status`, `report` and the demo. */
export function describeFreshness(f: FreshnessSummary): string {
  if (f.classes === 0) return `freshness (last ${f.windowHours} h): no class completed`;
  return `freshness (last ${f.windowHours} h, ${f.classes} ${f.classes === 1 ? 'class' : 'classes'}): median ${formatSeconds(f.medianSeconds)}, p95 ${formatSeconds(f.p95Seconds)}, worst ${formatSeconds(f.worstSeconds)} (${f.worstClassId})`;
}
