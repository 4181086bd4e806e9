/**
 * From a measured sample to the whole library, pure: totals with confidence ranges, the requests
 * by service, their cost, and the wall time.
 */
import { FILE_KINDS, type FileKind } from '../hls/types.ts';
import type { LibrarySizeSource } from './arguments.ts';
import type { ClassProfile } from './class-profile.ts';
import { costOf, type Cost, type OriginPlace, type PriceTable, type Usage } from './prices.ts';
import { verifyCost, type VerifyCost } from './verify-cost.ts';
import { idlePollRequests, scanRequests, transferDeliveries } from './requests.ts';
import { estimateTotal, weightedQuantile, type Range, type Weighted } from './stats.ts';
import { estimateWall, type WallEstimate, type WallLimit } from './wall.ts';

/** The deployment and the per-function figures the estimate runs with. */
export interface EstimateSettings {
  /** TRANSFER_CHUNK_FILES, TRANSFER_PART_SIZE_MB (bytes), TRANSFER_CONCURRENCY, SCAN_PAGE_SIZE. */
  chunkFiles: number;
  partSizeBytes: number;
  transferConcurrency: number;
  scanPageSize: number;
  /** serverless.yml, for the stage: batch sizes and maximum concurrencies. */
  transferBatchSize: number;
  transferMaxConcurrency: number;
  crawlerMaxConcurrency: number;
  scannerMaxConcurrency: number;
  accountConcurrency: number;
  transferMemoryMb: number;
  otherMemoryMb: number;
  architecture: 'arm64' | 'x86_64';
  cpuMsPerFile: number;
  workerMBps: number;
  fileLatencyMs: number;
  scanSecondsPerPage: number;
  originRps?: number | undefined;
  originMBps?: number | undefined;
  originPlace: OriginPlace;
}

/** The sample, the library's size and what to price it with. */
export interface EstimateInput {
  profiles: readonly ClassProfile[];
  /** Valid classes in the library (N). */
  libraryClasses: number;
  /** Catalog documents a scan reads (valid or not); the library's classes when unknown. */
  catalogDocuments: number;
  confidence: number;
  settings: EstimateSettings;
  prices: PriceTable;
  pricesFile: string;
  /** Time the sample's crawl took, and the requests it made (classes left out included). */
  sampleSeconds: number;
  sampleRequests?: number;
  warnings?: readonly string[];
}

/** A file-size bucket of the distribution. */
export interface SizeBucket {
  /** Upper bound in bytes (exclusive); null for the last, open bucket. */
  below: number | null;
  share: number;
  files: number;
}

/** What `flants estimate --json` prints. */
export interface EstimateReport {
  sample: {
    classes: number;
    files: number;
    bytes: number;
    playlists: number;
    /** Sampled classes whose playlists cannot be crawled (counted as empty classes: the copy would fail them). */
    failedClasses: number;
    /** Files by how their size is known. */
    sizeSources: Record<'playlist' | 'byterange' | 'probe' | 'estimated', number>;
    missingFiles: number;
    originRequests: number;
    seconds: number;
  };
  library: {
    classes: number;
    /** Where `classes` came from (`flants estimate` sets it; extrapolate alone does not know). */
    classesFrom?: LibrarySizeSource;
    catalogDocuments: number;
    confidence: number;
    files: Range;
    bytes: Range;
    playlists: Range;
    perClass: { files: number; bytes: number; playlists: number; crawlSeconds: number };
    fileSizes: { mean: number; p50: number; p90: number; p99: number; max: number; buckets: SizeBucket[] };
    byKind: Partial<Record<FileKind, { files: number; bytes: number }>>;
  };
  /** Requests for the whole copy, by service: S3 PUT-class requests, billed SQS requests, DynamoDB requests, Lambda invocations. */
  requests: { s3: number; sqs: number; dynamodb: number; lambda: number };
  usage: {
    s3: { putRequests: number; multipartUploads: number };
    sqs: { requests: number; byQueue: { scan: number; crawl: number; transfer: number; idlePolls: number } };
    dynamodb: { requests: number; readUnits: number; writeUnits: number };
    lambda: {
      invocations: number;
      gbSeconds: number;
      byFunction: Record<
        'scanner' | 'crawler' | 'transfer',
        { invocations: number; gbSeconds: number; memoryMb: number }
      >;
    };
    origin: { requests: number; bytes: number; place: OriginPlace };
  };
  costUsd: Cost & { range: { low: number; high: number } };
  /** What verifying the whole copy costs (`flants verify`; not part of the copy's cost). */
  verify: VerifyCost;
  wallSeconds: Range;
  wall: Omit<WallEstimate, 'seconds'> & { limit: WallLimit };
  settings: EstimateSettings;
  prices: { file: string; region: string; transcribed: string };
  warnings: string[];
}

type Scenario = 'low' | 'mid' | 'high';

/** Upper bounds of the size buckets: 16 KiB, 256 KiB, 1 MiB, 4 MiB, 16 MiB, 64 MiB, then open. */
const BUCKETS = [16, 256, 1024, 4096, 16384, 65536].map((k) => k * 1024);

