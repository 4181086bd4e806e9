/**
 * The pure rules of DASH segment addressing (ISO/IEC 23009-1, 5.3.9): URL templates, segment
 * timelines, segment counts from durations, ISO 8601 durations. No XML, no URLs, no I/O: the
 * mutation target for DASH (scripts/mutation-targets.mjs).
 */

/** Why a template or a timeline cannot be expanded; the scanner turns it into a PlaylistError naming the manifest. */
export class DashRuleError extends Error {
  constructor(
    readonly code: 'NOT_A_PLAYLIST' | 'MANIFEST_UNSUPPORTED' | 'TOO_MANY_FILES',
    message: string,
  ) {
    super(message);
  }
}

/** The values a template's identifiers take for one segment; an identifier without a value is refused when met. */
export interface TemplateValues {
  RepresentationID?: string | undefined;
  Number?: number | bigint;
  Bandwidth?: number | bigint;
  Time?: number | bigint;
}

// $$ (a literal dollar), or $Identifier$ with an optional printf width "%0<n>d" (5.3.9.4.4, Table 16).
const IDENTIFIER = /\$(?:([A-Za-z]*)(?:%0(\d+)([a-zA-Z]))?)\$/g;
const NUMERIC = new Set(['Number', 'Bandwidth', 'Time']);

/**
 * Expands a SegmentTemplate's media/initialization/index attribute for one segment. `$$` is a
 * dollar; `%0Nd` pads a numeric identifier with zeros to N digits (never truncates). An unknown
 * identifier, a width on $RepresentationID$, a format other than `d`, or an identifier with no value
 * here (e.g. $Time$ in a template addressed by number only) is refused: a player could not request it either.
 */
export function expandTemplate(template: string, values: TemplateValues): string {
  return template.replace(IDENTIFIER, (whole, name: string, width: string | undefined, format: string | undefined) => {
    if (name === '' && width === undefined) return '$';
    const value = values[name as keyof TemplateValues];
    const known = NUMERIC.has(name)
      ? width === undefined || format === 'd'
      : name === 'RepresentationID' && width === undefined;
    if (!known) {
      throw new DashRuleError(
        'NOT_A_PLAYLIST',
        `template "${template}" has the identifier ${whole}, which DASH does not define (only $RepresentationID$, $Number$, $Bandwidth$, $Time$, with %0<width>d on the numeric ones)`,
      );
    }
    if (value === undefined) {
      throw new DashRuleError(
        'MANIFEST_UNSUPPORTED',
        `template "${template}" uses ${whole}, which has no value here (${name === 'Time' ? '$Time$ needs a SegmentTimeline' : `no ${name}`})`,
      );
    }
    const digits = String(value);
    return digits.padStart(Number(width ?? 0), '0');
  });
}

/** One <S> element as written: t, d and r as integers (r may be -1). */
export interface TimelineEntry {
  t?: bigint;
  d: bigint;
  r?: bigint;
}

/** One segment of a timeline: its start (in the timescale) and its number. */
export interface TimelineSegment {
  time: bigint;
  number: bigint;
}

/**
 * The segments a SegmentTimeline describes (5.3.9.6): each S starts at its @t, or where the
 * previous one ended; it repeats @r more times; @r="-1" repeats until the next S's @t or, for the
 * last S, until `end` (the period's end in the timescale, presentationTimeOffset included).
 * Numbers count from `startNumber`. Throws past `max` segments, before listing them.
 */
