import { describe, expect, it } from 'vitest';
import { parseFaultSpec } from '../../lab/faults.ts';
import type { DemoReport } from '../../lab/demo.ts';
import { copyKeyOf } from '../../lab/bucket-check.ts';
import { startLocalPipeline } from '../../lab/local-pipeline.ts';
import { buildReport, reportToCsv } from '../../src/views/report.ts';
import { redrive } from '../../src/ops/redrive.ts';
import { testLogger } from '../helpers/stack.ts';

function figures(name: string, r: DemoReport): void {
  const f = r.faults;
  // Printed on purpose: the suite's figures are part of what it proves.
  console.log(
    `[${name}] files ${r.totals.files}, bytes ${r.totals.bytes}, ${r.totals.wallSeconds}s; ` +
      `origin faults ${JSON.stringify(f.origin)}; s3 faults ${JSON.stringify(f.s3 ?? {})}; ` +
      `in-attempt retries ${r.retries}; failed deliveries ${r.runner.failures.transfer + r.runner.failures.crawl}; ` +
      `dead-lettered ${f.deadLettered.transfer + f.deadLettered.crawl + f.deadLettered.scan}; lost ${f.lost}; double-counted ${f.doubleCounted}`,
  );
}

// Each test waits for its run to settle, up to its own deadline (settle then throws, naming the classes and
// queues it still waited for); the test's limit sits above that deadline, both generous for a loaded machine.
describe('fault injection on real local servers', { timeout: 1_800_000 }, () => {
  it('ends with every class COMPLETE, byte-identical and counted exactly under origin and S3 faults', async () => {
    // About 2,700 files: 10% origin 5xx, 3% resets, 2% truncated bodies, 5% S3 SlowDown.
    const library = { classes: 12, variants: 3, segmentsPerRendition: 40, segmentBytes: 6 * 1024, seed: 'faults' };
    const p = await startLocalPipeline({
      library,
      faults: parseFaultSpec('origin5xx=0.1,reset=0.03,truncate=0.02,s3=0.05,seed=11'),
      log: testLogger(),
      concurrency: { transfer: 6 },
    });
    try {
      const scanId = await p.scan();
      await p.settle({ timeoutMs: 1_200_000 });
      const r = await p.evaluate(scanId);
      figures('faults', r);
      expect(p.library.totalFiles).toBeGreaterThan(2500);
      expect(r.faults.origin.http5xx).toBeGreaterThan(50);
      expect(r.faults.origin.reset).toBeGreaterThan(10);
      expect(r.faults.origin.truncate).toBeGreaterThan(5);
      expect(r.faults.s3?.slowDown).toBeGreaterThan(20);
      expect(r.classes.every((c) => c.status === 'COMPLETE')).toBe(true);
      expect(r.verified).toMatchObject({ objects: p.library.totalFiles, mismatches: 0, missing: 0, extra: 0 });
      expect(r.faults.lost).toBe(0);
      expect(r.faults.doubleCounted).toBe(0);
      expect(Object.values(r.completions)).toEqual(p.library.classes.map(() => 1));
      expect(r.ok).toBe(true);
    } finally {
      await p.stop();
    }
  });

  it('dead-letters files that 404 forever after exactly three receives, FAILs their classes listing exactly them, and redrive completes them once the origin is fixed', async () => {
    const p = await startLocalPipeline({
      library: { classes: 4, variants: 2, segmentsPerRendition: 6, segmentBytes: 4 * 1024, seed: 'gone' },
      faults: parseFaultSpec('gone=3,seed=5'),
      log: testLogger(),
      env: { TRANSFER_CHUNK_FILES: '5' },
    });
    try {
      const scanId = await p.scan();
      await p.settle({ timeoutMs: 600_000 });
      const failedRun = await p.evaluate(scanId);
      figures('gone', failedRun);
      const gone = [...p.gone];
      expect(gone).toHaveLength(3);
      // 404 is permanent: no retry inside an attempt, so each lost file was asked for once per delivery.
      expect(failedRun.faults.origin.gone).toBe(3 * gone.length);
      const lostClasses = new Set(p.library.classes.filter((c) => c.paths.some((x) => p.gone.has(x))).map((c) => c.id));
      for (const c of failedRun.classes) expect(c.status).toBe(lostClasses.has(c.classId) ? 'FAILED' : 'COMPLETE');
      // ok means: the FAILED classes list exactly the lost files, everything else is complete and intact.
      expect(failedRun.ok).toBe(true);
      const dlq = await p.deps.queue.depth('transfer-dlq');
      expect(dlq.visible).toBeGreaterThanOrEqual(1);
      expect(dlq.visible).toBe(failedRun.faults.deadLettered.transfer);

      // The completion report names exactly the lost files, with their reason, in JSON and CSV.
      const report = await buildReport(p.deps.ledger, p.cfg.stage);
      const classOf = (path: string) => p.library.classes.find((c) => c.paths.includes(path))!.id;
      const expectedKeys = gone.map((x) => copyKeyOf(p.cfg.destPrefix, classOf(x), p.origin.url, x)).sort();
      expect(report.failures.map((f) => f.key).sort()).toEqual(expectedKeys);
      for (const f of report.failures) expect(f.reason).toMatch(/HTTP 404/);
      expect(report.totals.byStatus.FAILED).toBe(lostClasses.size);
      const csv = reportToCsv(report).trim().split('\n');
      expect(csv[0]).toBe(
        'classId,title,status,files,doneFiles,failedFiles,bytes,completedAt,failedKey,failedSrc,reason,freshnessSeconds',
      );
      expect(csv.filter((line) => line.includes(',FAILED,')).length).toBe(gone.length);
      expect(csv).toHaveLength(1 + (p.library.classes.length - lostClasses.size) + gone.length);

      // The origin gets its files back; the operator redrives.
      p.origin.setFaults({});
      const moved = await redrive(p.deps.aws.sqs, p.deps.queue, ['transfer']);
      // Each lane's DLQ goes back to its own lane; the lab's classes travel the bulk lane.
      expect(moved).toEqual([
        { role: 'transfer', lane: 'fresh', method: 'move-task', moved: 0 },
        { role: 'transfer', lane: 'bulk', method: 'copy', moved: dlq.visible },
      ]);
      await p.settle({ timeoutMs: 600_000 });
      const fixed = await p.evaluate(scanId, new Set());
      figures('gone→redrive', fixed);
      expect(fixed.classes.every((c) => c.status === 'COMPLETE')).toBe(true);
      expect(fixed.verified).toMatchObject({ objects: p.library.totalFiles, mismatches: 0, missing: 0, extra: 0 });
      expect(fixed.faults.deadLettered.transfer).toBe(0);
      expect(fixed.ok).toBe(true);
      expect(Object.values(fixed.completions)).toEqual(p.library.classes.map(() => 1));
      for (const id of lostClasses) expect(await p.deps.ledger.listFailures(id)).toEqual([]);
    } finally {
      await p.stop();
    }
  });
});