/**
 * A range from the figures of the library's low, mid and high scenarios. Costs and times grow with
 * files and bytes, but not strictly (a fixed floor such as the scan can dominate a small library), so
 * the ends are ordered rather than assumed.
 */
function ordered(low: number, mid: number, high: number): Range {
  return { low: Math.min(low, mid, high), mid, high: Math.max(low, mid, high) };
}

/** Extrapolates a sample of classes to the library: every figure of the report. */
export function extrapolate(input: EstimateInput): EstimateReport {
  const { profiles, settings: s } = input;
  const N = input.libraryClasses;
  const n = profiles.length;
  const total = (values: number[], within?: number[]): Range =>
    estimateTotal({ values, ...(within ? { withinVariances: within } : {}) }, N, input.confidence);
  const of = (f: (p: ClassProfile) => number) => profiles.map(f);

  const files = total(of((p) => p.files));
  const bytes = total(
    of((p) => p.bytes.value),
    of((p) => p.bytes.variance),
  );
  const playlists = total(of((p) => p.playlists));
  const playlistBytes = total(of((p) => p.byKind.playlist?.bytes ?? 0));
  const s3Puts = total(
    of((p) => p.s3Requests.value),
    of((p) => p.s3Requests.variance),
  );
  const multipart = total(
    of((p) => p.multipartFiles.value),
    of((p) => p.multipartFiles.variance),
  );
  const chunks = total(of((p) => p.requests.chunks));
  const messageBytes = total(of((p) => p.requests.transferMessageBytes));
  const sqsCrawl = total(of((p) => p.requests.sqs.crawl));
  const sqsTransferSend = total(of((p) => p.requests.sqs.transferSend));
  const deliveries = (x: Scenario) => transferDeliveries(chunks[x], messageBytes[x], s.transferBatchSize);
  const transferInvocations = {
    low: deliveries('low').invocations,
    mid: deliveries('mid').invocations,
    high: deliveries('high').invocations,
  };
  const ddbRequests = total(of((p) => p.requests.dynamodb.requests));
  const ddbRead = total(of((p) => p.requests.dynamodb.readUnits));
  const ddbWrite = total(of((p) => p.requests.dynamodb.writeUnits));
  const crawlSecondsPerClass = profiles.reduce((a, p) => a + p.crawlSeconds, 0) / n;
  const scan = scanRequests(input.catalogDocuments, N, s.scanPageSize);

  const wallFor = (x: Scenario): WallEstimate =>
    estimateWall({
      files: files[x],
      bytes: bytes[x],
      classes: N,
      // Fractional: the wall model wants one invocation's share of the work, not a rounded count.
      transferInvocations: chunks[x] / s.transferBatchSize,
      playlists: playlists[x],
      scanPages: scan.pages,
      cpuMsPerFile: s.cpuMsPerFile,
      workerMBps: s.workerMBps,
      fileLatencyMs: s.fileLatencyMs,
      inFlightPerWorker: s.transferBatchSize * s.transferConcurrency,
      memoryMb: s.transferMemoryMb,
      transferMaxConcurrency: s.transferMaxConcurrency,
      // The scanner and crawler draw on the same account quota while the transfer runs.
      accountConcurrency: s.accountConcurrency - s.crawlerMaxConcurrency - s.scannerMaxConcurrency,
      crawlerConcurrency: s.crawlerMaxConcurrency,
      crawlSecondsPerClass,
      scanSecondsPerPage: s.scanSecondsPerPage,
      originRps: s.originRps,
      originMBps: s.originMBps,
    });
  const walls = { low: wallFor('low'), mid: wallFor('mid'), high: wallFor('high') };

  const lambdaFor = (x: Scenario) => {
    const gb = (mb: number) => mb / 1024;
    const byFunction = {
      scanner: {
        invocations: scan.invocations,
        gbSeconds: scan.pages * s.scanSecondsPerPage * gb(s.otherMemoryMb),
        memoryMb: s.otherMemoryMb,
      },
      crawler: { invocations: N, gbSeconds: N * crawlSecondsPerClass * gb(s.otherMemoryMb), memoryMb: s.otherMemoryMb },
      transfer: {
        invocations: transferInvocations[x],
        gbSeconds: walls[x].transferWorkerSeconds * gb(s.transferMemoryMb),
        memoryMb: s.transferMemoryMb,
      },
    };
    const fns = Object.values(byFunction);
    return {
      invocations: fns.reduce((a, f) => a + f.invocations, 0),
      gbSeconds: fns.reduce((a, f) => a + f.gbSeconds, 0),
      byFunction,
    };
  };
  const usageFor = (x: Scenario) => {
    const idle = idlePollRequests(walls[x].seconds);
    const d = deliveries(x);
    const sqs = {
      scan: scan.sqs,
      crawl: sqsCrawl[x],
      transfer: sqsTransferSend[x] + d.receiveBilled + d.deletes,
      idlePolls: idle,
    };
    const lambda = lambdaFor(x);
    return {
      s3: { putRequests: s3Puts[x], multipartUploads: multipart[x] },
      sqs: { requests: sqs.scan + sqs.crawl + sqs.transfer + sqs.idlePolls, byQueue: sqs },
      dynamodb: {
        requests: ddbRequests[x] + scan.dynamodb.requests,
        readUnits: ddbRead[x] + scan.dynamodb.readUnits,
        writeUnits: ddbWrite[x] + scan.dynamodb.writeUnits,
      },
      lambda,
      // The crawler reads every playlist, then the transfer copies it like any file.
      origin: { requests: files[x] + playlists[x], bytes: bytes[x] + playlistBytes[x], place: s.originPlace },
    };
  };
  const usages = { low: usageFor('low'), mid: usageFor('mid'), high: usageFor('high') };
  const priced = (x: Scenario): Cost => {
    const u = usages[x];
    const usage: Usage = {
      s3: { putRequests: u.s3.putRequests },
      sqs: { requests: u.sqs.requests },
      dynamodb: { readUnits: u.dynamodb.readUnits, writeUnits: u.dynamodb.writeUnits },
      lambda: { invocations: u.lambda.invocations, gbSeconds: u.lambda.gbSeconds, architecture: s.architecture },
      origin: u.origin,
      storedBytes: bytes[x],
    };
    return costOf(usage, input.prices);
  };
  const costs = { low: priced('low'), mid: priced('mid'), high: priced('high') };
  const costRange = ordered(costs.low.total, costs.mid.total, costs.high.total);

  // The file-size distribution of the sample, each file weighted by the library files it stands for.
  const sizes: Weighted[] = profiles.flatMap((p) => p.sizes);
  const weight = sizes.reduce((a, w) => a + w.weight, 0);
  const meanSize = weight > 0 ? sizes.reduce((a, w) => a + w.value * w.weight, 0) / weight : 0;
  let lower = 0;
  const buckets: SizeBucket[] = [...BUCKETS, null].map((below) => {
    const inside = sizes
      .filter((w) => w.value >= lower && (below === null || w.value < below))
      .reduce((a, w) => a + w.weight, 0);
    lower = below ?? lower;
    const share = weight > 0 ? inside / weight : 0;
    return { below, share, files: share * files.mid };
  });

  const byKind: EstimateReport['library']['byKind'] = {};
  for (const kind of FILE_KINDS) {
    const fs = profiles.reduce((a, p) => a + (p.byKind[kind]?.files ?? 0), 0);
    if (fs === 0) continue;
    const bs = profiles.reduce((a, p) => a + (p.byKind[kind]?.bytes ?? 0), 0);
    byKind[kind] = { files: (fs * N) / n, bytes: (bs * N) / n };
  }

  const sum = (f: (p: ClassProfile) => number) => profiles.reduce((a, p) => a + f(p), 0);
  const sizeSources = { playlist: 0, byterange: 0, probe: 0, estimated: 0 };
  for (const p of profiles)
    for (const k of Object.keys(sizeSources) as Array<keyof typeof sizeSources>) sizeSources[k] += p.sizeSources[k];
  const mid = usages.mid;
  const { seconds: _seconds, ...wallMid } = walls.mid;

  return {
    sample: {
      classes: n,
      files: sum((p) => p.files),
      bytes: sum((p) => p.bytes.value),
      playlists: sum((p) => p.playlists),
      failedClasses: profiles.filter((p) => p.files === 0).length,
      sizeSources,
      missingFiles: sum((p) => p.missing),
      originRequests: input.sampleRequests ?? sum((p) => p.originRequests),
      seconds: input.sampleSeconds,
    },
    library: {
      classes: N,
      catalogDocuments: input.catalogDocuments,
      confidence: input.confidence,
      files,
      bytes,
      playlists,
      perClass: {
        files: files.mid / N,
        bytes: bytes.mid / N,
        playlists: playlists.mid / N,
        crawlSeconds: crawlSecondsPerClass,
      },
      fileSizes: {
        mean: meanSize,
        p50: weightedQuantile(sizes, 0.5),
        p90: weightedQuantile(sizes, 0.9),
        p99: weightedQuantile(sizes, 0.99),
        max: sizes.reduce((a, w) => Math.max(a, w.value), 0),
        buckets,
      },
      byKind,
    },
    requests: {
      s3: mid.s3.putRequests,
      sqs: mid.sqs.requests,
      dynamodb: mid.dynamodb.requests,
      lambda: mid.lambda.invocations,
    },
    usage: mid,
    costUsd: { ...costs.mid, range: { low: costRange.low, high: costRange.high } },
    verify: verifyCost(N, files.mid, bytes.mid, input.prices),
    wallSeconds: ordered(walls.low.seconds, walls.mid.seconds, walls.high.seconds),
    wall: wallMid,
    settings: s,
    prices: { file: input.pricesFile, region: input.prices.region, transcribed: input.prices.transcribed },
    warnings: [...(input.warnings ?? [])],
  };
}
