/**
 * Which class end dates FLAnts believes. Pure: the caller passes its clock. Catalogs default an
 * unknown end to the epoch (`new Date(0)`) or carry one in the future; taken at its word, the first
 * gives 56-year freshness figures and no grace period, the second a grace period that never ends.
 * Both are treated as missing, with a warning that says why. This module has no imports so that the
 * scanner (through class-rules.ts), the crawler and the ledger can all apply the one rule without
 * loading the MongoDB driver.
 */

/** Ends before this instant are catalog defaults or typos, not real classes. */
export const EARLIEST_PLAUSIBLE_END = Date.UTC(2000, 0, 1);
/** How far ahead of the clock an end may be: clocks disagree by seconds, catalogs by time zones, not by more. */
export const MAX_END_AHEAD_MS = 24 * 3_600_000;

/** A judged end: `endedAt` (normalized ISO) when plausible; `warning` when one was given but is not believed. */
export interface EndedAtVerdict {
  endedAt?: string;
  warning?: string;
}

/** The instant `value` names (ms), when it is a date from 2000 up to a day past `now`; else undefined. */
export function plausibleInstant(value: string | undefined, now: Date): number | undefined {
  const at = Date.parse(value ?? '');
  return at >= EARLIEST_PLAUSIBLE_END && at <= now.getTime() + MAX_END_AHEAD_MS ? at : undefined;
}

/** Judges a class's end date against `now`; a missing value is neither kept nor warned about. */
export function judgeEndedAt(value: string | undefined, now: Date): EndedAtVerdict {
  if (value === undefined || value === '') return {};
  const at = Date.parse(value);
  if (!Number.isFinite(at))
    return { warning: `endedAt ${JSON.stringify(value.slice(0, 64))} is not a date; treated as missing` };
  if (plausibleInstant(value, now) === undefined)
    return {
      warning: `endedAt ${value.slice(0, 64)} is implausible (before 2000 or more than a day in the future); treated as missing`,
    };
  return { endedAt: new Date(at).toISOString() };
}

/** Seconds (millisecond precision) from `from` to `to`; undefined when either is not a date. */
export function secondsBetween(from: string | undefined, to: string): number | undefined {
  // Stryker disable next-line StringLiteral: any string that is no date parses to NaN, as '' does
  const a = Date.parse(from ?? '');
  const b = Date.parse(to);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return undefined;
  return Math.max(0, b - a) / 1000;
}

/**
 * What freshness counts from for a stored class record: its generation's start, else the class's end, else
 * its first record. A date the end-date rule does not believe (an epoch default a ledger stored before the
 * rule) gives way to the first record, so no figure is 56 years long. Every ledger adapter applies this one rule.
 */
export function freshFromOf(
  dates: { freshFrom?: unknown; endedAt?: unknown; createdAt?: unknown } | undefined,
  at: string,
): string | undefined {
  for (const v of [dates?.freshFrom, dates?.endedAt, dates?.createdAt])
    if (typeof v === 'string' && plausibleInstant(v, new Date(at)) !== undefined) return v;
  return typeof dates?.createdAt === 'string' ? dates.createdAt : undefined;
}