export function timelineSegments(
  entries: readonly TimelineEntry[],
  opts: { startNumber: bigint; end: bigint | undefined; max: number },
): TimelineSegment[] {
  const counts: bigint[] = [];
  let time = 0n;
  let total = 0n;
  const starts: bigint[] = [];
  entries.forEach((s, i) => {
    if (s.d <= 0n)
      throw new DashRuleError('NOT_A_PLAYLIST', `SegmentTimeline S #${i + 1} has d=${s.d}: it must be positive`);
    const start = s.t ?? time;
    const r = s.r ?? 0n;
    let count: bigint;
    if (r >= 0n) count = r + 1n;
    else if (r === -1n) {
      const next = entries[i + 1];
      const until = next?.t ?? (next === undefined ? opts.end : undefined);
      if (until === undefined)
        throw new DashRuleError(
          'MANIFEST_UNSUPPORTED',
          `SegmentTimeline S #${i + 1} repeats to the end (r="-1") but ${next ? 'the next S has no t' : 'the period has no known end (no Period@duration, next Period@start or MPD@mediaPresentationDuration)'}`,
        );
      // Ceiling: a last segment cut short by the end still exists.
      count = until > start ? (until - start + s.d - 1n) / s.d : 0n;
    } else
      throw new DashRuleError('NOT_A_PLAYLIST', `SegmentTimeline S #${i + 1} has r=${r}: only -1 or more is valid`);
    starts.push(start);
    counts.push(count);
    total += count;
    if (total > BigInt(opts.max))
      throw new DashRuleError(
        'TOO_MANY_FILES',
        `a SegmentTimeline lists more than ${opts.max} segments for one representation (DASH_MAX_SEGMENTS)`,
      );
    time = start + count * s.d;
  });
  const out: TimelineSegment[] = [];
  let number = opts.startNumber;
  entries.forEach((s, i) => {
    for (let k = 0n; k < counts[i]!; k++) {
      out.push({ time: starts[i]! + k * s.d, number });
      number++;
    }
  });
  return out;
}

/**
 * How many segments a template addressed by @duration has in a period (5.3.9.5.3): the period's
 * duration over the segment duration, rounded up (a last, shorter segment exists), capped by
 * @endNumber when given. Durations are in seconds; a tiny excess from decimal arithmetic is not a segment.
 */
export function templateSegmentCount(opts: {
  periodSeconds: number;
  segmentDuration: number;
  timescale: number;
  startNumber: number;
  endNumber?: number | undefined;
  max: number;
}): number {
  const { periodSeconds, segmentDuration, timescale, startNumber, endNumber, max } = opts;
  if (!(segmentDuration > 0) || !(timescale > 0))
    throw new DashRuleError(
      'NOT_A_PLAYLIST',
      `SegmentTemplate@duration=${segmentDuration} and @timescale=${timescale} must be positive`,
    );
  const ratio = (periodSeconds * timescale) / segmentDuration;
  // 1e-9 absorbs decimal-to-binary error (PT10.2S / 0.1 s is 101.99999999999999, not a 103rd segment).
  let count = Math.max(0, Math.ceil(ratio - 1e-9));
  if (endNumber !== undefined) count = Math.min(count, Math.max(0, endNumber - startNumber + 1));
  if (count > max)
    throw new DashRuleError(
      'TOO_MANY_FILES',
      `a SegmentTemplate gives ${count} segments for one representation, more than ${max} (DASH_MAX_SEGMENTS)`,
    );
  return count;
}

/**
 * An xs:duration as DASH writes them (`PT1H2M3.5S`, `P1DT2H`), in seconds. Years and months have no
 * fixed length and never appear in manifests: refused, as is anything else unreadable.
 */
export function parseDuration(text: string): number {
  const m =
    /^\s*(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?\s*$/.exec(
      text,
    );
  if (!m || /[PT]\s*$/.test(text) || m[1])
    throw new DashRuleError('NOT_A_PLAYLIST', `"${text}" is not a duration DASH manifests use (like PT1H2M3.5S)`);
  const [, , y, mo, d, h, min, s] = m;
  // Some packagers write "P0Y0M0DT..."; a year or a month of real length has no fixed number of seconds.
  if (Number(y ?? 0) !== 0 || Number(mo ?? 0) !== 0)
    throw new DashRuleError(
      'MANIFEST_UNSUPPORTED',
      `duration "${text}" counts years or months, which have no fixed length`,
    );
  return Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}

/** A non-negative integer attribute, as a bigint (timeline times outgrow 2^53 on 10 MHz clocks). */
export function parseUnsigned(text: string, what: string): bigint {
  if (!/^\s*\d+\s*$/.test(text)) throw new DashRuleError('NOT_A_PLAYLIST', `${what}="${text}" is not a whole number`);
  // BigInt reads past the spaces the pattern allows around the digits.
  return BigInt(text);
}

/** A byte range as DASH writes it (`first-last`, inclusive) in the `length@offset` form HLS references use. */
export function rangeOf(text: string): string {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text);
  if (!m) return text.trim();
  const first = BigInt(m[1]!);
  const last = BigInt(m[2]!);
  return last >= first ? `${last - first + 1n}@${first}` : text.trim();
}
