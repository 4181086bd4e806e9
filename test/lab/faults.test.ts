import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FaultSpecError,
  formatFaultSpec,
  hasFaults,
  NO_FAULTS,
  originFaultsFor,
  parseFaultSpec,
  pickGoneFiles,
  s3FaultsFor,
} from '../../lab/faults.ts';
import { generateLibrary } from '../../lab/library.ts';

const lib0 = generateLibrary({ classes: 1 });

describe('parseFaultSpec', () => {
  it('parses the documented example', () => {
    const spec = parseFaultSpec('origin5xx=0.1,reset=0.03,truncate=0.02,slow=0.01,s3=0.05,s3reset=0.01,gone=2,seed=7');
    expect(spec).toEqual({
      seed: 7,
      origin: {
        http5xx: 0.1,
        reset: 0.03,
        truncate: 0.02,
        slow: 0.01,
        slowMs: NO_FAULTS.origin.slowMs,
        gone: 2,
        encoding: '',
        framing: 'length',
        playlists: 'stable',
        throttle: 0,
      },
      s3: { slowDown: 0.05, reset: 0.01 },
    });
    expect(hasFaults(spec)).toBe(true);
  });

  it('throttle=N: the origin answers 429 above N requests per second (issue 23)', () => {
    const spec = parseFaultSpec('throttle=20');
    expect(spec.origin.throttle).toBe(20);
    expect(hasFaults(spec)).toBe(true);
    expect(formatFaultSpec(spec)).toBe('throttle=20');
    expect(originFaultsFor(spec, lib0)).toMatchObject({ throttleRps: 20 });
    expect(originFaultsFor(parseFaultSpec('none'), lib0).throttleRps).toBeUndefined();
    expect(() => parseFaultSpec('throttle=fast')).toThrow(/not a whole number/);
  });

  it('accepts whitespace, percentages, upper-case keys, slowms and "none"', () => {
    expect(parseFaultSpec(' origin5xx = 5% , SLOW=.5, slowms=100 ')).toMatchObject({
      origin: { http5xx: 0.05, slow: 0.5, slowMs: 100 },
    });
    expect(parseFaultSpec('reset=1')).toMatchObject({ origin: { reset: 1 } });
    expect(parseFaultSpec('none')).toEqual(NO_FAULTS);
    expect(hasFaults(parseFaultSpec('none'))).toBe(false);
    expect(hasFaults(parseFaultSpec('gone=1'))).toBe(true);
    // Playlists that differ on every request (issue 18, case 1).
    expect(parseFaultSpec('playlists=token')).toMatchObject({ origin: { playlists: 'token' } });
    expect(hasFaults(parseFaultSpec('playlists=session'))).toBe(true);
    expect(formatFaultSpec(parseFaultSpec('playlists=session,seed=3'))).toBe('playlists=session,seed=3');
    expect(() => parseFaultSpec('playlists=random')).toThrow(/playlists must be stable, token or session/);
  });

  it('parses the origin quirks: an encoding and a framing', () => {
    expect(parseFaultSpec('encoding=GZIP,framing=close')).toMatchObject({
      origin: { encoding: 'gzip', framing: 'close' },
    });
    expect(parseFaultSpec('encoding=identity')).toEqual(NO_FAULTS);
    expect(hasFaults(parseFaultSpec('encoding=br'))).toBe(true);
    expect(hasFaults(parseFaultSpec('framing=chunked'))).toBe(true);
    expect(formatFaultSpec(parseFaultSpec('framing=close,encoding=zstd,seed=3'))).toBe(
      'seed=3,encoding=zstd,framing=close',
    );
    expect(originFaultsFor(parseFaultSpec('encoding=deflate,framing=chunked'), lib0)).toMatchObject({
      encoding: 'deflate',
      framing: 'chunked',
    });
    expect(() => parseFaultSpec('framing=http2')).toThrow(/framing is length, chunked or close/);
    expect(() => parseFaultSpec('encoding=g zip')).toThrow(/not a content-coding/);
  });

  it('rejects bad specs with an error naming the entry', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /empty/],
      ['origin5xx=0.1,', /entry 2 is empty/],
      ['reset', /"reset" must be key=value/],
      ['resets=0.1', /unknown key "resets".*known: origin5xx/],
      ['reset=2', /"reset=2".*outside 0\.\.1/],
      ['reset=-0.1', /"reset=-0.1".*not a rate/],
      ['reset=abc', /"reset=abc".*not a rate/],
      ['reset=150%', /outside 0\.\.1/],
      ['reset=0.1,reset=0.2', /"reset=0.2".*more than once/],
      ['gone=1.5', /"gone=1.5".*whole number/],
      ['seed=-1', /"seed=-1".*whole number/],
      ['slowms=9999999', /"slowms=9999999".*more than/],
      ['s3=', /"s3=" has no value/],
      ['origin5xx=0.6,reset=0.5', /origin5xx \+ reset \+ truncate \+ slow add up to 1\.1/],
      ['s3=0.7,s3reset=0.4', /s3 \+ s3reset add up to 1\.1/],
    ];
    for (const [spec, message] of bad) {
      expect(() => parseFaultSpec(spec), spec).toThrow(FaultSpecError);
      expect(() => parseFaultSpec(spec), spec).toThrow(message);
    }
  });

  it('formats back to an equivalent spec', () => {
    const rate = fc.integer({ min: 0, max: 25 }).map((n) => n / 100);
    fc.assert(
      fc.property(rate, rate, rate, rate, rate, rate, fc.nat(50), fc.nat(1000), (a, b, c, d, e, f, gone, seed) => {
        const spec = parseFaultSpec(
          `origin5xx=${a},reset=${b},truncate=${c},slow=${d},s3=${e},s3reset=${f},gone=${gone},seed=${seed}`,
        );
        expect(parseFaultSpec(formatFaultSpec(spec))).toEqual(spec);
      }),
    );
    expect(formatFaultSpec(NO_FAULTS)).toBe('none');
  });
});

describe('fault spec → servers', () => {
  const lib = generateLibrary();

  it('picks gone files deterministically, only media segments, spread across classes', () => {
    const a = pickGoneFiles(lib, 4, 7);
    expect(pickGoneFiles(lib, 4, 7)).toEqual(a);
    expect(pickGoneFiles(lib, 4, 8)).not.toEqual(a);
    expect(new Set(a).size).toBe(4);
    for (const p of a) expect(lib.file(p)?.kind).toBe('segment');
    expect(new Set(a.map((p) => lib.file(p)!.classId)).size).toBe(4);
    const segments = lib.paths().filter((p) => lib.file(p)!.kind === 'segment').length;
    expect(pickGoneFiles(lib, segments, 1)).toHaveLength(segments);
    expect(() => pickGoneFiles(lib, segments + 1, 1)).toThrow(/only \d+ media segments/);
  });

  it('maps a spec onto origin and S3 fault settings', () => {
    const spec = parseFaultSpec(
      'origin5xx=0.1,reset=0.03,truncate=0.02,slow=0.01,slowms=50,s3=0.05,s3reset=0.01,gone=2,seed=7',
    );
    const origin = originFaultsFor(spec, lib);
    expect(origin).toMatchObject({ seed: 7, http5xx: 0.1, reset: 0.03, truncate: 0.02, slow: 0.01, slowMs: 50 });
    expect(origin.gone).toEqual(pickGoneFiles(lib, 2, 7));
    expect(s3FaultsFor(spec)).toEqual({ seed: 7, slowDown: 0.05, reset: 0.01 });
    expect(originFaultsFor(NO_FAULTS, lib).gone).toEqual([]);
  });
});
