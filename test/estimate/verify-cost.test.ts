// Issue 22: `flants estimate` prices verification: a HEAD per file, a LIST per 1,000 keys (one per class at least), a GET per file with --deep.
import { describe, expect, it } from 'vitest';
import { loadPrices } from '../../src/estimate/prices.ts';
import { verifyCost } from '../../src/estimate/verify-cost.ts';

describe('verifyCost', () => {
  it('prices HEADs as GET-class and LISTs as PUT-class requests; --deep adds a GET per file, and the bytes from outside AWS', () => {
    const table = loadPrices();
    // 10,000 classes of 200 files, 1 TB.
    const v = verifyCost(10_000, 2_000_000, 1e12, table);
    expect(v.requests).toEqual({ head: 2_000_000, list: 10_000, getDeep: 2_000_000 });
    expect(v.usd).toBeCloseTo(2000 * 0.0004 + 10 * 0.005, 10);
    expect(v.usdDeep).toBeCloseTo(v.usd + 2000 * 0.0004, 10);
    expect(v.usdDeepOutside).toBeCloseTo(v.usdDeep + 1000 * 0.09, 10);
  });
  it('one class of 200,000 files is listed in 200 pages', () => {
    const table = loadPrices();
    expect(verifyCost(1, 200_000, 0, table).requests.list).toBe(200);
  });
});
