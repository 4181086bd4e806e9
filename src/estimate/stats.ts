/**
 * The statistics of `flants estimate`, pure: from per-class measurements of a random sample of
 * classes to library totals with a confidence interval.
 *
 * The sampled unit is the class (a simple random sample without replacement from the library's
 * valid classes), so a library total is N times the sample mean, and its interval is a Student t
 * interval with the finite population correction: classes differ wildly (a one-file byte-ranged
 * class next to a 5,000-segment lecture), and the t interval is honest about a small sample where
 * a normal interval is not. When a class's bytes were measured on a subsample of its files, that
 * class contributes its own variance too (two-stage sampling, Cochran §10.2).
 */

/** A library total: the estimate and the ends of its confidence interval. */
export interface Range {
  low: number;
  mid: number;
  high: number;
}

/** Arithmetic mean; NaN for no values. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Unbiased sample variance (n − 1 in the denominator); 0 for fewer than two values. */
export function sampleVariance(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  let s = 0;
  for (const v of values) s += (v - m) ** 2;
  return s / (values.length - 1);
}

// ln Γ(x) by the Lanczos approximation (g = 7, 9 terms): 15 significant digits for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

// Continued fraction of the incomplete beta function (modified Lentz), as in Numerical Recipes §6.4.
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast only on this side of the mean; use the symmetry otherwise.
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t distribution with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The t with P(T ≤ t) = p, for Student's t with `df` degrees of freedom (p in (0, 1)). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile probability must be in (0, 1), got ${p}`);
  if (!(df >= 1)) throw new RangeError(`degrees of freedom must be at least 1, got ${df}`);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  // Bisection on the CDF: monotone, and 200 halvings of [0, 1e7] are far below double precision.
  let lo = 0;
  let hi = 1e7;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, lo); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** How a sample of classes measures one quantity, for `estimateTotal`. */
export interface SampleOfClasses {
  /** The quantity for each sampled class (or its unbiased estimate, when measured on a subsample of files). */
  values: readonly number[];
  /** Per class, the variance of that estimate (0, or absent, when measured exactly). */
  withinVariances?: readonly number[];
}

/**
 * Estimates a library total from a simple random sample of `n` of its `populationSize` classes:
 * N × mean, with a two-sided `confidence` t interval (df n − 1) that applies the finite population
 * correction and adds within-class variance. The low end never drops below what the sample itself
 * holds when that is exact. A sample of every class is exact (low = mid = high, within-class
 * variance aside). Throws when a range cannot be given: fewer than two classes from a larger library.
 */
export function estimateTotal(sample: SampleOfClasses, populationSize: number, confidence: number): Range {
  const n = sample.values.length;
  const N = populationSize;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  if (n === 0) throw new RangeError('no sampled classes');
  if (!Number.isInteger(N) || N < n)
    throw new RangeError(`the library (${N} classes) cannot be smaller than the sample (${n})`);
  if (n < 2 && N > n) throw new RangeError('a range needs at least 2 sampled classes (or the whole library)');
  const within = sample.withinVariances ?? [];
  const exactSample = within.every((v) => v === 0);
  const sum = sample.values.reduce((a, b) => a + b, 0);
  const mid = (N * sum) / n;
  // Between classes: N²(1 − n/N)s²/n. Within classes (two-stage): (N/n) Σ v_c.
  const between = n >= 2 ? (N * N * (1 - n / N) * sampleVariance(sample.values)) / n : 0;
  const withinSum = within.reduce((a, b) => a + b, 0);
  const variance = between + (N / n) * withinSum;
  if (variance === 0) return { low: mid, mid, high: mid };
  const df = Math.max(1, n - 1);
  const half = studentTQuantile(0.5 + confidence / 2, df) * Math.sqrt(variance);
  const floor = exactSample ? sum : 0;
  return { low: Math.max(floor, mid - half), mid, high: mid + half };
}

/** A value with a weight (how many files of the library one measured file stands for). */
export interface Weighted {
  value: number;
  weight: number;
}

/** The weighted p-quantile (p in [0, 1]): the smallest value whose cumulative weight reaches p of the total. */
export function weightedQuantile(items: readonly Weighted[], p: number): number {
  if (items.length === 0) return Number.NaN;
  const sorted = [...items].sort((a, b) => a.value - b.value);
  const total = sorted.reduce((a, b) => a + b.weight, 0);
  let acc = 0;
  for (const it of sorted) {
    acc += it.weight;
    if (acc >= p * total - 1e-9 * total) return it.value;
  }
  return sorted[sorted.length - 1]!.value;
}

/** A small deterministic PRNG (mulberry32) seeded from any string: the same seed draws the same sample. */
export function seededRandom(seed: string): () => number {
  // FNV-1a folds the seed into 32 bits.
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let a = h;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Reservoir sampling (Algorithm R): a uniform sample of `k` items from a stream of unknown length,
 * in one pass, so a catalog of millions of classes is read once and never held in memory.
 */
export class Reservoir<T> {
  private readonly items: T[] = [];
  private seen = 0;

  constructor(
    private readonly k: number,
    private readonly random: () => number,
  ) {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`sample size must be a whole number, got ${k}`);
  }

  /** Offers one item of the stream. */
  offer(item: T): void {
    this.seen++;
    if (this.items.length < this.k) {
      this.items.push(item);
      return;
    }
    const j = Math.floor(this.random() * this.seen);
    if (j < this.k) this.items[j] = item;
  }

  /** Items offered so far. */
  get count(): number {
    return this.seen;
  }

  /** The sample, in the order items first entered it. */
  sample(): T[] {
    return [...this.items];
  }
}
