/**
 * Default per-function figures of `flants estimate`, and where they come from. Every one is
 * overridable by a flag; docs/SCALE.md shows the arithmetic they feed.
 */

/**
 * Measured by `nice -n 10 npm run bench` (its defaults: 12 classes, 2,717 files, 424 MB; 4 transfer
 * pollers, each a batch of 4 chunks of 25 files × TRANSFER_CONCURRENCY 8; Node 20 on 2 shared cores)
 * on 2026-12-01 after issue 9's work (the lean PutObject sender, one CRC32 pass, pooled bodies, the
 * lab's S3 reporting CRC32s so no MD5 pass), at a load average of 1.9: 68.45 MB/s, 438.5 files/s,
 * 2.05 ms CPU per file. Before it, eight runs (idle to a load of 9) gave 2.9–3.4 ms per file and
 * 4.7–14.3 MB/s per worker: CPU per file is steady, throughput follows the load. docs/SCALE.md has the runs.
 */
export const BENCH = {
  command: 'nice -n 10 npm run bench',
  /** CPU per file copied: the bench process's CPU (workers + in-process origin) from scan to settled, per file. */
  cpuMsPerFile: 2.05,
  /** MB/s one transfer worker (one concurrent invocation) moved: the pipeline's MB/s over 4 pollers. */
  workerMBps: 17.1,
} as const;

/** Assumptions no local run can measure; each is a flag. */
export const ASSUMED = {
  /**
   * Round trips per file in the cloud: the origin's first byte plus the S3 PUT, about 50 ms each from
   * Lambda. Locally both are under a millisecond, so the bench cannot see them.
   */
  fileLatencyMs: 100,
  /** One scan page (SCAN_PAGE_SIZE documents: read, validate, mark PENDING, send crawl jobs). */
  scanSecondsPerPage: 1,
  /** Lambda's default concurrency quota per account and region. */
  accountConcurrency: 1000,
  /** provider.memorySize in serverless.yml (scanner and crawler); the transfer's is `transferMemorySize`. */
  otherMemoryMb: 512,
  transferMemoryMb: 1024,
} as const;
