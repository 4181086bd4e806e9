import { createHash } from 'node:crypto';

/** Deterministic pseudo-random numbers: the same parts always give the same sequence. */
export interface Random {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
}

/** SHA-256 of the parts joined unambiguously; the root of every derived value. */
export function digest(...parts: ReadonlyArray<string | number>): Buffer {
  const h = createHash('sha256');
  // Length-prefixing keeps ("ab","c") and ("a","bc") apart.
  for (const p of parts) {
    const s = String(p);
    h.update(`${s.length}:${s};`);
  }
  return h.digest();
}

/** A small fast generator (sfc32) seeded from a digest of `parts`. */
export function random(...parts: ReadonlyArray<string | number>): Random {
  const d = digest(...parts);
  let a = d.readUInt32LE(0);
  let b = d.readUInt32LE(4);
  let c = d.readUInt32LE(8);
  let n = d.readUInt32LE(12);
  const next = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    n |= 0;
    const t = (((a + b) | 0) + n) | 0;
    n = (n + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // The first outputs of sfc32 correlate with the seed words; discard them.
  for (let i = 0; i < 12; i++) next();
  return {
    next,
    int(min, max) {
      return min + Math.floor(next() * (max - min + 1));
    },
    pick(items) {
      if (items.length === 0) throw new RangeError('pick() from an empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
  };
}
