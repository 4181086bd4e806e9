/**
 * The estimate's crawl: each sampled class enumerated by the crawler's own `planClass` through the
 * allow-listed origin client, then its files sized without copying a byte. Polite by construction:
 * one concurrency cap over every request (playlists and probes alike) and a hard request budget.
 */
import type { Config } from '../config.ts';
import { describeError, FlantsError, isRetryable } from '../errors.ts';
import { planClass } from '../hls/enumerate.ts';
import { classRoot } from '../hls/keys.ts';
import type { PlannedFile, PlaylistFetcher } from '../hls/types.ts';
import type { Origin } from '../domain/ports/origin.ts';
import { withPlaylistRetries } from '../pipeline/playlist-retries.ts';
import { withRetry } from '../util/retry.ts';
import { byteRangeEnds } from './byterange.ts';
import { chooseProbes, profileClass, type ClassProfile, type SizeSource, type Stratum } from './class-profile.ts';
import { createSizeProbe, type SizeProbe } from './probe.ts';
import type { RequestShape } from './requests.ts';

/** Thrown when the request budget is spent; the class being measured is left out of the sample. */
export class BudgetSpentError extends FlantsError {
  constructor(limit: number) {
    super('ESTIMATE_BUDGET_SPENT', `the estimate's request budget of ${limit} requests is spent`);
  }
}

/** A hard cap on requests to the origin. */
export class RequestBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Counts one request, or throws BudgetSpentError when none is left. */
  take(): void {
    if (this.used >= this.limit) throw new BudgetSpentError(this.limit);
    this.used++;
  }

  get spent(): number {
    return this.used;
  }

  get left(): number {
    return this.limit - this.used;
  }
}

/** At most `limit` tasks at once, across every caller. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /** Runs `fn` once a slot is free. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** A class to measure. */
export interface SampleTarget {
  classId: string;
  title: string;
  manifestUrl: string;
}

/** How the sample is crawled: what to read with, and how politely. */
export interface CrawlOptions {
  cfg: Pick<Config, 'hls' | 'destPrefix' | 'origin' | 'transfer'>;
  allowedHosts: readonly string[];
  /** Reads playlists; the allow-listed origin client. */
  origin: Pick<Origin, 'fetchText'>;
  /** Requests in flight at once, playlists and size probes together. */
  concurrency: number;
  budget: RequestBudget;
  random: () => number;
  shape: RequestShape & { partSizeBytes: number };
  /** Called after each class, for progress. */
  onClass?: (done: number, of: number, profile: ClassProfile | undefined) => void;
  signal?: AbortSignal;
}

/** What the crawl of the sample measured. */
export interface CrawlOutcome {
  profiles: ClassProfile[];
  /** Sampled classes that cannot be crawled, and why (they are in `profiles` as empty classes). */
  failed: Array<{ classId: string; manifestUrl: string; reason: string }>;
  /** Sampled classes left out: the request budget ran out, or the origin kept failing on them. */
  unmeasured: number;
  /** Probed files that could not be sized (other than 404), by reason. */
  unsized: number;
  requests: number;
  seconds: number;
  warnings: string[];
}

interface Recorded {
  finalUrl: string;
  body: string;
}

/**
 * Measures each target in turn (requests within a class run in parallel up to `concurrency`). A class
 * whose playlists cannot be crawled for a reason no retry fixes stays in the sample as an empty class,
 * as the copy would fail it; one the origin keeps failing on (5xx, timeouts) is left out with a
 * warning; when the budget runs out, the rest of the sample is left unmeasured.
 */
export async function crawlSample(targets: readonly SampleTarget[], opts: CrawlOptions): Promise<CrawlOutcome> {
  const started = Date.now();
  const limiter = new Limiter(opts.concurrency);
  const probe = createSizeProbe({
    allowedHosts: opts.allowedHosts,
    maxRedirects: opts.cfg.origin.maxRedirects,
    connectTimeoutMs: opts.cfg.origin.connectTimeoutMs,
    headersTimeoutMs: opts.cfg.origin.headersTimeoutMs,
    connections: opts.concurrency,
    beforeRequest: () => opts.budget.take(),
  });
  const outcome: CrawlOutcome = {
    profiles: [],
    failed: [],
    unmeasured: 0,
    unsized: 0,
    requests: 0,
    seconds: 0,
    warnings: [],
  };
  let playlistRequests = 0;
  try {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i]!;
      const before = opts.budget.spent;
      let profile: ClassProfile | undefined;
      try {
        profile = await measureClass(
          target,
          opts,
          limiter,
          probe,
          targets.length - i,
          { playlists: playlistRequests, classes: outcome.profiles.length },
          outcome,
        );
        playlistRequests += profile.playlists;
      } catch (err) {
        if (err instanceof BudgetSpentError) {
          outcome.unmeasured += targets.length - i;
          outcome.warnings.push(
            `the request budget (${opts.budget.limit}) ran out after ${outcome.profiles.length} of ${targets.length} sampled classes; raise --budget for a tighter range`,
          );
          break;
        }
        const reason = describeError(err);
        if (isRetryable(err)) {
          // Passing trouble (still failing after the crawler's retries) says nothing about the library:
          // leave the class out rather than count it as empty.
          outcome.unmeasured++;
          outcome.warnings.push(`sampled class ${target.classId} left out: ${reason}`);
          opts.onClass?.(i + 1, targets.length, undefined);
          continue;
        }
        outcome.failed.push({ classId: target.classId, manifestUrl: target.manifestUrl, reason });
        profile = profileClass(
          {
            ...target,
            files: [],
            known: new Map(),
            strata: [],
            missing: new Set(),
            crawlSeconds: 0,
            originRequests: opts.budget.spent - before,
          },
          opts.shape,
        );
      }
      outcome.profiles.push(profile);
      opts.onClass?.(i + 1, targets.length, profile);
    }
  } finally {
    await probe.close();
  }
  if (outcome.failed.length)
    outcome.warnings.push(
      `${outcome.failed.length} sampled classes cannot be crawled (first: ${outcome.failed[0]!.classId}: ${outcome.failed[0]!.reason}); they count as empty classes, as the copy would fail them`,
    );
  if (outcome.unsized)
    outcome.warnings.push(`${outcome.unsized} probed files gave no size; their strata's other files stand in for them`);
  outcome.requests = opts.budget.spent;
  outcome.seconds = (Date.now() - started) / 1000;
  return outcome;
}

