// Issue 21: what an operator reads in the first hour, through the CLI as a user runs it, on a pipeline
// with one file gone at the origin (a FAILED class), a poison message and a queue that drifted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPipeline, type LocalPipeline } from '../../lab/local-pipeline.ts';
import { parseFaultSpec } from '../../lab/faults.ts';
import { originUrl } from '../../lab/sample-catalog.ts';
import { collectSnapshot } from '../../src/dashboard/snapshot.ts';
import { MESSAGE_VERSION } from '../../src/domain/jobs/schemas.ts';
import { cachedDeadLetters } from '../../src/adapters/sqs/dead-letters.ts';
import { flants } from '../helpers/cli.ts';
import { testLogger } from '../helpers/stack.ts';
import { waitUntil } from '../helpers/wait.ts';

let p: LocalPipeline;
let env: Record<string, string>;
const UNKNOWN = 'ffffffffffffffffffffffff';

beforeAll(async () => {
  p = await startLocalPipeline({
    library: { classes: 2, variants: 2, segmentsPerRendition: 12, segmentBytes: 2 * 1024, seed: 'first-hour' },
    faults: parseFaultSpec('gone=1,seed=4'),
    log: testLogger(),
    // Chunks of 10 files: the failed chunk has copied files that are not counted.
    env: { TRANSFER_CHUNK_FILES: '10' },
  });
  env = { ...p.env, FLANTS_LOG_LEVEL: 'error' };
  await p.scan();
  await p.settle({ timeoutMs: 600_000 });
  // A poison message: a class id the catalog does not have, dead-lettered on its first receive.
  await p.deps.queue.sendAll('scan', [{ v: MESSAGE_VERSION, type: 'scan', mode: 'class', classId: UNKNOWN }]);
  await waitUntil('the poison message to reach scan-dlq', async (note) => {
    const d = await p.deps.queue.depth('scan-dlq');
    note(`scan-dlq ${d.visible} visible, ${d.inFlight} in flight`);
    return d.visible === 1;
  });
}, 900_000);

afterAll(async () => {
  await p?.stop();
});

describe("the operator's first hour", { timeout: 300_000 }, () => {
  it('item 4: status, report and the page add a FAILED class up: done + failed + waiting on the redrive = total', async () => {
    const failed = (await p.deps.ledger.listClasses()).find((r) => r.status === 'FAILED')!;
    expect(failed).toBeDefined();
    const done = failed.doneFiles!;
    const total = failed.totalFiles!;
    const waiting = total - done - 1;
    expect(waiting).toBeGreaterThan(0);
    const line = `${done} done + 1 failed + ${waiting} copied, waiting on the redrive of 1 failed chunk = ${total} files`;
    const status = await flants(['status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(line);
    const report = await flants(['report'], env);
    expect(report.stdout).toContain(line);
    expect(report.stdout).toMatch(/^Stage demo: 2 classes \(1 FAILED, 1 COMPLETE\)$/m);
    const snapshot = await collectSnapshot({ stage: 'demo', ledger: p.deps.ledger, queue: p.deps.queue });
    expect(snapshot.classes.find((c) => c.classId === failed.classId)?.fileAccount).toBe(line);
    expect(snapshot.classes.find((c) => c.status === 'COMPLETE')?.fileAccount).toBeUndefined();
  });

  it('item 5: the DLQ advice says a poison message cannot be redriven; the transfer DLQ is told to redrive', async () => {
    const watch = await flants(['status', '--watch', '--frames', '1'], env);
    expect(watch.code).toBe(0);
    const text = watch.stdout.replace(/\n\s+/g, ' ');
    expect(text).toContain(
      `scan-dlq: 1 job can never be processed (unknown class ${UNKNOWN}: no document with that _id in classes): a redrive would only dead-letter it again; delete it from scan-dlq (enqueue the class by its right id)`,
    );
    expect(text).toContain(
      'transfer-dlq: 1 job failed on every delivery: fix the cause, then "flants redrive --queue transfer"',
    );
    expect(text).not.toMatch(/failed three times/);
    // The page reads the same reasons (the local dashboard passes them); looking leaves the messages there.
    const snapshot = await collectSnapshot({
      stage: 'demo',
      ledger: p.deps.ledger,
      queue: p.deps.queue,
      deadLetters: cachedDeadLetters(p.deps.aws.sqs, p.deps.queue),
    });
    expect(snapshot.queues.find((q) => q.name === 'scan-dlq')?.advice).toMatch(/^1 job can never be processed/);
    expect((await p.deps.queue.depth('scan-dlq')).visible).toBe(1);
    expect((await p.deps.queue.depth('transfer-dlq')).visible).toBe(1);
  });

  it('item 5: enqueue without MONGODB_URI says the id was not checked', async () => {
    const r = await flants(['enqueue', UNKNOWN], { ...env, MONGODB_URI: '' });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(
      `Enqueued class ${UNKNOWN} on flants-demo-scan-fresh: not checked against the catalog (MONGODB_URI is not set here); the scanner checks it and dead-letters an id the catalog does not have. Set MONGODB_URI to check it now.`,
    );
    const checked = await flants(['enqueue', UNKNOWN], env);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain(`unknown class ${UNKNOWN}`);
  });

  it('item 6: setup brings a drifted queue to the declared settings and says which, from what to what', async () => {
    const r = await flants(['setup', '--visibility-timeout', '7'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("changed to serverless.yml's settings: VisibilityTimeout 30 → 7");
    expect(await p.deps.queue.visibilityTimeout('scan').catch(() => undefined)).toBeDefined();
    const again = await flants(['setup', '--visibility-timeout', '7'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('changed to');
  });

  it('item 7: estimate refuses one URL before any request, and says where the library size came from', async () => {
    const [first, second] = p.library.classes.map((c) => originUrl(p.origin.url, c.manifestPath));
    const before = p.origin.stats().requests;
    const one = await flants(['estimate', first!], env);
    expect(one.code).toBe(1);
    expect(one.stderr.trim()).toBe(
      "flants: one master URL gives no range for the catalog's library (MONGODB_URI is set): the spread between classes needs at least 2 sampled classes. Give two or more master URLs, or --classes 1 to measure this one class alone",
    );
    expect(p.origin.stats().requests).toBe(before);
    const alone = await flants(['estimate', first!, '--classes', '1'], env);
    expect(alone.code).toBe(0);
    expect(alone.stdout).toContain('library size: as --classes says');
    const two = await flants(['estimate', first!, second!], env);
    expect(two.code).toBe(0);
    expect(two.stdout).toContain(
      "library size: the catalog's valid classes (MONGODB_URI; --classes sets another size)",
    );
  });
});
