// The pure DASH addressing rules (src/dash/template.ts): unit tests at every boundary, then properties
// against a simple reference computation (a plain loop, one segment at a time).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DashRuleError,
  expandTemplate,
  parseDuration,
  parseUnsigned,
  rangeOf,
  templateSegmentCount,
  timelineSegments,
  type TimelineEntry,
} from '../../src/dash/template.ts';

function thrown(f: () => unknown): DashRuleError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(DashRuleError);
    return err as DashRuleError;
  }
  throw new Error('expected a DashRuleError');
}

describe('expandTemplate', () => {
  it('substitutes each identifier, $$ and zero-padded widths', () => {
    const v = { RepresentationID: 'v1', Number: 7, Bandwidth: 128000, Time: 900n };
    expect(expandTemplate('$RepresentationID$/$Number$.m4s', v)).toBe('v1/7.m4s');
    expect(expandTemplate('seg-$Number%05d$.m4s', v)).toBe('seg-00007.m4s');
    expect(expandTemplate('$Bandwidth$-$Time%03d$', v)).toBe('128000-900');
    expect(expandTemplate('t$Time%02d$', v)).toBe('t900'); // a width pads, never truncates
    expect(expandTemplate('a$$b$$$Number$', v)).toBe('a$b$7');
    expect(expandTemplate('plain.mp4', {})).toBe('plain.mp4');
  });

  it('refuses unknown identifiers, widths on $RepresentationID$ and formats other than d', () => {
    expect(thrown(() => expandTemplate('$Foo$', {})).code).toBe('NOT_A_PLAYLIST');
    expect(thrown(() => expandTemplate('$RepresentationID%05d$', { RepresentationID: 'a' })).code).toBe(
      'NOT_A_PLAYLIST',
    );
    expect(thrown(() => expandTemplate('$Number%05x$', { Number: 1 })).code).toBe('NOT_A_PLAYLIST');
    expect(thrown(() => expandTemplate('$SubNumber$', { Number: 1 })).message).toContain('$SubNumber$');
  });

  it('a width without an identifier is no dollar but an unknown identifier', () => {
    const e = thrown(() => expandTemplate('s$%05d$.m4s', { Number: 1 }));
    expect(e.code).toBe('NOT_A_PLAYLIST');
    expect(e.message).toContain('the identifier $%05d$, which DASH does not define');
  });

  it('refuses an identifier that has no value here, saying why', () => {
    const e = thrown(() => expandTemplate('$Time$.m4s', { Number: 1 }));
    expect(e.code).toBe('MANIFEST_UNSUPPORTED');
    expect(e.message).toContain('$Time$ needs a SegmentTimeline');
    expect(thrown(() => expandTemplate('$RepresentationID$', {})).code).toBe('MANIFEST_UNSUPPORTED');
    expect(thrown(() => expandTemplate('$Bandwidth$', {})).message).toContain('no Bandwidth');
  });
});

