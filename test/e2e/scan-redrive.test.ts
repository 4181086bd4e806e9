// Issue 18 case 7: a scan page claimed by its message must still run when `flants redrive` brings it
// back from the DLQ (as a new message, with a new message id). The local pipeline runs the Lambda
// handlers against the local SQS, MongoDB and DynamoDB; the redrive is the CLI's own function.
import { describe, expect, it } from 'vitest';
import { startLocalPipeline } from '../../lab/local-pipeline.ts';
import type { Catalog } from '../../src/domain/ports/catalog.ts';
import type { Deps } from '../../src/wiring/deps.ts';
import { redrive } from '../../src/ops/redrive.ts';
import { testLogger } from '../helpers/stack.ts';

/** Polls `probe` until it is true (the machine is shared: generous limits, never a fixed sleep). */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('issue 18 case 7: a scan continuation redriven from its DLQ runs', () => {
  it(
    'a page that failed every delivery goes to the DLQ; after `redrive` it runs once and the scan continues to its end',
    { timeout: 300_000 },
    async () => {
      let broken = true;
      let failures = 0;
      const p = await startLocalPipeline({
        library: { classes: 5, variants: 1, segmentsPerRendition: 1, segmentBytes: 1024, seed: 'scan-redrive' },
        log: testLogger(),
        // Two classes a page; failed deliveries come back at once (no 30 s / 5 min backoff).
        env: { SCAN_PAGE_SIZE: '2', RETRY_BACKOFF_SECONDS: '0,0' },
        decorate: (d: Deps): Deps => ({
          ...d,
          // The catalog fails the second page (the first continuation) on every delivery while `broken`.
          catalog: async () => {
            const c: Catalog = await d.catalog();
            return {
              ...c,
              page: (phase, after, limit) => {
                if (broken && phase === 'objectId' && after !== undefined) {
                  failures++;
                  return Promise.reject(new Error('catalog unavailable (injected)'));
                }
                return c.page(phase, after, limit);
              },
            };
          },
        }),
      });
      try {
        const scanId = await p.scan();
        await until(
          'the continuation is in the scan DLQ',
          async () => (await p.deps.queue.depth('scan-dlq')).visible === 1,
        );
        expect(failures).toBe(p.cfg.maxReceiveCount);
        const firstPage = await p.deps.ledger.getScan(scanId);
        expect(firstPage.map((pg) => pg.page)).toEqual(['start']);

        broken = false;
        expect(await redrive(p.deps.aws.sqs, p.deps.queue, ['scan'])).toEqual([
          { role: 'scan', lane: 'fresh', method: 'move-task', moved: 0 },
          { role: 'scan', lane: 'bulk', method: 'copy', moved: 1 },
        ]);
        const records = await p.settle({ timeoutMs: 60_000 });
        expect(records.map((r) => [r.classId, r.status]).sort()).toEqual(
          p.library.classes.map((c) => [c.id, 'COMPLETE']).sort(),
        );
        // The scan ran to its end: every page recorded, each class enqueued by exactly one page, once.
        const pages = await p.deps.ledger.getScan(scanId);
        expect(pages.length).toBeGreaterThan(2);
        const enqueued = pages.flatMap((pg) => pg.enqueued).sort();
        expect(enqueued).toEqual(p.library.classes.map((c) => c.id).sort());
        expect((await p.deps.queue.depth('scan-dlq')).visible).toBe(0);
        const r = await p.evaluate(scanId, new Set());
        expect(r.ok).toBe(true);
      } finally {
        broken = false;
        await p.stop();
      }
    },
  );
});
