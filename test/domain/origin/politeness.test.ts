import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import {
  byteShare,
  classifyAnswer,
  DECREASE_EVERY_MS,
  deferralSeconds,
  initialRate,
  LimitSettingError,
  limitFor,
  MAX_DEFERRALS,
  MAX_RETRY_AFTER_SECONDS,
  MIN_RATE,
  onHealthy,
  onTrouble,
  parsePerHost,
  parseRetryAfter,
  bucketOf,
  BURST_SHARE,
  refill,
  refund,
  requestShare,
  spacingMs,
  startAt,
  take,
  type ByteBucket,
} from '../../../src/domain/origin/politeness.ts';
import { deferral, throttleCause, throttledNote } from '../../../src/pipeline/deferral.ts';
import { OriginError } from '../../../src/domain/ports/origin.ts';
import { OriginGate } from '../../../src/domain/origin/gate.ts';

describe('limit settings', () => {
  it('reads a default, per-host limits, both, or nothing', () => {
    expect(parsePerHost(undefined, 100)).toEqual({ default: undefined, hosts: {} });
    expect(parsePerHost('  ', 100)).toEqual({ default: undefined, hosts: {} });
    expect(parsePerHost('40', 100)).toEqual({ default: 40, hosts: {} });
    expect(parsePerHost('2.5', 100)).toEqual({ default: 2.5, hosts: {} });
    expect(parsePerHost('.5', 100)).toEqual({ default: 0.5, hosts: {} });
    expect(parsePerHost('40, Slow.Example.com=10,cdn:8080=100', 100)).toEqual({
      default: 40,
      hosts: { 'slow.example.com': 10, 'cdn:8080': 100 },
    });
    expect(parsePerHost('[::1]:80=3', 100).hosts).toEqual({ '[::1]:80': 3 });
  });

  it('refuses zero, too much, words, two defaults, a host twice and a URL', () => {
    for (const bad of ['0', '101', 'ten', '-1', '40,50', 'a.com=1,a.com=2', 'http://a.com=1', 'a.com=', '=5'])
      expect(() => parsePerHost(bad, 100), bad).toThrow(LimitSettingError);
    expect(parsePerHost('100', 100).default).toBe(100);
  });

  it('a limit is a plain decimal: no sign, exponent or trailing text; any number of decimals', () => {
    for (const bad of ['+5', '1e1', '5x', '0x10', 'a.com=1e1'])
      expect(() => parsePerHost(bad, 100), bad).toThrow(/must be a number above 0/);
    expect(parsePerHost('2.55', 100).default).toBe(2.55);
    expect(parsePerHost('.55', 100).default).toBe(0.55);
  });

  it('spaces around commas, hosts and values are ignored', () => {
    expect(parsePerHost(' 40 , A.com = 5 ', 100)).toEqual({ default: 40, hosts: { 'a.com': 5 } });
  });

  it('an IPv6 host is a bracketed literal, with or without a port, and nothing around it', () => {
    expect(parsePerHost('[::1]=3', 100).hosts).toEqual({ '[::1]': 3 });
    for (const bad of ['x[::1]=3', '[::1]x=3', '[::1]:80x=3'])
      expect(() => parsePerHost(bad, 100), bad).toThrow(/name a host as/);
  });

  it('each refusal says what is wrong with the part', () => {
    expect(() => parsePerHost('40,50', 100)).toThrow('"50": only one default limit (a bare number)');
    expect(() => parsePerHost('=5', 100)).toThrow(
      '"=5": name a host as "cdn.example.com" or "host:port", then "=limit"',
    );
    expect(() => parsePerHost('a.com=1,A.com=2', 100)).toThrow('"A.com=2": a.com is given more than once');
  });

  it("a host's own limit wins over the default, by host and port, in any case", () => {
    const l = parsePerHost('40,slow.example.com=10', 100);
    expect(limitFor(l, 'SLOW.example.com')).toBe(10);
    expect(limitFor(l, 'slow.example.com:8080')).toBe(40);
    expect(limitFor(parsePerHost('a.com=1', 100), 'b.com')).toBeUndefined();
  });

  it('each of the fleet gets a whole share of requests per second, or none when the limit is below one each', () => {
    expect(requestShare(100, 8)).toBe(12);
    expect(requestShare(16, 8)).toBe(2);
    expect(requestShare(8, 8)).toBe(1);
    expect(requestShare(7.9, 8)).toBeUndefined();
    expect(byteShare(10, 4)).toBe(2_500_000);
  });

  it('the config refuses a limit the fleet cannot hold, naming the variable and the shares', () => {
    expect(() =>
      loadConfig({
        ORIGIN_MAX_REQUESTS_PER_SECOND: '50',
        FLANTS_CRAWLER_MAX_CONCURRENCY: '5',
        FLANTS_TRANSFER_MAX_CONCURRENCY: '50',
      }),
    ).toThrow(
      /ORIGIN_MAX_REQUESTS_PER_SECOND 50 for every host is less than one request per second for each of the 55 processes/,
    );
    expect(() => loadConfig({ ORIGIN_MAX_REQUESTS_PER_SECOND: '60,a.com=3', ORIGIN_LIMIT_SHARES: '4' })).toThrow(
      /3 for a\.com/,
    );
    expect(() => loadConfig({ ORIGIN_MAX_MBPS: 'fast' })).toThrow(/ORIGIN_MAX_MBPS "fast"/);
    const cfg = loadConfig({
      ORIGIN_MAX_REQUESTS_PER_SECOND: '55',
      FLANTS_CRAWLER_MAX_CONCURRENCY: '5',
      FLANTS_TRANSFER_MAX_CONCURRENCY: '50',
    });
    expect(cfg.originLimits).toMatchObject({ shares: 55, requestsPerSecond: { default: 55 }, reportSeconds: 30 });
    expect(loadConfig({}).originLimits.shares).toBe(1);
    expect(loadConfig({ ORIGIN_LIMIT_SHARES: '3', FLANTS_TRANSFER_MAX_CONCURRENCY: '50' }).originLimits.shares).toBe(3);
  });
});