describe('timelineSegments', () => {
  const seg = (time: number, number: number) => ({ time: BigInt(time), number: BigInt(number) });

  it('starts at 0, follows t and repeats r times more', () => {
    expect(timelineSegments([{ d: 10n, r: 2n }, { d: 5n }], { startNumber: 1n, end: undefined, max: 100 })).toEqual([
      seg(0, 1),
      seg(10, 2),
      seg(20, 3),
      seg(30, 4),
    ]);
    expect(
      timelineSegments(
        [
          { t: 100n, d: 10n },
          { t: 500n, d: 4n },
        ],
        { startNumber: 5n, end: undefined, max: 100 },
      ),
    ).toEqual([seg(100, 5), seg(500, 6)]);
  });

  it('r="-1" repeats up to the next t, or up to the end, a cut-short last segment included', () => {
    const entries: TimelineEntry[] = [
      { t: 0n, d: 10n, r: -1n },
      { t: 30n, d: 7n, r: -1n },
    ];
    expect(timelineSegments(entries, { startNumber: 1n, end: 44n, max: 100 })).toEqual([
      seg(0, 1),
      seg(10, 2),
      seg(20, 3),
      seg(30, 4),
      seg(37, 5),
    ]);
    expect(timelineSegments([{ d: 10n, r: -1n }], { startNumber: 0n, end: 30n, max: 100 })).toHaveLength(3);
    expect(timelineSegments([{ d: 10n, r: -1n }], { startNumber: 0n, end: 31n, max: 100 })).toHaveLength(4);
    expect(timelineSegments([{ t: 50n, d: 10n, r: -1n }], { startNumber: 0n, end: 50n, max: 100 })).toEqual([]);
  });

  it('refuses r="-1" with no end, r below -1, d of 0, and more than max segments', () => {
    expect(thrown(() => timelineSegments([{ d: 1n, r: -1n }], { startNumber: 1n, end: undefined, max: 9 })).code).toBe(
      'MANIFEST_UNSUPPORTED',
    );
    expect(
      thrown(() => timelineSegments([{ d: 1n, r: -1n }, { d: 1n }], { startNumber: 1n, end: 9n, max: 9 })).message,
    ).toContain('the next S has no t');
    expect(thrown(() => timelineSegments([{ d: 1n, r: -2n }], { startNumber: 1n, end: 9n, max: 9 })).code).toBe(
      'NOT_A_PLAYLIST',
    );
    expect(thrown(() => timelineSegments([{ d: 0n }], { startNumber: 1n, end: 9n, max: 9 })).code).toBe(
      'NOT_A_PLAYLIST',
    );
    expect(timelineSegments([{ d: 1n, r: 8n }], { startNumber: 1n, end: undefined, max: 9 })).toHaveLength(9);
    expect(thrown(() => timelineSegments([{ d: 1n, r: 9n }], { startNumber: 1n, end: undefined, max: 9 })).code).toBe(
      'TOO_MANY_FILES',
    );
    // The cap is checked before listing: a huge r costs nothing.
    expect(
      thrown(() => timelineSegments([{ d: 1n, r: 10n ** 15n }], { startNumber: 1n, end: undefined, max: 9 })).code,
    ).toBe('TOO_MANY_FILES');
  });

  it('names the S at fault by its position, from 1', () => {
    const opts = { startNumber: 1n, end: undefined, max: 9 };
    expect(thrown(() => timelineSegments([{ d: 1n }, { d: 0n }], opts)).message).toBe(
      'SegmentTimeline S #2 has d=0: it must be positive',
    );
    expect(thrown(() => timelineSegments([{ d: 1n }, { d: 1n, r: -2n }], opts)).message).toBe(
      'SegmentTimeline S #2 has r=-2: only -1 or more is valid',
    );
    expect(thrown(() => timelineSegments([{ d: 1n }, { d: 1n, r: -1n }], opts)).message).toBe(
      'SegmentTimeline S #2 repeats to the end (r="-1") but the period has no known end (no Period@duration, next Period@start or MPD@mediaPresentationDuration)',
    );
    expect(thrown(() => timelineSegments([{ d: 1n, r: 9n }], opts)).message).toBe(
      'a SegmentTimeline lists more than 9 segments for one representation (DASH_MAX_SEGMENTS)',
    );
  });

  it('r="-1" up to a t before its start repeats no time, never a negative count that lets later S past the cap', () => {
    const entries: TimelineEntry[] = [
      { t: 100n, d: 10n, r: -1n },
      { t: 50n, d: 1n, r: 2n },
    ];
    expect(timelineSegments(entries, { startNumber: 1n, end: undefined, max: 3 })).toEqual([
      seg(50, 1),
      seg(51, 2),
      seg(52, 3),
    ]);
    expect(thrown(() => timelineSegments(entries, { startNumber: 1n, end: undefined, max: 2 })).code).toBe(
      'TOO_MANY_FILES',
    );
  });

  it('keeps times past 2^53 exact', () => {
    const t = 2n ** 60n + 1n;
    expect(timelineSegments([{ t, d: 3n, r: 1n }], { startNumber: 1n, end: undefined, max: 9 })).toEqual([
      { time: t, number: 1n },
      { time: t + 3n, number: 2n },
    ]);
  });
});