async function measureClass(
  target: SampleTarget,
  opts: CrawlOptions,
  limiter: Limiter,
  probe: SizeProbe,
  classesLeft: number,
  before: { playlists: number; classes: number },
  outcome: CrawlOutcome,
): Promise<ClassProfile> {
  const spentBefore = opts.budget.spent;
  const recorded = new Map<string, Recorded>();
  const counting: PlaylistFetcher = {
    fetchText: (url, o) =>
      limiter.run(async () => {
        opts.budget.take();
        const res = await opts.origin.fetchText(url, o);
        recorded.set(url, { finalUrl: res.url, body: res.body });
        return res;
      }),
  };
  // Transient trouble is retried as the crawler retries it (each attempt counts against the budget).
  const fetcher = withPlaylistRetries(counting, {
    attempts: opts.cfg.transfer.retryAttempts,
    baseDelayMs: opts.cfg.transfer.retryBaseDelayMs,
  });
  const t0 = Date.now();
  const files = await planClass(target.manifestUrl, fetcher, {
    limits: opts.cfg.hls,
    // Keyed as the crawler keys it (a root per class), so job and ledger item sizes are the real ones.
    destPrefix: classRoot(opts.cfg.destPrefix, target.classId),
    allowedHosts: opts.allowedHosts,
    concurrency: opts.concurrency,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const crawlSeconds = (Date.now() - t0) / 1000;

  // Sizes the playlists already give: their own bodies, and the byte ranges they reference.
  const known = new Map<string, { bytes: number; source: SizeSource }>();
  const ends = new Map<string, number>();
  for (const r of recorded.values())
    for (const [href, end] of byteRangeEnds(r.body, new URL(r.finalUrl)))
      ends.set(href, Math.max(ends.get(href) ?? 0, end));
  const unsized: PlannedFile[] = [];
  for (const f of files) {
    const body = f.kind === 'playlist' ? recorded.get(f.src) : undefined;
    const end = ends.get(f.src.replace(/#.*$/, ''));
    if (body) known.set(f.key, { bytes: Buffer.byteLength(body.body, 'utf8'), source: 'playlist' });
    else if (end !== undefined) known.set(f.key, { bytes: end, source: 'byterange' });
    else unsized.push(f);
  }

  // This class's share of what is left, keeping each later class room for its playlists (as many as the
  // classes so far had). Two probes at least: more classes measured coarsely narrow the range more than
  // fewer classes measured finely, because classes differ far more than the files of one rendition do.
  const playlistsPerClass = (before.playlists + recorded.size) / (before.classes + 1);
  const reserve = Math.ceil(playlistsPerClass * (classesLeft - 1));
  const allowance = Math.max(2, Math.floor((opts.budget.left - reserve) / classesLeft));
  const strata: Stratum[] | undefined = chooseProbes(unsized, Math.min(allowance, opts.budget.left), opts.random);
  if (!strata) throw new BudgetSpentError(opts.budget.limit);

  const missing = new Set<string>();
  const byKey = new Map(files.map((f) => [f.key, f]));
  const toProbe = strata.flatMap((s) => s.probe);
  await Promise.all(
    toProbe.map((key) =>
      limiter.run(async () => {
        const f = byKey.get(key)!;
        try {
          const r = await withRetry(() => probe.size(f.src, opts.signal), {
            attempts: opts.cfg.transfer.retryAttempts,
            baseDelayMs: opts.cfg.transfer.retryBaseDelayMs,
            maxDelayMs: 5_000,
            retryable: (err) => !(err instanceof BudgetSpentError) && isRetryable(err),
            ...(opts.signal ? { signal: opts.signal } : {}),
          });
          if (r.ok) known.set(key, { bytes: r.bytes, source: 'probe' });
          else missing.add(key);
        } catch (err) {
          // A spent budget or a file that gives no size: the stratum's other probes stand in for it.
          if (!(err instanceof BudgetSpentError)) outcome.unsized++;
        }
      }),
    ),
  );
  return profileClass(
    { ...target, files, known, strata, missing, crawlSeconds, originRequests: opts.budget.spent - spentBefore },
    opts.shape,
  );
}
