/**
 * The freshness line the page and `status --watch` show (issue 21, item 3): the 24-hour median, p95
 * and worst, from each class's end (or the change that started its copy) to COMPLETE. Pure.
 */
import { formatSeconds, type FreshnessSummary } from '../views/freshness.ts';

export function freshnessHeadline(f: FreshnessSummary | undefined): string {
  if (!f) return '';
  const span = `last ${f.windowHours} h`;
  if (f.classes === 0) return `Freshness (class end → COMPLETE, ${span}): no class completed`;
  const classes = `${f.classes} ${f.classes === 1 ? 'class' : 'classes'}`;
  return `Freshness (class end → COMPLETE, ${span}, ${classes}): median ${formatSeconds(f.medianSeconds)}, p95 ${formatSeconds(f.p95Seconds)}, worst ${formatSeconds(f.worstSeconds)} (${f.worstClassId})`;
}

/** One class's freshness, for its row: "fresh in 22 s". Empty until it has one. */
export function classFreshness(seconds: number | undefined): string {
  return seconds === undefined ? '' : `fresh in ${formatSeconds(seconds)}`;
}
