import { random, type Random } from './sample-random.ts';

/** The outcome of one roll: which fault (if any) and a generator for the fault's details. */
export interface Roll<K extends string> {
  kind: K | undefined;
  /** Further deterministic draws for this request (500 or 503, where to cut a body, ...). */
  detail: Random;
}

/**
 * Decides faults per request. The n-th request for a key always gets the same outcome for a
 * given seed, however requests for different keys interleave, so concurrent runs repeat.
 */
export class FaultDice<K extends string> {
  readonly #seed: number;
  readonly #domain: string;
  readonly #attempts = new Map<string, number>();

  constructor(seed: number, domain: string) {
    this.#seed = seed;
    this.#domain = domain;
  }

  /** Rolls once for `key` against `rates`, tried in order as adjacent slices of [0, 1). */
  roll(key: string, rates: ReadonlyArray<readonly [K, number]>): Roll<K> {
    const n = this.#attempts.get(key) ?? 0;
    this.#attempts.set(key, n + 1);
    const detail = random('fault', this.#domain, this.#seed, key, n);
    const u = detail.next();
    let edge = 0;
    for (const [kind, rate] of rates) {
      edge += rate;
      if (u < edge) return { kind, detail };
    }
    return { kind: undefined, detail };
  }
}

/** Checks each rate is in [0, 1] and their sum is at most 1; `what` names the caller in errors. */
export function checkRates(what: string, rates: Readonly<Record<string, number | undefined>>): void {
  let sum = 0;
  for (const [name, rate] of Object.entries(rates)) {
    if (rate === undefined) continue;
    if (!(typeof rate === 'number' && rate >= 0 && rate <= 1))
      throw new RangeError(`${what}: rate ${name} must be a number from 0 to 1, got ${String(rate)}`);
    sum += rate;
  }
  if (sum > 1 + 1e-9)
    throw new RangeError(`${what}: rates add up to ${sum}, more than 1 (${Object.keys(rates).join(' + ')})`);
}