describe('answers', () => {
  it('429, and any error answer with a Retry-After, is throttling', () => {
    expect(classifyAnswer({ status: 429 })).toBe('throttled');
    expect(classifyAnswer({ status: 503, retryAfterSeconds: 1 })).toBe('throttled');
    expect(classifyAnswer({ status: 400, retryAfterSeconds: 0 })).toBe('throttled');
    expect(classifyAnswer({ status: 200, retryAfterSeconds: 5 })).toBe('ok');
    expect(classifyAnswer({ status: 399, retryAfterSeconds: 5 })).toBe('ok');
  });

  it('503 and 504 without Retry-After, timeouts and resets are distress; 500 and a refused address are neither', () => {
    expect(classifyAnswer({ status: 503 })).toBe('distress');
    expect(classifyAnswer({ status: 504 })).toBe('distress');
    expect(classifyAnswer({ errorCode: 'ORIGIN_TIMEOUT' })).toBe('distress');
    expect(classifyAnswer({ errorCode: 'ORIGIN_NETWORK' })).toBe('distress');
    expect(classifyAnswer({ errorCode: 'ORIGIN_ADDRESS_BLOCKED' })).toBe('other');
    expect(classifyAnswer({})).toBe('other');
    expect(classifyAnswer({ status: 500 })).toBe('other');
    expect(classifyAnswer({ status: 502 })).toBe('other');
    expect(classifyAnswer({ status: 404 })).toBe('ok');
    expect(classifyAnswer({ status: 499 })).toBe('ok');
    expect(classifyAnswer({ status: 304 })).toBe('ok');
  });

  it('Retry-After in seconds or as a date, capped; anything else is none', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('100000', now)).toBe(MAX_RETRY_AFTER_SECONDS);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:09 GMT', now)).toBe(9);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:08 GMT', now + 500)).toBe(8);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('Fri, 02 Jan 2026 00:00:00 GMT', now)).toBe(MAX_RETRY_AFTER_SECONDS);
    for (const v of [undefined, '', '1.5', '-3', 'soon', '2026-01-01'])
      expect(parseRetryAfter(v, now), String(v)).toBeUndefined();
  });
});

describe('spacing', () => {
  it('spaces starts 1/rate apart with the margin; a start waits for the later of spacing and pause', () => {
    expect(spacingMs(10)).toBeCloseTo(110);
    expect(spacingMs(1)).toBeCloseTo(1100);
    expect(startAt(100, 50, 0)).toBe(100);
    expect(startAt(100, 150, 120)).toBe(150);
    expect(startAt(100, 0, 170)).toBe(170);
    expect(startAt(100, 100, 100)).toBe(100);
  });
});

