/**
 * How fresh a class that ends during a backfill is, with and without the fresh lane (docs/SCALE.md,
 * "A class that ends during the backfill"). Pure arithmetic over the inputs below; every figure in
 * that section comes from `freshnessModel` through scripts/fresh-model.ts.
 */
export interface FreshModelInputs {
  /** The backfill: files and bytes of the whole library. */
  libraryFiles: number;
  libraryBytes: number;
  /** Classes in the library (a class's mean size is the library's over this). */
  classes: number;
  /** Classes ending per day while the backfill runs: the fresh lane's arrivals. */
  freshPerDay: number;
  /** The scheduled scan's interval (scanSchedule), seconds: a class waits for the next scan to be seen. */
  scanIntervalSeconds: number;
  /** One scan page, seconds. */
  scanPageSeconds: number;
  /** One class's crawl, seconds. */
  crawlSeconds: number;
  /** Files per chunk (TRANSFER_CHUNK_FILES) and chunks per transfer invocation (transferBatchSize). */
  chunkFiles: number;
  batchSize: number;
  /** The lanes' shares of the transfer function (transferMaxConcurrency, transferFreshMaxConcurrency). */
  bulkConcurrency: number;
  freshConcurrency: number;
  /** What one transfer invocation moves, MB/s (bench: 14.3). */
  workerMBps: number;
  /** What the origin gives in all, MB/s; Infinity when it is not the bound. */
  originMBps: number;
}

export interface FreshModel {
  classFiles: number;
  classBytes: number;
  /** MB/s one worker gets while both lanes run (the origin shared by every worker). */
  workerMBpsShared: number;
  /** Invocations one fresh class keeps busy at once: its chunks in batches, at most the lane's share. */
  classWorkers: number;
  /** Seconds to copy one fresh class once its crawl sent its chunks. */
  classCopySeconds: number;
  /** Share of the fresh lane's capacity its arrivals use (0..1; 1 or more: the lane falls behind). */
  freshUtilisation: number;
  /** Seconds a fresh class waits for the lane (M/M/1 approximation: ρ/(1−ρ) of a class's copy). */
  freshQueueSeconds: number;
  /** The backfill's wall time, seconds (the bulk lane's workers on the whole library). */
  backfillSeconds: number;
  /** Freshness of a class ending mid-backfill, seconds: mean (it ends at a random moment) and worst. */
  withLanes: { meanSeconds: number; worstSeconds: number };
  /** The same class in one queue behind the backfill: it waits for what is left of it. */
  withoutLanes: { meanSeconds: number; worstSeconds: number };
}

/** The model: detection (the scan), crawl, queueing and copy; without lanes, plus what is left of the backfill. */
export function freshnessModel(i: FreshModelInputs): FreshModel {
  const classFiles = i.libraryFiles / i.classes;
  const classBytes = i.libraryBytes / i.classes;
  const workerMBpsShared = Math.min(i.workerMBps, i.originMBps / (i.bulkConcurrency + i.freshConcurrency));
  const chunks = Math.ceil(classFiles / i.chunkFiles);
  const classWorkers = Math.max(1, Math.min(Math.ceil(chunks / i.batchSize), i.freshConcurrency));
  const classCopySeconds = classBytes / 1e6 / (classWorkers * workerMBpsShared);
  const laneMBps = i.freshConcurrency * workerMBpsShared;
  const freshUtilisation = ((i.freshPerDay / 86_400) * classBytes) / 1e6 / laneMBps;
  const freshQueueSeconds =
    freshUtilisation >= 1 ? Infinity : (freshUtilisation / (1 - freshUtilisation)) * classCopySeconds;
  const backfillSeconds =
    i.libraryBytes / 1e6 / (i.bulkConcurrency * Math.min(i.workerMBps, i.originMBps / i.bulkConcurrency));
  const pipeline = i.scanPageSeconds + i.crawlSeconds + classCopySeconds;
  const withLanes = {
    meanSeconds: i.scanIntervalSeconds / 2 + pipeline + freshQueueSeconds,
    worstSeconds: i.scanIntervalSeconds + pipeline + freshQueueSeconds,
  };
  const withoutLanes = {
    meanSeconds: i.scanIntervalSeconds / 2 + pipeline + backfillSeconds / 2,
    worstSeconds: i.scanIntervalSeconds + pipeline + backfillSeconds,
  };
  return {
    classFiles,
    classBytes,
    workerMBpsShared,
    classWorkers,
    classCopySeconds,
    freshUtilisation,
    freshQueueSeconds,
    backfillSeconds,
    withLanes,
    withoutLanes,
  };
}

/** The seed's library and the prod stage (docs/SCALE.md): 16 M files, 4.4 TB, 4,850 classes, 500 ending a day. */
export const SEED_LIBRARY: FreshModelInputs = {
  libraryFiles: 16_043_396,
  libraryBytes: 4.4377e12,
  classes: 4_850,
  freshPerDay: 500,
  scanIntervalSeconds: 15 * 60,
  scanPageSeconds: 1,
  crawlSeconds: 0.3,
  chunkFiles: 100,
  batchSize: 8,
  bulkConcurrency: 500,
  freshConcurrency: 20,
  workerMBps: 14.3,
  originMBps: Infinity,
};