describe('templateSegmentCount', () => {
  const base = { timescale: 1000, startNumber: 1, max: 1000 };
  it('rounds the period over the segment duration up', () => {
    expect(templateSegmentCount({ ...base, periodSeconds: 8, segmentDuration: 4000 })).toBe(2);
    expect(templateSegmentCount({ ...base, periodSeconds: 8.001, segmentDuration: 4000 })).toBe(3);
    expect(templateSegmentCount({ ...base, periodSeconds: 7.999, segmentDuration: 4000 })).toBe(2);
    expect(templateSegmentCount({ ...base, periodSeconds: 0, segmentDuration: 4000 })).toBe(0);
    // 10.2 s of 0.1 s segments: 102, not the 103 that binary rounding would give.
    expect(templateSegmentCount({ ...base, periodSeconds: 10.2, segmentDuration: 100 })).toBe(102);
  });

  it('stops at endNumber', () => {
    expect(templateSegmentCount({ ...base, periodSeconds: 40, segmentDuration: 4000, endNumber: 3 })).toBe(3);
    expect(
      templateSegmentCount({ ...base, startNumber: 5, periodSeconds: 40, segmentDuration: 4000, endNumber: 6 }),
    ).toBe(2);
    expect(
      templateSegmentCount({ ...base, startNumber: 5, periodSeconds: 40, segmentDuration: 4000, endNumber: 4 }),
    ).toBe(0);
    expect(templateSegmentCount({ ...base, periodSeconds: 8, segmentDuration: 4000, endNumber: 10 })).toBe(2);
  });

  it('a zero or negative duration or timescale is no manifest, not a count too large', () => {
    for (const [segmentDuration, timescale] of [
      [0, 1000],
      [-4000, 1000],
      [4000, -1],
    ] as const) {
      const e = thrown(() => templateSegmentCount({ ...base, timescale, periodSeconds: 8, segmentDuration }));
      expect(e.code).toBe('NOT_A_PLAYLIST');
      expect(e.message).toBe(
        `SegmentTemplate@duration=${segmentDuration} and @timescale=${timescale} must be positive`,
      );
    }
  });

  it('refuses non-positive durations and timescales, and more than max', () => {
    expect(() => templateSegmentCount({ ...base, periodSeconds: 8, segmentDuration: 0 })).toThrow(DashRuleError);
    expect(() => templateSegmentCount({ ...base, timescale: 0, periodSeconds: 8, segmentDuration: 1 })).toThrow(
      /timescale=0/,
    );
    expect(templateSegmentCount({ ...base, max: 2, periodSeconds: 8, segmentDuration: 4000 })).toBe(2);
    expect(thrown(() => templateSegmentCount({ ...base, max: 1, periodSeconds: 8, segmentDuration: 4000 })).code).toBe(
      'TOO_MANY_FILES',
    );
  });
});

describe('parseDuration, parseUnsigned, rangeOf', () => {
  it('reads the durations manifests write', () => {
    expect(parseDuration('PT8S')).toBe(8);
    expect(parseDuration('PT0M8.000S')).toBe(8);
    expect(parseDuration('PT1H2M3.5S')).toBe(3723.5);
    expect(parseDuration('P1DT1S')).toBe(86_401);
    expect(parseDuration('P0Y0M0DT0H3M30.000S')).toBe(210);
    expect(parseDuration(' PT1M ')).toBe(60);
  });

  it('reads several digits and decimals in every field', () => {
    expect(parseDuration('P12DT12H12M')).toBe(12 * 86_400 + 12 * 3600 + 12 * 60);
    expect(parseDuration('P1.25DT1.25H1.25M')).toBe(1.25 * 86_400 + 1.25 * 3600 + 1.25 * 60);
    expect(thrown(() => parseDuration('P10Y')).code).toBe('MANIFEST_UNSUPPORTED');
    expect(thrown(() => parseDuration('P10M')).code).toBe('MANIFEST_UNSUPPORTED');
  });

  it('says what it refuses, text before the P included', () => {
    expect(thrown(() => parseDuration('xPT1S')).message).toBe(
      '"xPT1S" is not a duration DASH manifests use (like PT1H2M3.5S)',
    );
    expect(thrown(() => parseDuration('P0Y1M')).message).toBe(
      'duration "P0Y1M" counts years or months, which have no fixed length',
    );
  });

  it('refuses the rest', () => {
    for (const bad of ['8', 'PT', 'P', '-PT1S', 'PT1.S', 'T1S', 'PT1X', ''])
      expect(() => parseDuration(bad), bad).toThrow(DashRuleError);
    expect(thrown(() => parseDuration('P1M')).code).toBe('MANIFEST_UNSUPPORTED');
    expect(thrown(() => parseDuration('P1Y')).code).toBe('MANIFEST_UNSUPPORTED');
  });

  it('reads whole numbers as bigints and ranges as length@offset', () => {
    expect(parseUnsigned(' 73320372578304 ', 't')).toBe(73320372578304n);
    expect(() => parseUnsigned('-1', 't')).toThrow(/t="-1" is not a whole number/);
    expect(() => parseUnsigned('1.5', 't')).toThrow(DashRuleError);
    expect(rangeOf('0-809')).toBe('810@0');
    expect(rangeOf('810 - 1021')).toBe('212@810');
    expect(rangeOf('5-5')).toBe('1@5');
    expect(rangeOf('6-5')).toBe('6-5');
    expect(rangeOf(' x ')).toBe('x');
    // Only a whole "first-last", spaces around it allowed; anything else is kept as written (trimmed).
    expect(rangeOf('0-809 ')).toBe('810@0');
    expect(rangeOf('x0-5')).toBe('x0-5');
    expect(rangeOf('0-5x')).toBe('0-5x');
    expect(rangeOf(' 6-5 ')).toBe('6-5');
  });
});

// ---- Properties against a reference computation ----

type Token = { lit: string } | { id: 'Number' | 'Time' | 'Bandwidth' | 'RepresentationID'; width?: number };