describe('the byte bucket (body pacing)', () => {
  const share = 1_000_000;
  it('a share splits into a burst of a quarter and a steady rate of the rest: burst + rate is the share', () => {
    expect(BURST_SHARE).toBe(0.25);
    expect(bucketOf(share)).toEqual({ rate: 750_000, burst: 250_000 });
    expect(bucketOf(400)).toEqual({ rate: 300, burst: 100 });
  });

  it('refills at the rate, never above the burst; full the first time; a clock going back adds nothing', () => {
    expect(refill({ tokens: 0, at: -Infinity }, share, 5)).toEqual({ tokens: 250_000, at: 5 });
    expect(refill({ tokens: 0, at: 1000 }, share, 1100)).toEqual({ tokens: 75_000, at: 1100 });
    expect(refill({ tokens: 10, at: 1000 }, share, 1000)).toEqual({ tokens: 10, at: 1000 });
    expect(refill({ tokens: 200_000, at: 0 }, share, 1000)).toEqual({ tokens: 250_000, at: 1000 });
    expect(refill({ tokens: 100, at: 1000 }, share, 900)).toEqual({ tokens: 100, at: 900 });
  });

  it('takes what the bucket holds, at most one burst at a time; else says how long until it holds it', () => {
    const b = (tokens: number): ByteBucket => ({ tokens, at: 0 });
    expect(take(b(1000), share, 1000)).toEqual({ bytes: 1000, waitMs: 0 });
    expect(take(b(999), share, 1000)).toEqual({ bytes: 0, waitMs: (1 / 750_000) * 1000 });
    expect(take(b(250_000), share, 4_000_000)).toEqual({ bytes: 250_000, waitMs: 0 });
    expect(take(b(0), share, 4_000_000)).toEqual({ bytes: 0, waitMs: (250_000 / 750_000) * 1000 });
    expect(take(b(0), share, 75_000)).toEqual({ bytes: 0, waitMs: 100 });
  });

  it('gives back what the origin did not send, never above the burst', () => {
    expect(refund({ tokens: 1000, at: 7 }, share, 500)).toEqual({ tokens: 1500, at: 7 });
    expect(refund({ tokens: 249_000, at: 7 }, share, 1000)).toEqual({ tokens: 250_000, at: 7 });
    expect(refund({ tokens: 249_000, at: 7 }, share, 5000)).toEqual({ tokens: 250_000, at: 7 });
  });

  it('whatever the chunks, no one-second window takes more than the share, and a long read runs at the rate', () => {
    // Chunks of every size, taken as fast as the rule allows on a clock that steps 1 ms.
    let bucket: ByteBucket = { tokens: 0, at: -Infinity };
    const taken: Array<[number, number]> = [];
    let now = 0;
    const sizes = [64 * 1024, 1, 300_000, 16 * 1024, 999_999, 250_000, 250_001];
    for (let i = 0; now < 20_000; i++) {
      let left = sizes[i % sizes.length]!;
      while (left > 0) {
        bucket = refill(bucket, share, now);
        const t = take(bucket, share, left);
        if (t.bytes > 0) {
          bucket = { tokens: bucket.tokens - t.bytes, at: bucket.at };
          left -= t.bytes;
          taken.push([now, t.bytes]);
        } else now += Math.max(1, Math.ceil(t.waitMs));
      }
    }
    let lo = 0;
    let sum = 0;
    let peak = 0;
    for (const [at, n] of taken) {
      sum += n;
      while (taken[lo]![0] <= at - 1000) sum -= taken[lo++]![1];
      peak = Math.max(peak, sum);
    }
    expect(peak).toBeLessThanOrEqual(share);
    expect(peak).toBeGreaterThan(share * 0.85);
    const total = taken.reduce((n, [, b]) => n + b, 0);
    expect(total / (now / 1000)).toBeGreaterThan(750_000 * 0.98);
    expect(total / (now / 1000)).toBeLessThanOrEqual(750_000 + 250_000 / 20);
  });
});

