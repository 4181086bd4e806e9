/**
 * How long a copy takes, pure: the transfer workers' throughput (per-function figures measured by
 * `npm run bench`), Lambda's SQS scaling ramp, the origin's limits and the crawler's feed rate.
 */

/** Lambda's SQS event source scaling (AWS Lambda developer guide, "Configuring scaling behavior for SQS event source mappings"). */
export const SQS_SCALING = {
  /** Concurrent batches when messages first appear. */
  initial: 5,
  /** Concurrent batches added per minute while messages remain. */
  perMinute: 300,
  /** Most concurrent batches one event source mapping processes. */
  maxPerMapping: 1000,
} as const;

/** A Lambda function gets one full vCPU at 1,769 MB of memory, and CPU in proportion below that. */
export const MB_PER_VCPU = 1769;

/** The work of a copy and the limits it runs under. */
export interface WallInput {
  files: number;
  bytes: number;
  classes: number;
  /** Transfer invocations (one per batch of chunks). */
  transferInvocations: number;
  /** Playlists the crawler reads (origin requests before any copy starts). */
  playlists: number;
  /** Catalog scan pages. */
  scanPages: number;
  /** CPU milliseconds per file copied (bench). */
  cpuMsPerFile: number;
  /** MB/s one concurrent transfer invocation moves (bench). */
  workerMBps: number;
  /** Round trips a file costs in the cloud (origin first byte + S3 PUT), milliseconds; overlapped by `inFlightPerWorker`. */
  fileLatencyMs: number;
  /** Files one invocation copies at once: transfer batch size × TRANSFER_CONCURRENCY. */
  inFlightPerWorker: number;
  /** Transfer function memory, MB. */
  memoryMb: number;
  /** The transfer event source mapping's maximum concurrency (serverless.yml `transferMaxConcurrency`). */
  transferMaxConcurrency: number;
  /** Unreserved account concurrency left for the transfer function. */
  accountConcurrency: number;
  /** Crawler concurrency and the seconds one class takes to crawl. */
  crawlerConcurrency: number;
  crawlSecondsPerClass: number;
  /** Seconds one scan page takes (the scan is sequential: each page sends the next). */
  scanSecondsPerPage: number;
  /** The origin's limits, if known: requests per second and MB/s. */
  originRps?: number | undefined;
  originMBps?: number | undefined;
}

/** What bounds the copy's pace. */
export type WallLimit =
  | 'transfer CPU'
  | 'transfer bandwidth'
  | 'per-file latency'
  | 'origin requests/s'
  | 'origin bandwidth'
  | 'crawler'
  | 'scanner';

/** The copy's duration, with the work behind it. */
export interface WallEstimate {
  seconds: number;
  /** Seconds from the first transfer to the last (ramp included). */
  transferSeconds: number;
  /** Seconds the scan and crawl need to hand out every class. */
  feedSeconds: number;
  /** The most concurrent transfer invocations allowed: the mapping's maximum, the account's, 1,000. */
  ceiling: number;
  /** Seconds until the ramp reaches the ceiling. */
  rampSeconds: number;
  /** The highest concurrency the transfer reaches (the ceiling, unless the copy ends during the ramp). */
  concurrency: number;
  /** Transfer function busy time, summed over invocations (× memory = GB-seconds). */
  transferWorkerSeconds: number;
  /** What the workers are bound by, and what bounds the whole copy. */
  workerBound: 'transfer CPU' | 'transfer bandwidth' | 'per-file latency';
  limit: WallLimit;
}

/**
 * Estimates the copy's wall time. Each transfer invocation is bound by the slowest of its CPU
 * (files × CPU ms per file at its vCPU share), its bandwidth (bytes at the bench's MB/s per worker)
 * and per-file round trips overlapped by its in-flight copies; concurrency follows Lambda's ramp
 * (5 batches, +300 per minute) up to the mapping's maximum, the account's and 1,000; the origin's
 * request rate and bandwidth cap the pace; and the transfer cannot finish before the scan and the
 * crawl have handed out the last class (plus that class's own copy time).
 */
export function estimateWall(w: WallInput): WallEstimate {
  const vcpu = Math.min(1, w.memoryMb / MB_PER_VCPU);
  const bounds = {
    'transfer CPU': (w.files * w.cpuMsPerFile) / 1000 / vcpu,
    'transfer bandwidth': w.bytes / (w.workerMBps * 1e6),
    'per-file latency': (w.files * w.fileLatencyMs) / 1000 / Math.max(1, w.inFlightPerWorker),
  } as const;
  const workerBound = (Object.keys(bounds) as Array<keyof typeof bounds>).reduce((a, b) =>
    bounds[b] > bounds[a] ? b : a,
  );
  const workerSeconds = bounds[workerBound];
  const ceiling = Math.max(1, Math.min(w.transferMaxConcurrency, SQS_SCALING.maxPerMapping, w.accountConcurrency));
  const rampSeconds =
    ceiling <= SQS_SCALING.initial ? 0 : Math.ceil((ceiling - SQS_SCALING.initial) / SQS_SCALING.perMinute) * 60;

  // Progress as a fraction of the library per second; the origin caps it whatever the concurrency.
  const caps: Array<[WallLimit, number]> = [];
  if (w.originRps && w.files > 0) caps.push(['origin requests/s', w.originRps / w.files]);
  if (w.originMBps && w.bytes > 0) caps.push(['origin bandwidth', (w.originMBps * 1e6) / w.bytes]);
  const originCap = caps.reduce<[WallLimit, number] | undefined>(
    (a, c) => (a === undefined || c[1] < a[1] ? c : a),
    undefined,
  );
  const perWorker = workerSeconds > 0 ? 1 / workerSeconds : Number.POSITIVE_INFINITY;
  let limit: WallLimit = workerBound;
  let done = 0;
  let t = 0;
  let concurrency: number;
  let reached = 0;
  // Minute by minute through the ramp, then closed form at the ceiling.
  for (let minute = 0; done < 1; minute++) {
    concurrency = Math.min(ceiling, SQS_SCALING.initial + SQS_SCALING.perMinute * minute);
    reached = concurrency;
    let rate = concurrency * perWorker;
    if (originCap && originCap[1] < rate) {
      rate = originCap[1];
      limit = originCap[0];
    } else {
      limit = workerBound;
    }
    if (!Number.isFinite(rate)) break;
    const atCeiling = concurrency === ceiling;
    const step = atCeiling ? (1 - done) / rate : Math.min(60, (1 - done) / rate);
    t += step;
    done += rate * step;
    if (atCeiling) break;
  }
  const transferSeconds = t;
  const feed = {
    scanner: w.scanPages * w.scanSecondsPerPage,
    crawler: (w.classes * w.crawlSecondsPerClass) / Math.max(1, w.crawlerConcurrency),
  };
  const feedLimit: WallLimit = feed.scanner > feed.crawler ? 'scanner' : 'crawler';
  const feedSeconds = Math.max(feed.scanner, feed.crawler);
  // After the last class is handed out, its own chunks still take one invocation's time.
  const tail = w.transferInvocations > 0 ? workerSeconds / w.transferInvocations : 0;
  const seconds = Math.max(transferSeconds, feedSeconds + tail);
  return {
    seconds,
    transferSeconds,
    feedSeconds,
    ceiling,
    rampSeconds,
    concurrency: reached,
    transferWorkerSeconds: workerSeconds,
    workerBound,
    limit: feedSeconds + tail > transferSeconds ? feedLimit : limit,
  };
}
