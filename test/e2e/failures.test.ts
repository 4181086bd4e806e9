import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { MESSAGE_VERSION, type ScanRequest } from '../../src/domain/jobs/schemas.ts';
import { startLocalPipeline } from '../../lab/local-pipeline.ts';
import type { Deps } from '../../src/wiring/deps.ts';
import { runScan } from '../../src/pipeline/scanner.ts';
import { UNFINISHED_LAST_DELIVERY } from '../../src/pipeline/transfer.ts';
import { redrive } from '../../src/ops/redrive.ts';
import { testLogger } from '../helpers/stack.ts';

describe('issue 8: nothing stays in progress forever (end to end)', () => {
  it('case 6: a last delivery that hangs past the function timeout leaves its class FAILED with that reason; a redrive completes it', async () => {
    let hang = true;
    const release: Array<() => void> = [];
    let target = '';
    const p = await startLocalPipeline({
      library: { classes: 2, variants: 1, segmentsPerRendition: 3, segmentBytes: 2 * 1024, seed: 'hang' },
      log: testLogger(),
      env: { TRANSFER_CHUNK_FILES: '50' },
      // One segment's read never answers: the function is killed at its timeout, every delivery.
      decorate: (d: Deps): Deps => ({
        ...d,
        origin: {
          ...d.origin,
          openStream: (url, o) =>
            hang && url.endsWith(target)
              ? new Promise((_resolve, reject) => release.push(() => reject(new Error('released'))))
              : d.origin.openStream(url, o),
        },
      }),
      // The local runner's stand-in for Lambda's timeout: an invocation with the hanging file is abandoned
      // after 1.5 s (only that one: a slow machine must not time out the others).
      wrap: (role, handler) =>
        role !== 'transfer'
          ? handler
          : (event, ctx) =>
              event.Records.some((r) => r.body.includes(target))
                ? Promise.race([
                    handler(event, ctx),
                    new Promise<never>((_r, reject) => setTimeout(() => reject(new Error('Task timed out')), 1_500)),
                  ])
                : handler(event, ctx),
    });
    try {
      const [stuck, fine] = p.library.classes;
      target = stuck!.paths.find((x) => p.library.file(x)?.kind === 'segment')!;
      expect(target).toBeTruthy();
      await p.scan();
      await p.settle({ timeoutMs: 90_000 });
      // Three deliveries, each abandoned; the third recorded, before it ran, that it might not finish.
      const rec = await p.deps.ledger.getClass(stuck!.id);
      expect(rec).toMatchObject({ status: 'FAILED', lastError: UNFINISHED_LAST_DELIVERY });
      expect((await p.deps.ledger.listFailures(stuck!.id))[0]).toMatchObject({ provisional: true });
      expect((await p.deps.ledger.getClass(fine!.id))?.status).toBe('COMPLETE');
      expect((await p.deps.queue.depth('transfer-dlq')).visible).toBe(1);

      hang = false;
      for (const r of release) r();
      expect(await redrive(p.deps.aws.sqs, p.deps.queue, ['transfer'])).toEqual([
        { role: 'transfer', lane: 'fresh', method: 'move-task', moved: 0 },
        { role: 'transfer', lane: 'bulk', method: 'copy', moved: 1 },
      ]);
      await p.settle({ timeoutMs: 60_000 });
      expect(await p.deps.ledger.getClass(stuck!.id)).toMatchObject({ status: 'COMPLETE', failedFiles: 0 });
      const r = await p.evaluate(undefined, new Set());
      expect(r.ok).toBe(true);
      expect(r.completions).toEqual({ [stuck!.id]: 1, [fine!.id]: 1 });
    } finally {
      for (const r of release) r();
      await p.stop();
    }
  });

  it('case 7: a failing delivery shows on the class (attempts, last error) while SQS retries it, and clears when it succeeds', async () => {
    const p = await startLocalPipeline({
      library: { classes: 1, variants: 1, segmentsPerRendition: 2, segmentBytes: 1024, seed: 'retry7' },
      log: testLogger(),
    });
    try {
      const cls = p.library.classes[0]!;
      const seg = cls.paths.find((x) => p.library.file(x)?.kind === 'segment')!;
      p.origin.setFaults({ gone: [seg] });
      await p.scan();
      let rec = await p.deps.ledger.getClass(cls.id);
      for (let i = 0; i < 200 && !(rec?.failedAttempts ?? 0); i++) {
        await new Promise((r) => setTimeout(r, 100));
        rec = await p.deps.ledger.getClass(cls.id);
      }
      expect(rec).toMatchObject({ status: 'TRANSFERRING', failedAttempts: 1 });
      expect(rec?.lastAttemptError).toMatch(/HTTP 404/);
      p.origin.setFaults({});
      await p.settle({ timeoutMs: 60_000 });
      rec = await p.deps.ledger.getClass(cls.id);
      expect(rec?.status).toBe('COMPLETE');
      expect(rec?.lastAttemptError).toBeUndefined();
    } finally {
      await p.stop();
    }
  });

  it('case 8: a scan page with an unwritable-sized document, delivered three times and continued twice, sends one continuation', async () => {
    const p = await startLocalPipeline({
      library: { classes: 4, variants: 1, segmentsPerRendition: 2, segmentBytes: 1024, seed: 'scanfork' },
      log: testLogger(),
      noRunner: true,
      env: { SCAN_PAGE_SIZE: '3' },
    });
    const mongo = await new MongoClient(p.stack.env.MONGODB_URI!).connect();
    try {
      // A catalog document whose skip detail alone is far over DynamoDB's 400 KB item limit.
      await mongo
        .db()
        .collection(p.cfg.mongo.collection)
        .insertOne({
          title: 'bad',
          status: 'x'.repeat(450_000),
          manifestUrl: `${p.origin.url}/bad.m3u8`,
          endedAt: new Date(),
          isTest: false,
        });
      const catalog = await p.deps.catalog();
      const deps = { ...p.deps, catalog, log: testLogger() };
      const first: ScanRequest = { v: MESSAGE_VERSION, type: 'scan', mode: 'catalog', scanId: 'fork8' };
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await runScan(first, deps, { messageId: 'first-page' }));
      expect(runs.map((r) => Boolean(r.duplicate))).toEqual([false, true, true]);
      expect(runs[0]!.continued).toBe(true);
      const depth = await p.deps.queue.depth('scan');
      expect(depth.visible + depth.inFlight).toBe(1);
      expect((await p.deps.ledger.getScan('fork8')).length).toBe(1);

      // Had the sender crashed after sending, a second continuation would exist: the page runs once.
      const { after: _a, ...rest } = first;
      const second = {
        ...rest,
        phase: 'objectId' as const,
        after: runs[0]!.enqueued.at(-1) ?? runs[0]!.skippedClasses.at(-1)!.classId,
      };
      const a = await runScan(second, deps, { messageId: 'continuation-a' });
      const b = await runScan(second, deps, { messageId: 'continuation-b' });
      expect([Boolean(a.duplicate), Boolean(b.duplicate)]).toEqual([false, true]);
      expect(b.enqueued).toEqual([]);
    } finally {
      await mongo.close();
      await p.stop();
    }
  });
});
