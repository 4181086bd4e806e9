/**
 * The `--faults SPEC` flag: which failures the local stack injects, and how they map onto the
 * origin server and the S3 fault proxy.
 *
 * Grammar: `none`, or comma-separated `key=value` entries, each key at most once:
 *   origin5xx, reset, truncate, slow   origin rates per request (their sum at most 1)
 *   s3, s3reset                        S3 object-write rates: 503 SlowDown, reset (sum at most 1)
 *   gone=N                             N media files of the library answer 404 forever
 *   slowms=MS                          delay of a slow origin response (default 2000)
 *   playlists=token|session            playlists differ on every request: a new token in every URI's
 *                                      query, or a new session id in every playlist's name (stable)
 *   throttle=N                         the origin answers 429 (Retry-After: 1) to a request arriving
 *                                      when N were served within the last second
 *   seed=N                             makes every decision repeatable (default 1)
 *   encoding=gzip|br|deflate|TOKEN     the origin encodes every whole file so (any other token is
 *                                      announced over unencoded bytes: an encoding no client knows)
 *   framing=length|chunked|close       how the origin ends bodies: Content-Length (default),
 *                                      chunked, or neither (the connection's close)
 * A rate is a decimal in [0, 1] ("0.05", ".05", "1") or a percentage ("5%").
 * Example: `origin5xx=0.1,reset=0.03,truncate=0.02,slow=0.01,s3=0.05,s3reset=0.01,gone=2,seed=7`.
 */
import { FlantsError } from '../src/errors.ts';
import type { SampleLibrary } from './library.ts';
import type { OriginFaults, OriginFraming, PlaylistMode } from './origin-server.ts';
import type { S3Faults } from './s3-fault-proxy.ts';
import { random } from './sample-random.ts';

export interface FaultSpec {
  seed: number;
  origin: {
    http5xx: number;
    reset: number;
    truncate: number;
    slow: number;
    slowMs: number;
    gone: number;
    /** Content-Encoding of every whole file; "" for identity. */
    encoding: string;
    framing: OriginFraming;
    playlists: PlaylistMode;
    /** Requests per second served before answering 429; 0: no throttling. */
    throttle: number;
  };
  s3: { slowDown: number; reset: number };
}

/** A fault spec that cannot be parsed; the message names the offending entry. */
export class FaultSpecError extends FlantsError {
  constructor(message: string) {
    super('FAULT_SPEC', message);
  }
}

export const NO_FAULTS: FaultSpec = {
  seed: 1,
  origin: {
    http5xx: 0,
    reset: 0,
    truncate: 0,
    slow: 0,
    slowMs: 2000,
    gone: 0,
    encoding: '',
    framing: 'length',
    playlists: 'stable',
    throttle: 0,
  },
  s3: { slowDown: 0, reset: 0 },
};

type Setter = (spec: FaultSpec, value: string, entry: string) => void;

function rate(value: string, entry: string): number {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(value);
  const n = pct ? Number(pct[1]) / 100 : /^(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n))
    throw new FaultSpecError(
      `--faults entry "${entry}": "${value}" is not a rate (use a decimal like 0.05 or a percentage like 5%)`,
    );
  if (n < 0 || n > 1) throw new FaultSpecError(`--faults entry "${entry}": rate ${value} is outside 0..1`);
  return n;
}

function whole(value: string, entry: string, max: number): number {
  if (!/^\d+$/.test(value)) throw new FaultSpecError(`--faults entry "${entry}": "${value}" is not a whole number`);
  const n = Number(value);
  if (n > max) throw new FaultSpecError(`--faults entry "${entry}": ${value} is more than ${max}`);
  return n;
}

function token(value: string, entry: string): string {
  if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/i.test(value))
    throw new FaultSpecError(`--faults entry "${entry}": "${value}" is not a content-coding (gzip, br, deflate, …)`);
  return value.toLowerCase();
}

function framing(value: string, entry: string): OriginFraming {
  const v = value.toLowerCase();
  if (v !== 'length' && v !== 'chunked' && v !== 'close')
    throw new FaultSpecError(`--faults entry "${entry}": framing is length, chunked or close, not "${value}"`);
  return v;
}

const KEYS: Readonly<Record<string, Setter>> = {
  origin5xx: (s, v, e) => void (s.origin.http5xx = rate(v, e)),
  reset: (s, v, e) => void (s.origin.reset = rate(v, e)),
  truncate: (s, v, e) => void (s.origin.truncate = rate(v, e)),
  slow: (s, v, e) => void (s.origin.slow = rate(v, e)),
  slowms: (s, v, e) => void (s.origin.slowMs = whole(v, e, 600_000)),
  gone: (s, v, e) => void (s.origin.gone = whole(v, e, 1_000_000)),
  s3: (s, v, e) => void (s.s3.slowDown = rate(v, e)),
  s3reset: (s, v, e) => void (s.s3.reset = rate(v, e)),
  seed: (s, v, e) => void (s.seed = whole(v, e, 2 ** 31 - 1)),
  encoding: (s, v, e) => void (s.origin.encoding = v.toLowerCase() === 'identity' ? '' : token(v, e)),
  framing: (s, v, e) => void (s.origin.framing = framing(v, e)),
  playlists: (s, v, e) => void (s.origin.playlists = playlistMode(v, e)),
  throttle: (s, v, e) => void (s.origin.throttle = whole(v, e, 1_000_000)),
};

function playlistMode(value: string, entry: string): PlaylistMode {
  if (value === 'stable' || value === 'token' || value === 'session') return value;
  throw new FaultSpecError(`--faults entry "${entry}": playlists must be stable, token or session, not "${value}"`);
}

