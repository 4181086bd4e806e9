// Settling and judging a run of the local pipeline (lab/local-pipeline.ts): waiting until every class is
// done, then the bucket, the ledger, the dead letters and the counters checked against the library.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../src/config.ts';
import type { Logger } from '../src/log.ts';
import type { Deps } from '../src/wiring/deps.ts';
import { freshnessSummary } from '../src/views/freshness.ts';
import type { ClassRecord } from '../src/domain/ledger/records.ts';
import { waitForIdleQueues, type Runner } from '../src/ops/runner.ts';
import type { SampleLibrary } from './library.ts';
import { hasFaults, type FaultSpec } from './faults.ts';
import type { OriginServer } from './origin-server.ts';
import type { S3FaultProxy } from './s3-fault-proxy.ts';
import { describeWaiting } from './settle-wait.ts';
import { copyKeyOf, verifyBucket } from './bucket-check.ts';
import type { DemoClassResult, DemoProgress, DemoReport } from './demo.ts';
import type { LocalPipeline } from './local-pipeline.ts';

/** What a started pipeline's settle and evaluate read. */
export interface Run {
  library: SampleLibrary;
  cfg: Config;
  deps: Deps;
  /** Reads the bucket directly, never through the fault proxy. */
  verifyDeps: Deps | undefined;
  origin: OriginServer;
  proxy: S3FaultProxy | undefined;
  runner: Runner | undefined;
  counters: { retries: number; completions: Record<string, number> };
  timing: { scanAt: number; settledAt: number };
  started: number;
  log: Logger;
  logFile: string | undefined;
  faults: FaultSpec | undefined;
  wanted: Set<string>;
  listWanted: () => Promise<ClassRecord[]>;
}

/** Waits until every valid class is COMPLETE, or COMPLETE/FAILED with nothing left in flight (see LocalPipeline.settle). */
export async function settleClasses(
  run: Run,
  { timeoutMs = 10 * 60_000, onProgress, orReturn = false }: Parameters<LocalPipeline['settle']>[0] = {},
): Promise<ClassRecord[]> {
  const { listWanted, wanted, library, started, deps: d, timing, log } = run;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = await listWanted();
    const progress: DemoProgress = {
      classesTotal: wanted.size,
      classesComplete: records.filter((r) => r.status === 'COMPLETE').length,
      classesFailed: records.filter((r) => r.status === 'FAILED').length,
      filesTotal: Math.max(
        library.totalFiles,
        records.reduce((n, r) => n + (r.totalFiles ?? 0), 0),
      ),
      filesDone: records.reduce((n, r) => n + (r.doneFiles ?? 0), 0),
      bytesDone: records.reduce((n, r) => n + (r.doneBytes ?? 0), 0),
      elapsedMs: Date.now() - started,
    };
    onProgress?.(progress);
    // FAILED classes are final once nothing is left in flight (their jobs are in the DLQs).
    if (progress.classesComplete + progress.classesFailed === wanted.size) {
      // Let duplicate deliveries still in the queues land too: the counters must not move.
      await waitForIdleQueues(d.queue, { timeoutMs: Math.max(1_000, deadline - Date.now()) });
      const after = await listWanted();
      if (after.every((r) => r.status === 'COMPLETE' || r.status === 'FAILED') && after.length === wanted.size) {
        timing.settledAt = Date.now();
        return after;
      }
    }
    if (Date.now() > deadline) {
      const depths: Record<string, number> = {};
      for (const role of ['scan', 'crawl', 'transfer'] as const) {
        const q = await d.queue.depth(role).catch(() => undefined);
        if (q) depths[role] = q.visible + q.inFlight + q.delayed;
      }
      const message = describeWaiting(timeoutMs / 1000, [...wanted], records, depths);
      log.error(message);
      if (orReturn) return records;
      throw new Error(message);
    }
    await sleep(500);
  }
}