const token: fc.Arbitrary<Token> = fc.oneof(
  fc.record({ lit: fc.stringMatching(/^[a-z0-9_./=-]{0,6}$/) }),
  fc.record({ lit: fc.constant('$$') }),
  fc.record(
    { id: fc.constantFrom('Number' as const, 'Time' as const, 'Bandwidth' as const) },
    { requiredKeys: ['id'] },
  ),
  fc.record({
    id: fc.constantFrom('Number' as const, 'Time' as const, 'Bandwidth' as const),
    width: fc.integer({ min: 1, max: 12 }),
  }),
  fc.record({ id: fc.constant('RepresentationID' as const) }),
);

describe('properties', () => {
  it('a template expands to its tokens, each written out by hand', () => {
    fc.assert(
      fc.property(
        fc.array(token, { maxLength: 8 }),
        fc.record({
          Number: fc.bigInt({ min: 0n, max: 10n ** 12n }),
          Time: fc.bigInt({ min: 0n, max: 2n ** 63n }),
          Bandwidth: fc.bigInt({ min: 1n, max: 10n ** 9n }),
          RepresentationID: fc.stringMatching(/^[A-Za-z0-9_=-]{1,8}$/),
        }),
        (tokens, values) => {
          let template = '';
          let expected = '';
          for (const t of tokens) {
            if ('lit' in t) {
              template += t.lit;
              expected += t.lit === '$$' ? '$' : t.lit;
            } else {
              template += t.width === undefined ? `$${t.id}$` : `$${t.id}%0${t.width}d$`;
              const v = String(values[t.id]);
              expected += t.width !== undefined && v.length < t.width ? '0'.repeat(t.width - v.length) + v : v;
            }
          }
          expect(expandTemplate(template, values)).toBe(expected);
        },
      ),
    );
  });

  it('a timeline lists exactly the segments a plain loop over its S elements does', () => {
    const entry = fc.record(
      {
        t: fc.integer({ min: 0, max: 10_000 }),
        d: fc.integer({ min: 1, max: 50 }),
        r: fc.integer({ min: -1, max: 5 }),
      },
      { requiredKeys: ['d'] },
    );
    fc.assert(
      fc.property(
        fc.array(entry, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 0, max: 3 }),
        (raw, end, startNumber) => {
          // Keep t increasing (a valid timeline) and -1 only where the next t or the end bounds it.
          let floor = 0;
          const entries = raw.map((e, i) => {
            const out: { t?: number; d: number; r?: number } = { d: e.d };
            if (e.t !== undefined) out.t = floor = Math.max(floor, e.t);
            if (e.r !== undefined && (e.r >= 0 || i === raw.length - 1 || raw[i + 1]!.t !== undefined)) out.r = e.r;
            floor += e.d * Math.max(1, (out.r ?? 0) + 1);
            return out;
          });
          entries.forEach((e, i) => {
            const next = entries[i + 1];
            if (next?.t !== undefined && e.t !== undefined && next.t < e.t) next.t = e.t;
          });
          // Reference: one segment at a time.
          const want: Array<{ time: number; number: number }> = [];
          let time = 0;
          let number = startNumber;
          entries.forEach((e, i) => {
            time = e.t ?? time;
            if ((e.r ?? 0) >= 0) {
              for (let k = 0; k <= (e.r ?? 0); k++) {
                want.push({ time, number: number++ });
                time += e.d;
              }
            } else {
              const until = i === entries.length - 1 ? end : entries[i + 1]!.t!;
              while (time < until) {
                want.push({ time, number: number++ });
                time += e.d;
              }
            }
          });
          const got = timelineSegments(
            entries.map((e) => ({
              d: BigInt(e.d),
              ...(e.t !== undefined ? { t: BigInt(e.t) } : {}),
              ...(e.r !== undefined ? { r: BigInt(e.r) } : {}),
            })),
            { startNumber: BigInt(startNumber), end: BigInt(end), max: 1_000_000 },
          );
          expect(got.map((s) => ({ time: Number(s.time), number: Number(s.number) }))).toEqual(want);
        },
      ),
    );
  });

  it('a template addressed by @duration has exactly the segments that start before the period ends', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.constantFrom(1, 10, 1000, 48_000, 90_000),
        (periodMs, duration, timescale) => {
          // Reference in exact integers: segment n starts at n * duration / timescale seconds.
          let want = 0;
          while (want * duration * 1000 < periodMs * timescale) want++;
          if (want > 1_000_000) return;
          expect(
            templateSegmentCount({
              periodSeconds: periodMs / 1000,
              segmentDuration: duration,
              timescale,
              startNumber: 1,
              max: 1_000_000,
            }),
          ).toBe(want);
        },
      ),
    );
  });
});