// Each test waits for its run to settle, up to its own deadline (settle then throws, naming the classes and
// queues it still waited for); the test's limit sits above that deadline, both generous for a loaded machine.
describe('long copies', { timeout: 1_800_000 }, () => {
  it('keep their message invisible while copying, so a slow file is not delivered twice', async () => {
    // Every origin answer takes 3 s; the queues' visibility timeout is 2 s.
    const p = await startLocalPipeline({
      library: { classes: 1, variants: 1, segmentsPerRendition: 2, segmentBytes: 2 * 1024, seed: 'slow' },
      faults: parseFaultSpec('slow=1,slowms=3000'),
      log: testLogger(),
      visibilityTimeout: 2,
      env: { TRANSFER_CHUNK_FILES: '100', TRANSFER_CONCURRENCY: '16' },
    });
    try {
      const scanId = await p.scan();
      await p.settle({ timeoutMs: 600_000 });
      const r = await p.evaluate(scanId);
      expect(r.ok).toBe(true);
      expect(r.faults.origin.slow).toBeGreaterThan(p.library.totalFiles);
      // One delivery each: the heartbeat kept them hidden well past the 2 s visibility timeout.
      expect(r.runner.messages.crawl).toBe(1);
      expect(r.runner.messages.transfer).toBe(1);
      expect(r.runner.failures).toEqual({ scan: 0, crawl: 0, transfer: 0 });
    } finally {
      await p.stop();
    }
  });
});

// Each test waits for its run to settle, up to its own deadline (settle then throws, naming the classes and
// queues it still waited for); the test's limit sits above that deadline, both generous for a loaded machine.
describe('classes that cannot be crawled', { timeout: 1_800_000 }, () => {
  it('fail fast with the reason, their crawl job in the DLQ, and complete after the fix and a redrive', async () => {
    const p = await startLocalPipeline({
      library: { classes: 2, variants: 1, segmentsPerRendition: 2, segmentBytes: 2 * 1024, seed: 'nocrawl' },
      log: testLogger(),
    });
    try {
      const [broken, fine] = p.library.classes;
      p.origin.setFaults({ gone: [broken!.manifestPath] });
      const scanId = await p.scan();
      await p.settle({ timeoutMs: 300_000 });
      const rec = await p.deps.ledger.getClass(broken!.id);
      expect(rec?.status).toBe('FAILED');
      expect(rec?.lastError).toBe(
        `crawl failed: ORIGIN_HTTP_STATUS: origin answered HTTP 404 for ${p.origin.url}${broken!.manifestPath}`,
      );
      expect((await p.deps.ledger.getClass(fine!.id))?.status).toBe('COMPLETE');
      // One delivery: a 404 playlist is not retried, it is dead-lettered at once with its reason.
      expect(p.runner!.stats.messages.crawl).toBe(2);
      expect((await p.deps.queue.depth('crawl-dlq')).visible).toBe(1);

      p.origin.setFaults({});
      expect(await redrive(p.deps.aws.sqs, p.deps.queue, ['crawl'])).toEqual([
        { role: 'crawl', lane: 'fresh', method: 'move-task', moved: 0 },
        { role: 'crawl', lane: 'bulk', method: 'copy', moved: 1 },
      ]);
      await p.settle({ timeoutMs: 300_000 });
      const r = await p.evaluate(scanId, new Set());
      expect(r.classes.map((c) => c.status)).toEqual(['COMPLETE', 'COMPLETE']);
      expect(r.ok).toBe(true);
    } finally {
      await p.stop();
    }
  });
});
