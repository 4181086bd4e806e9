// The crawl's decisions, pure: whether a job crawls at all, what a change check's finding means, whether
// a class with growing playlists waits or is copied as it stands, and which files a new plan no longer
// has. runCrawl (src/pipeline/crawler.ts) reads the ledger and the origin, asks these, and writes.
// Each takes the clock's value as an argument: a decision never reads the time itself.
import type { ClassStatus } from '../lifecycle/class-lifecycle.ts';
import { plausibleInstant } from '../lifecycle/class-dates.ts';

/** What of a class record the crawl's decisions read. */
export interface CrawledClass {
  status?: ClassStatus;
  gen?: number;
  planId?: string;
  /** When the class was first seen waiting for growing playlists. */
  waitingSince?: string;
  /** Files earlier generations copied that later plans no longer have. */
  removedFiles?: string[];
}

/**
 * What a crawl job does before it reads the origin: `check` (a change check of a COMPLETE class),
 * `not-checked` (a change check of a class not COMPLETE: a copy under way reads the origin as it is now,
 * a FAILED class waits for its redrive), `already-complete` (a plain crawl of a COMPLETE class, not
 * forced), or `crawl`.
 */
export function admitCrawl(
  job: { recheck?: boolean | undefined; force?: boolean | undefined },
  existing: CrawledClass | undefined,
): 'check' | 'not-checked' | 'already-complete' | 'crawl' {
  if (job.recheck) return existing?.status === 'COMPLETE' && existing.gen ? 'check' : 'not-checked';
  return existing?.status === 'COMPLETE' && !job.force ? 'already-complete' : 'crawl';
}

/** What a change check of the origin found (src/pipeline/recheck.ts). */
export interface CheckFinding {
  changed: boolean;
  checked: number;
  unknown: number;
  gone: readonly string[];
}

/** Files the check found gone at the origin: kept in the bucket (their copies are the generation's), listed on the class. */
export interface GoneList {
  count: number;
  keys: string[];
}

/**
 * What a change check's finding decides: `changed` (copy again), `unchanged` (record `note` and stop), or
 * `compare-plans` (some files were copied before sources were recorded and cannot be asked about: the
 * crawl compares plans instead).
 */
export function judgeCheck(
  check: CheckFinding,
): { verdict: 'changed' | 'compare-plans'; gone: GoneList } | { verdict: 'unchanged'; gone: GoneList; note: string } {
  const gone = { count: check.gone.length, keys: [...check.gone].sort() };
  if (check.changed) return { verdict: 'changed', gone };
  if (check.unknown > 0) return { verdict: 'compare-plans', gone };
  const goneNote = gone.count ? `; ${gone.count} gone at the origin, kept in the bucket` : '';
  return { verdict: 'unchanged', gone, note: `unchanged: ${check.checked} file(s) asked${goneNote}` };
}

/** What the check records on the class when it found a change (the first differences, or the plan's). */
export function changedNote(changes: readonly string[] | undefined): string {
  return `changed: ${changes?.join('; ') || 'the plan differs'}`;
}

/** A class with growing playlists: what the crawl knows of it and of the grace period. */
export interface GrowingClass {
  /** The growing playlists (no EXT-X-ENDLIST) and dynamic DASH manifests the enumeration found. */
  growing: readonly string[];
  /** The class's end, when plausible (judged by judgeEndedAt). */
  endedAt?: string | undefined;
  /** Why the catalog's end was not believed, if it was not. */
  endedWarning?: string | undefined;
  /** The record's `waitingSince`. */
  waitingSince?: string | undefined;
  /** When the job was requested. */
  requestedAt?: string | undefined;
  graceSeconds: number;
}

/**
 * Whether a class whose playlists may still grow waits (and is crawled again until `until`) or is copied
 * as it stands, with a warning, once the grace period is over. The grace period runs from the class's
 * end; without a plausible one, from when it was first seen waiting (never from this crawl's clock: every
 * redelivery and every re-sent job would start it again). No growing playlist: `copy` without a warning.
 */
export function decideGrowing(
  c: GrowingClass,
  now: Date,
): { action: 'copy'; warning?: string } | { action: 'wait'; until: string; since: string; reason: string } {
  if (c.growing.length === 0) return { action: 'copy' };
  const since = firstSeenWaiting(c.waitingSince, c.requestedAt, now);
  const graceEnds = Date.parse(c.endedAt ?? since) + c.graceSeconds * 1000;
  const what = `${c.growing.length} media playlist(s) have no EXT-X-ENDLIST or DASH manifest(s) are dynamic (e.g. ${c.growing[0]})`;
  if (now.getTime() < graceEnds) {
    const until = new Date(graceEnds).toISOString();
    const reason = `waiting: ${what}; crawled again until ${until}${c.endedWarning ? `; ${c.endedWarning}` : ''}`;
    return { action: 'wait', until, since, reason };
  }
  const after = c.endedAt ? 'the class ended' : 'it was first seen waiting';
  return { action: 'copy', warning: `copied as it stood ${c.graceSeconds / 60} min after ${after}: ${what}` };
}

/**
 * When a class without a plausible end was first seen waiting: the earliest of the record's
 * `waitingSince`, the job's request time and now (a date in the future is not believed).
 */
export function firstSeenWaiting(recorded: string | undefined, requestedAt: string | undefined, now: Date): string {
  let first = now.getTime();
  for (const v of [recorded, requestedAt]) first = Math.min(first, plausibleInstant(v, now) ?? Infinity);
  return new Date(first).toISOString();
}

/**
 * Whether a new plan must list the files an earlier generation copied that it no longer has: there is
 * an earlier generation, and the plan differs, is forced, or follows a change found.
 */
export function listsRemoved(existing: CrawledClass | undefined, planId: string, renewed: boolean): boolean {
  return Boolean(existing?.gen && (existing.planId !== planId || renewed));
}

/**
 * The files earlier generations copied that the plan no longer has (the class's list so far and what the
 * current generation landed), sorted: listed on the class, never deleted from the bucket.
 */
export function removedFiles(
  earlier: readonly string[] | undefined,
  landed: readonly string[],
  planned: readonly string[],
): string[] {
  const keep = new Set(planned);
  return [...new Set([...(earlier ?? []), ...landed])].filter((k) => !keep.has(k)).sort();
}