describe('AIMD', () => {
  it('a limited host halves its rate on trouble, at most once a second, never below the floor', () => {
    let s = initialRate(10);
    expect(s.rate).toBe(10);
    s = onTrouble(s, 1_000, 99);
    expect(s.rate).toBe(5);
    // A limited host recovers to its ceiling, never to a rate seen.
    expect(s.recoverTo).toBeUndefined();
    expect(onTrouble(s, 1_000 + DECREASE_EVERY_MS - 1, 99)).toBe(s);
    s = onTrouble(s, 1_000 + DECREASE_EVERY_MS, 99);
    expect(s.rate).toBe(2.5);
    for (let i = 2; i < 12; i++) s = onTrouble(s, i * 10_000, 99);
    expect(s.rate).toBe(MIN_RATE);
  });

  it('recovers by a tenth of the ceiling per second with healthy answers (idle seconds earn nothing), then lets go at the ceiling', () => {
    let s = onTrouble(initialRate(20), 0, 0);
    expect(s.rate).toBe(10);
    expect(onHealthy(s, 999)).toBe(s);
    s = onHealthy(s, 1_000);
    expect(s.rate).toBe(12);
    expect(s.increasedAt).toBe(1_000);
    s = onHealthy(s, 60_000);
    expect(s.rate).toBe(14);
    expect(onHealthy(s, 60_999)).toBe(s);
    for (let t = 61_000; t <= 63_000; t += 1_000) s = onHealthy(s, t);
    expect(s.rate).toBe(20);
    expect(s.rate).toBe(s.ceiling);
    expect(onHealthy(s, 99_000)).toBe(s);
  });

  it('with no limit, trouble starts from the rate seen; recovery back at it makes the host unlimited again', () => {
    let s = initialRate(undefined);
    expect(onHealthy(s, 5_000)).toBe(s);
    s = onTrouble(s, 0, 30);
    expect(s).toMatchObject({ rate: 15, recoverTo: 30 });
    s = onTrouble(s, 1_000, 3);
    expect(s).toMatchObject({ rate: 7.5, recoverTo: 30 });
    s = onHealthy(s, 2_000);
    expect(s.rate).toBe(10.5);
    for (let t = 3_000; t < 9_000; t += 1_000) s = onHealthy(s, t);
    expect(s.rate).toBe(28.5);
    s = onHealthy(s, 9_000);
    expect(s).toMatchObject({ rate: undefined, recoverTo: undefined });
    expect(onTrouble(initialRate(undefined), 0, 0).rate).toBe(MIN_RATE);
  });

  it('a slow recovery still grows by at least the floor', () => {
    const s = onHealthy({ ...onTrouble(initialRate(1), 0, 0) }, 1_000);
    expect(s.rate).toBe(1);
    const t = onHealthy(onTrouble(initialRate(undefined), 0, 1), 1_000);
    expect(t.rate).toBeUndefined();
  });
});