/** Parses a `--faults` value (see the module comment for the grammar); throws FaultSpecError. */
export function parseFaultSpec(spec: string): FaultSpec {
  const out: FaultSpec = structuredClone(NO_FAULTS);
  const text = spec.trim();
  if (text === '') throw new FaultSpecError('--faults is empty: give entries like "origin5xx=0.1,s3=0.05" or "none"');
  if (text.toLowerCase() === 'none') return out;
  const seen = new Set<string>();
  text.split(',').forEach((raw, i) => {
    const entry = raw.trim();
    if (entry === '') throw new FaultSpecError(`--faults entry ${i + 1} is empty (stray comma in "${spec}")`);
    const eq = entry.indexOf('=');
    if (eq < 0) throw new FaultSpecError(`--faults entry "${entry}" must be key=value`);
    const key = entry.slice(0, eq).trim().toLowerCase();
    const value = entry.slice(eq + 1).trim();
    const set = KEYS[key];
    if (!set)
      throw new FaultSpecError(
        `--faults entry "${entry}": unknown key "${key}" (known: ${Object.keys(KEYS).join(', ')})`,
      );
    if (seen.has(key)) throw new FaultSpecError(`--faults entry "${entry}": "${key}" is given more than once`);
    if (value === '') throw new FaultSpecError(`--faults entry "${entry}" has no value`);
    seen.add(key);
    set(out, value, entry);
  });
  const o = out.origin;
  const originSum = o.http5xx + o.reset + o.truncate + o.slow;
  if (originSum > 1 + 1e-9)
    throw new FaultSpecError(
      `--faults: origin5xx + reset + truncate + slow add up to ${+originSum.toFixed(6)}, more than 1`,
    );
  if (out.s3.slowDown + out.s3.reset > 1 + 1e-9)
    throw new FaultSpecError(
      `--faults: s3 + s3reset add up to ${+(out.s3.slowDown + out.s3.reset).toFixed(6)}, more than 1`,
    );
  return out;
}

/** Renders a spec in the flag's grammar (only entries that differ from no faults), for logs and reports. */
export function formatFaultSpec(spec: FaultSpec): string {
  const parts: string[] = [];
  const add = (key: string, value: number, none: number) => {
    if (value !== none) parts.push(`${key}=${value}`);
  };
  add('origin5xx', spec.origin.http5xx, 0);
  add('reset', spec.origin.reset, 0);
  add('truncate', spec.origin.truncate, 0);
  add('slow', spec.origin.slow, 0);
  add('slowms', spec.origin.slowMs, NO_FAULTS.origin.slowMs);
  add('gone', spec.origin.gone, 0);
  add('throttle', spec.origin.throttle, 0);
  if (spec.origin.playlists !== 'stable') parts.push(`playlists=${spec.origin.playlists}`);
  add('s3', spec.s3.slowDown, 0);
  add('s3reset', spec.s3.reset, 0);
  add('seed', spec.seed, NO_FAULTS.seed);
  if (spec.origin.encoding !== '') parts.push(`encoding=${spec.origin.encoding}`);
  if (spec.origin.framing !== 'length') parts.push(`framing=${spec.origin.framing}`);
  return parts.length ? parts.join(',') : 'none';
}

/** True when the spec injects anything at all (an encoding or framing other than the plain one included). */
export function hasFaults(spec: FaultSpec): boolean {
  const o = spec.origin;
  return (
    o.http5xx + o.reset + o.truncate + o.slow + o.gone + o.throttle + spec.s3.slowDown + spec.s3.reset > 0 ||
    o.encoding !== '' ||
    o.framing !== 'length' ||
    o.playlists !== 'stable'
  );
}

/**
 * Chooses `count` media segments that will be gone for good, spread over as many classes as
 * possible. Only segments: their classes still crawl, then fail on exactly these files.
 */
export function pickGoneFiles(library: Pick<SampleLibrary, 'classes' | 'file'>, count: number, seed: number): string[] {
  const pools = library.classes.map((c) => c.paths.filter((p) => library.file(p)?.kind === 'segment'));
  const available = pools.reduce((a, p) => a + p.length, 0);
  if (count > available)
    throw new FaultSpecError(`--faults gone=${count}: the library has only ${available} media segments`);
  const rng = random('gone', seed);
  // A seeded shuffle of the classes, then one file per class in turn.
  const order = pools.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const picked: string[] = [];
  for (let turn = 0; picked.length < count; turn++) {
    const pool = pools[order[turn % order.length]!]!;
    if (pool.length === 0) continue;
    picked.push(pool.splice(rng.int(0, pool.length - 1), 1)[0]!);
  }
  return picked;
}

/** The origin server's fault settings for a spec, with `gone` resolved to files of `library`. */
export function originFaultsFor(
  spec: FaultSpec,
  library: Pick<SampleLibrary, 'classes' | 'file'>,
): OriginFaults & { gone: string[] } {
  const o = spec.origin;
  return {
    seed: spec.seed,
    http5xx: o.http5xx,
    reset: o.reset,
    truncate: o.truncate,
    slow: o.slow,
    slowMs: o.slowMs,
    gone: o.gone > 0 ? pickGoneFiles(library, o.gone, spec.seed) : [],
    ...(o.encoding !== '' ? { encoding: o.encoding } : {}),
    ...(o.framing !== 'length' ? { framing: o.framing } : {}),
    ...(o.playlists !== 'stable' ? { playlists: o.playlists } : {}),
    ...(o.throttle > 0 ? { throttleRps: o.throttle } : {}),
  };
}

/** The S3 fault proxy's settings for a spec. */
export function s3FaultsFor(spec: FaultSpec): S3Faults {
  return { seed: spec.seed, slowDown: spec.s3.slowDown, reset: spec.s3.reset };
}
