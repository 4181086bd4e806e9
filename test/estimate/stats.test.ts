import { describe, expect, it } from 'vitest';
import {
  estimateTotal,
  incompleteBeta,
  mean,
  Reservoir,
  sampleVariance,
  seededRandom,
  studentTCdf,
  studentTQuantile,
  weightedQuantile,
} from '../../src/estimate/stats.ts';

describe('estimate statistics', () => {
  it('mean and unbiased variance, by hand', () => {
    expect(mean([10, 20, 30])).toBe(20);
    // ((10-20)² + 0 + (30-20)²) / (3 - 1) = 100
    expect(sampleVariance([10, 20, 30])).toBe(100);
    expect(sampleVariance([7])).toBe(0);
    expect(Number.isNaN(mean([]))).toBe(true);
  });

  it("Student's t quantiles match the printed tables", () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062, 3);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.3027, 4);
    expect(studentTQuantile(0.975, 3)).toBeCloseTo(3.1824, 4);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.2281, 4);
    expect(studentTQuantile(0.95, 5)).toBeCloseTo(2.015, 4);
    expect(studentTQuantile(0.995, 30)).toBeCloseTo(2.75, 4);
    // Many degrees of freedom: the normal's 1.96.
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.95997, 4);
    expect(studentTQuantile(0.5, 4)).toBeCloseTo(0, 9);
    expect(studentTQuantile(0.025, 2)).toBeCloseTo(-4.3027, 4);
    expect(studentTCdf(0, 7)).toBeCloseTo(0.5, 12);
    // I_x(1, 1) is x; I_x(a, b) = 1 - I_(1-x)(b, a).
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12);
    expect(incompleteBeta(0.2, 2.5, 4)).toBeCloseTo(1 - incompleteBeta(0.8, 4, 2.5), 12);
  });

  it('library total: N × mean with a t interval and the finite population correction', () => {
    // n = 4 of N = 8: mean 13, total 104; s² = (9+1+1+9)/3 = 20/3;
    // Var = N²(1 - n/N)s²/n = 64 × 0.5 × (20/3) / 4 = 53.33; half = t(0.975, 3) × √53.33 = 3.18245 × 7.30297 = 23.241
    const r = estimateTotal({ values: [10, 12, 14, 16] }, 8, 0.95);
    expect(r.mid).toBe(104);
    expect(r.low).toBeCloseTo(104 - 23.241, 2);
    expect(r.high).toBeCloseTo(104 + 23.241, 2);
  });

  it('never puts the low end below what the sample itself holds', () => {
    // n = 3 of 30: total 600, Var = 900 × 0.9 × 100 / 3 = 27,000; half = 4.30265 × 164.317 = 707.0: 600 - 707 < 60.
    const r = estimateTotal({ values: [10, 20, 30] }, 30, 0.95);
    expect(r.mid).toBe(600);
    expect(r.low).toBe(60);
    expect(r.high).toBeCloseTo(600 + 707.0, 0);
  });

  it('a sample of the whole library is exact', () => {
    expect(estimateTotal({ values: [3, 9, 4] }, 3, 0.95)).toEqual({ low: 16, mid: 16, high: 16 });
    expect(estimateTotal({ values: [5] }, 1, 0.95)).toEqual({ low: 5, mid: 5, high: 5 });
    // Identical classes leave no doubt either.
    expect(estimateTotal({ values: [7, 7] }, 100, 0.95)).toEqual({ low: 700, mid: 700, high: 700 });
  });

  it('adds the variance of classes measured on a subsample of their files (two-stage)', () => {
    // Both classes of a 2-class library sampled, each total estimated with variance 50: Var = (2/2)(50 + 50) = 100;
    // half = t(0.975, 1) × 10 = 127.06; the low end may go below the sample's sum, which is itself an estimate.
    const r = estimateTotal({ values: [100, 100], withinVariances: [50, 50] }, 2, 0.95);
    expect(r.mid).toBe(200);
    expect(r.low).toBeCloseTo(200 - 127.06, 1);
    expect(r.high).toBeCloseTo(200 + 127.06, 1);
  });

  it('refuses a range it cannot give', () => {
    expect(() => estimateTotal({ values: [5] }, 10, 0.95)).toThrow(/at least 2 sampled classes/);
    expect(() => estimateTotal({ values: [] }, 10, 0.95)).toThrow(/no sampled classes/);
    expect(() => estimateTotal({ values: [1, 2, 3] }, 2, 0.95)).toThrow(/cannot be smaller/);
    expect(() => estimateTotal({ values: [1, 2] }, 5, 1)).toThrow(/confidence/);
  });

  it('weighted quantiles: each value stands for its weight', () => {
    const items = [
      { value: 3, weight: 2 },
      { value: 1, weight: 1 },
      { value: 2, weight: 1 },
    ];
    // Sorted 1(1) 2(1) 3(2): cumulative 1, 2, 4 of 4.
    expect(weightedQuantile(items, 0.25)).toBe(1);
    expect(weightedQuantile(items, 0.5)).toBe(2);
    expect(weightedQuantile(items, 0.75)).toBe(3);
    expect(weightedQuantile(items, 1)).toBe(3);
  });

  it('draws the same reservoir sample for the same seed, uniformly', () => {
    const draw = (seed: string) => {
      const r = new Reservoir<number>(3, seededRandom(seed));
      for (let i = 0; i < 100; i++) r.offer(i);
      return r.sample();
    };
    expect(draw('a')).toEqual(draw('a'));
    expect(draw('a')).not.toEqual(draw('b'));
    const small = new Reservoir<number>(5, seededRandom('x'));
    [1, 2].forEach((i) => small.offer(i));
    expect(small.sample()).toEqual([1, 2]);
    expect(small.count).toBe(2);
    // Every item of a stream of 10 lands in a sample of 3 with probability 0.3.
    const hits = new Array<number>(10).fill(0);
    const random = seededRandom('uniform');
    const trials = 20_000;
    for (let t = 0; t < trials; t++) {
      const r = new Reservoir<number>(3, random);
      for (let i = 0; i < 10; i++) r.offer(i);
      for (const i of r.sample()) hits[i]!++;
    }
    for (const h of hits) expect(h / trials).toBeCloseTo(0.3, 1);
  });
});