describe('deferral', () => {
  const throttled = new OriginError('ORIGIN_HTTP_STATUS', 'origin answered HTTP 429', {
    url: 'http://cdn.example.com:8080/a.ts',
    status: 429,
    retryable: true,
    retryAfterSeconds: 30,
  });
  it('reads the throttle behind an error, wrapped or not; a 500 or other error is none', () => {
    expect(throttleCause(throttled)).toEqual({ host: 'cdn.example.com:8080', what: 'HTTP 429', retryAfterSeconds: 30 });
    expect(throttleCause(new Error('wrapped', { cause: throttled }))?.what).toBe('HTTP 429');
    expect(
      throttleCause(new OriginError('ORIGIN_HTTP_STATUS', 'x', { url: 'http://a/', status: 500, retryable: true })),
    ).toBeUndefined();
    expect(throttleCause(new Error('other'))).toBeUndefined();
    expect(throttleCause(undefined)).toBeUndefined();
    expect(throttleCause('text')).toBeUndefined();
    // Only an Error's cause is followed: a plain object carrying one is no answer from the origin.
    expect(throttleCause({ cause: throttled })).toBeUndefined();
  });

  it('follows a cause chain at most 5 deep, so a cycle ends', () => {
    const wrap = (e: unknown, times: number): unknown =>
      times === 0 ? e : wrap(new Error('wrapped', { cause: e }), times - 1);
    expect(throttleCause(wrap(throttled, 4))?.what).toBe('HTTP 429');
    expect(throttleCause(wrap(throttled, 5))).toBeUndefined();
    const cyclic = new Error('cyclic') as Error & { cause?: unknown };
    cyclic.cause = cyclic;
    expect(throttleCause(cyclic)).toBeUndefined();
  });

  it('an unparsable URL names no host, and the note says "the origin"; no Retry-After, no mention of one', () => {
    const odd = new OriginError('ORIGIN_HTTP_STATUS', 'x', { url: 'not a url', status: 429, retryable: true });
    const cause = throttleCause(odd)!;
    expect(cause).toEqual({ host: '', what: 'HTTP 429', retryAfterSeconds: undefined });
    expect(throttledNote(cause, 1, 5, 0)).toMatch(
      /^throttled by the origin: the origin answered HTTP 429; 1 file\(s\) wait 5 s/,
    );
  });

  it('defers only when every failure is a throttle, not on the last delivery, and not past the cap', () => {
    const c = throttleCause(throttled)!;
    expect(deferral([c, { ...c, retryAfterSeconds: 60 }], 0, false)).toEqual({ delaySeconds: 60, cause: c });
    expect(deferral([c, undefined], 0, false)).toBeUndefined();
    expect(deferral([], 0, false)).toBeUndefined();
    expect(deferral([c], 0, true)).toBeUndefined();
    expect(deferral([c], MAX_DEFERRALS, false)).toBeUndefined();
    expect(deferral([c], MAX_DEFERRALS - 1, false)).toBeDefined();
    expect(deferral([{ ...c, retryAfterSeconds: undefined }], 2, false)?.delaySeconds).toBe(20);
  });

  it('waits 5 s doubling per deferral up to 80 s, at least what the origin asked, at most 900 s', () => {
    expect([0, 1, 2, 3, 4, 5, 40].map((d) => deferralSeconds(d, undefined))).toEqual([5, 10, 20, 40, 80, 80, 80]);
    expect(deferralSeconds(0, 30)).toBe(30);
    expect(deferralSeconds(3, 30)).toBe(40);
    expect(deferralSeconds(0, 2000)).toBe(900);
  });

  it('the class note says it is the origin throttling, and what happens', () => {
    expect(throttledNote(throttleCause(throttled)!, 3, 30, 2)).toBe(
      'throttled by the origin: cdn.example.com:8080 answered HTTP 429 (Retry-After 30 s); 3 file(s) wait 30 s in the queue ' +
        `(deferral 2 of at most ${MAX_DEFERRALS}), the fleet slows toward it (ORIGIN_MAX_REQUESTS_PER_SECOND caps it for good)`,
    );
  });
});