/** The run judged against the library: bucket, ledger, dead letters, double counts (see LocalPipeline.evaluate). */
export async function evaluateRun(
  run: Run,
  scanId: string | undefined,
  goneNow: ReadonlySet<string>,
): Promise<DemoReport> {
  const { listWanted, timing, started, verifyDeps, library, cfg, origin: o, deps: d, counters, runner, proxy } = run;
  const { faults, logFile } = run;
  const records = await listWanted();
  const pipelineSeconds = ((timing.settledAt || Date.now()) - (timing.scanAt || started)) / 1000;
  const verified = await verifyBucket(verifyDeps!, library, cfg.destPrefix, o.url, goneNow);
  const deadLettered = { scan: 0, crawl: 0, transfer: 0 };
  for (const role of ['scan', 'crawl', 'transfer'] as const) {
    const q = await d.queue.depth(`${role}-dlq`);
    deadLettered[role] = q.visible + q.inFlight + q.delayed;
  }
  const scanPages = scanId ? await d.ledger.getScan(scanId) : [];
  const byId = new Map(records.map((r) => [r.classId, r]));
  const classes: DemoClassResult[] = library.classes.map((c) => {
    const r = byId.get(c.id);
    return {
      classId: c.id,
      title: c.title,
      status: r?.status ?? 'MISSING',
      files: r?.doneFiles ?? 0,
      bytes: r?.doneBytes ?? 0,
      failedFiles: r?.failedFiles ?? 0,
    };
  });
  const files = classes.reduce((n, c) => n + c.files, 0);
  const bytes = classes.reduce((n, c) => n + c.bytes, 0);
  // A class that lost files at the origin must be FAILED listing exactly those; every other one COMPLETE, exact.
  const failures = new Map<string, string[]>();
  for (const c of library.classes) {
    if (c.paths.some((p) => goneNow.has(p)))
      failures.set(c.id, (await d.ledger.listFailures(c.id)).flatMap((f) => f.files.map((x) => x.key)).sort());
  }
  const doubleCounted =
    Object.values(counters.completions).filter((n) => n > 1).length +
    library.classes.filter((c) => (byId.get(c.id)?.doneFiles ?? 0) > c.files).length;
  const classOk = library.classes.every((c) => {
    const r = byId.get(c.id);
    const lostHere = c.paths.filter((p) => goneNow.has(p));
    if (lostHere.length > 0) {
      const expectedKeys = lostHere.map((p) => copyKeyOf(cfg.destPrefix, c.id, o.url, p)).sort();
      return r?.status === 'FAILED' && JSON.stringify(failures.get(c.id)) === JSON.stringify(expectedKeys);
    }
    return (
      r?.status === 'COMPLETE' &&
      r.doneFiles === c.files &&
      r.totalFiles === c.files &&
      r.doneBytes === c.bytes &&
      r.doneChunks === r.totalChunks
    );
  });
  const lost = verified.missing + verified.mismatches + verified.dangling;
  const zero = { scan: 0, crawl: 0, transfer: 0 };
  return {
    ok: classOk && doubleCounted === 0 && lost === 0 && verified.extra === 0,
    classes,
    skipped: scanPages.flatMap((p) => p.skipped),
    verified,
    totals: {
      classes: classes.length,
      files,
      bytes,
      wallSeconds: Number(((Date.now() - started) / 1000).toFixed(2)),
      pipelineSeconds: Number(pipelineSeconds.toFixed(2)),
      mbPerSecond: Number((bytes / 1e6 / pipelineSeconds).toFixed(2)),
      filesPerSecond: Number((files / pipelineSeconds).toFixed(1)),
    },
    runner: runner?.stats ?? { batches: zero, messages: { ...zero }, failures: { ...zero }, errors: 0 },
    origin: o.stats(),
    retries: counters.retries,
    faults: {
      spec: faults && hasFaults(faults) ? faults : undefined,
      origin: o.stats().faults,
      s3: proxy?.stats().faults,
      gone: [...goneNow],
      deadLettered,
      lost,
      doubleCounted,
    },
    completions: counters.completions,
    freshness: freshnessSummary(records),
    logFile,
  };
}
