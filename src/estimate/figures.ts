/**
 * Default per-function figures of `flants estimate`, and where they come from. Every one is
 * overridable by a flag; docs/SCALE.md shows the arithmetic they feed.
 */

/**
 * Measured by `nice -n 10 npm run bench` (its defaults: 12 classes, 2,717 files, 424 MB; 4 transfer
 * pollers, each a batch of 4 chunks × TRANSFER_CONCURRENCY 8; Node 20 on 2 shared cores) on
 * 2026-12-01, on an idle machine (load average 0.7): 57.27 MB/s, 366.9 files/s, 3.01 ms CPU per
 * file. Seven more runs under load (average 4–9, other test suites), before and after the ledger's
 * rewrite and the safety work, moved 4.7–13.0 MB/s per worker at 2.9–3.4 ms per file: CPU per file
 * is steady, throughput follows the load. docs/SCALE.md has the runs.
 */
export const BENCH = {
  command: 'nice -n 10 npm run bench',
  /** CPU per file copied: the bench process's CPU (workers + in-process origin) from scan to settled, per file. */
  cpuMsPerFile: 3.0,
  /** MB/s one transfer worker (one concurrent invocation) moved: the pipeline's MB/s over 4 pollers. */
  workerMBps: 14.3,
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