describe('the gate, on a fake clock', () => {
  const limits = (rps?: string, mbps?: string) => ({
    requestsPerSecond: parsePerHost(rps, 1e6),
    megabytesPerSecond: parsePerHost(mbps, 1e6),
    shares: 1,
  });

  it('with no limit and no trouble, admits at once and only counts', async () => {
    const g = new OriginGate(limits(), () => 0);
    for (let i = 0; i < 100; i++) await g.admit('a');
    expect(g.rateOf('a')).toBeUndefined();
    g.answered('a', { status: 200, latencyMs: 5 });
    g.answered('a', { status: 429, latencyMs: 7 });
    expect(g.drain().get('a')).toMatchObject({
      ok: 1,
      throttled: 1,
      latencyMsSum: 12,
      latencyMsMax: 7,
      lastThrottle: 'HTTP 429',
    });
    expect(g.drain().size).toBe(0);
  });

  it('no byte limit: no pacer, bodies are read untouched; a byte limit paces every body of the host from one bucket', async () => {
    expect(new OriginGate(limits('5'), () => 0).pacer('a')).toBeUndefined();
    let now = 0;
    const g = new OriginGate(limits(undefined, 'a=1'), () => now);
    expect(g.pacer('b')).toBeUndefined();
    const pace = g.pacer('a')!;
    // One burst at once (a quarter of 1 MB/s), then the rest at 750 kB/s.
    await pace(250_000);
    const late = pace(75_000);
    let done = false;
    void late.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    now = 100;
    await late;
    // A request prepays the largest recent answer (256 KiB before any), at most one burst; a shorter answer gives the rest back.
    now = 10_000;
    expect(await g.admit('a')).toBe(250_000);
    expect(g.answered('a', { status: 200, latencyMs: 1, contentLength: 1000, prepaid: 250_000 })).toEqual({
      kind: 'ok',
      prepaid: 1000,
    });
    // 249,000 back: the next small request starts at once, prepaying the 1000 bytes now the largest.
    expect(await g.admit('a')).toBe(1000);
    expect(g.answered('a', { errorCode: 'ORIGIN_NETWORK', latencyMs: 1, prepaid: 1000 }).prepaid).toBe(0);
    // The body's first `prepaid` bytes were paid at admission: only the rest is charged.
    const body = g.pacer('a', 249_000)!;
    await body(249_000);
    const other = g.pacer('a')!;
    const ctrl = new AbortController();
    // 249,000 left: a burst waits for the rest, and an abort ends the wait.
    const waiting = other(250_000, ctrl.signal);
    ctrl.abort();
    await expect(waiting).rejects.toThrow();
  });

  /** Whether `p` settles within 30 ms of real time (the fake clock stands still meanwhile). */
  async function settles(p: Promise<unknown>): Promise<boolean> {
    let done = false;
    void p.then(
      () => (done = true),
      () => undefined,
    );
    await new Promise((r) => setTimeout(r, 30));
    return done;
  }

  it('a prepaid body read in small chunks is charged only for the bytes past what was prepaid', async () => {
    const g = new OriginGate(limits(undefined, 'a=1'), () => 0);
    const body = g.pacer('a', 100_000)!;
    await body(60_000); // prepaid
    await body(60_000); // 40,000 prepaid, 20,000 charged
    await body(60_000); // 60,000 charged
    // The burst of 250,000 less the 80,000 charged: 170,000 left, not a byte more.
    const rest = g.pacer('a')!;
    const ctrl = new AbortController();
    expect(await settles(rest(170_000, ctrl.signal))).toBe(true);
    const more = rest(1, ctrl.signal);
    expect(await settles(more)).toBe(false);
    ctrl.abort();
    await expect(more).rejects.toThrow();
  });

  it('a request prepays the largest of the last 32 answers of its host, at most one burst', async () => {
    let now = 0;
    const g = new OriginGate(limits(undefined, 'a=4'), () => now);
    const answer = (contentLength: number) => g.answered('a', { status: 200, latencyMs: 1, contentLength });
    // A full bucket for every admission: the clock moves a second (3 MB at 3 MB/s) each time.
    const admit = () => {
      now += 1000;
      return g.admit('a');
    };
    answer(5_000_000);
    expect(await admit()).toBe(1_000_000);
    for (let i = 0; i < 31; i++) answer(900_000);
    expect(await admit()).toBe(1_000_000);
    answer(900_000); // the 33rd answer: the 5 MB one is no longer among the last 32
    expect(await admit()).toBe(900_000);
    for (let i = 0; i < 32; i++) answer(1000);
    expect(await admit()).toBe(1000);
  });

  it('waits for the bucket in one sleep, not by polling the clock', async () => {
    let reads = 0;
    // 0.004 MB/s: a burst of 1000 bytes, then 3000 bytes/s.
    const g = new OriginGate(limits(undefined, 'a=0.004'), () => {
      reads++;
      return Date.now();
    });
    const pace = g.pacer('a')!;
    await pace(1000);
    reads = 0;
    await pace(150); // 50 ms at 3000 bytes/s
    expect(reads).toBeLessThanOrEqual(4);
  });

  it('a throttle halves the rate of the host from what it saw, and announces it', () => {
    let now = 10_000;
    const g = new OriginGate(limits('a=20'), () => now);
    const seen: unknown[] = [];
    g.onThrottle((e) => seen.push(e));
    expect(g.rateOf('a')).toBe(20);
    g.answered('a', { status: 503, latencyMs: 1 });
    expect(g.rateOf('a')).toBe(10);
    now += 1_000;
    g.answered('a', { errorCode: 'ORIGIN_TIMEOUT', latencyMs: 1 });
    expect(g.rateOf('a')).toBe(5);
    expect(g.rateOf('b')).toBeUndefined();
    expect(seen).toEqual([
      { host: 'a', kind: 'distress', what: 'HTTP 503', retryAfterSeconds: undefined, rate: 10 },
      { host: 'a', kind: 'distress', what: 'timeouts', retryAfterSeconds: undefined, rate: 5 },
    ]);
    g.heardTrouble('b', 3);
    expect(g.rateOf('b')).toBe(MIN_RATE);
  });
});
