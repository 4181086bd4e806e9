import './quiet-sdk.ts';
import type { Logger } from '../src/log.ts';
import type { RunnerStats } from '../src/ops/runner.ts';
import type { FreshnessSummary } from '../src/views/freshness.ts';
import type { LibraryOptions } from './library.ts';
import type { FaultSpec } from './faults.ts';
import type { OriginServer } from './origin-server.ts';
import type { S3FaultProxy } from './s3-fault-proxy.ts';
import type { ClassRecord } from '../src/domain/ledger/records.ts';
import { startLocalPipeline } from './local-pipeline.ts';

export interface DemoOptions {
  library?: LibraryOptions;
  /** Faults to inject at the origin and in front of S3 (`--faults SPEC`). */
  faults?: FaultSpec;
  /** Sends every transfer job this many times (SQS at-least-once, exaggerated). */
  transferCopies?: number;
  /** Extra environment (e.g. TRANSFER_CHUNK_FILES) for the pipeline. */
  env?: Record<string, string>;
  /** Pollers per function, as Lambda concurrency. */
  concurrency?: { scan?: number; crawl?: number; transfer?: number };
  timeoutMs?: number;
  /** Called about twice a second with the ledger's view, for progress display. */
  onProgress?: (p: DemoProgress) => void;
  log?: Logger;
}

export interface DemoProgress {
  classesTotal: number;
  classesComplete: number;
  classesFailed: number;
  filesTotal: number;
  filesDone: number;
  bytesDone: number;
  elapsedMs: number;
}

export interface DemoClassResult {
  classId: string;
  title: string;
  status: ClassRecord['status'] | 'MISSING';
  files: number;
  bytes: number;
  failedFiles: number;
}

export interface DemoReport {
  ok: boolean;
  classes: DemoClassResult[];
  skipped: Array<{ classId: string; reason: string; detail?: string }>;
  /**
   * `links`: URIs in the copied playlists, each resolved the way a player of the copy resolves it;
   * `dangling`: those that name no object in the bucket (must be 0).
   */
  verified: {
    objects: number;
    mismatches: number;
    missing: number;
    extra: number;
    links: number;
    dangling: number;
    problems: string[];
  };
  /**
   * `wallSeconds`: the whole run (servers, catalog, pipeline, verification). `pipelineSeconds`:
   * from the scan request to the last class settling; throughput is measured over it.
   */
  totals: {
    classes: number;
    files: number;
    bytes: number;
    wallSeconds: number;
    pipelineSeconds: number;
    mbPerSecond: number;
    filesPerSecond: number;
  };
  runner: RunnerStats;
  origin: ReturnType<OriginServer['stats']>;
  retries: number;
  /** What the fault spec injected, and what it cost. */
  faults: {
    spec: FaultSpec | undefined;
    origin: ReturnType<OriginServer['stats']>['faults'];
    s3: ReturnType<S3FaultProxy['stats']>['faults'] | undefined;
    /** Files the origin lost for good (`gone=N`): their classes must end FAILED listing exactly these. */
    gone: string[];
    /** Messages left in each DLQ at the end. */
    deadLettered: Record<'scan' | 'crawl' | 'transfer', number>;
    /** Files of classes that should be complete but are not in the bucket intact (must be 0). */
    lost: number;
    /** Files counted more than once, or classes completed more than once (must be 0). */
    doubleCounted: number;
  };
  /** How many times each class was marked COMPLETE (exactly once each, whatever SQS delivered). */
  completions: Record<string, number>;
  /**
   * How long classes took from their end to COMPLETE. The demo seeds every class as ended the
   * moment the catalog is seeded and scans at once, so this is the pipeline's own latency (a
   * deployment adds the wait for the next scheduled scan).
   */
  freshness: FreshnessSummary;
  /** Where the pipeline's JSON log lines went. */
  /** The run's log, kept only when the run failed (undefined otherwise, or when the caller logs). */
  logFile: string | undefined;
}

/**
 * Runs the whole pipeline on the embedded local stack: servers, sample library and origin,
 * catalog, scan → crawl → transfer until every valid class is COMPLETE, then verification.
 */
export async function runDemo(opts: DemoOptions = {}): Promise<DemoReport> {
  const p = await startLocalPipeline(opts);
  let report: DemoReport | undefined;
  try {
    const scanId = await p.scan();
    await p.settle({
      timeoutMs: opts.timeoutMs ?? 10 * 60_000,
      orReturn: true,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    await p.runner?.stop();
    report = await p.evaluate(scanId);
    // A run that passed has nothing to look up: its log goes with it.
    if (report.ok) report.logFile = undefined;
    return report;
  } finally {
    await p.stop({ keepLog: report?.ok !== true });
  }
}
