import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DemoReport } from '../../lab/demo.ts';
import { startLocalPipeline } from '../../lab/local-pipeline.ts';
import type { Deps } from '../../src/wiring/deps.ts';
import { flants } from '../helpers/cli.ts';
import { testLogger } from '../helpers/stack.ts';
import { waitUntil } from '../helpers/wait.ts';

const BIN = fileURLToPath(new URL('../../bin/flants.js', import.meta.url));

function expectExact(r: DemoReport, classes: number): void {
  expect(r.classes.every((c) => c.status === 'COMPLETE')).toBe(true);
  expect(r.classes).toHaveLength(classes);
  expect(r.verified).toMatchObject({ mismatches: 0, missing: 0, extra: 0 });
  expect(r.faults.doubleCounted).toBe(0);
  expect(r.ok).toBe(true);
}

// Each test waits for its run to settle, up to its own deadline (settle then throws, naming the classes and
// queues it still waited for); the test's limit sits above that deadline, both generous for a loaded machine.
describe('crashes between steps', { timeout: 1_800_000 }, () => {
  it('a crash after the S3 write, before the ledger step, copies again and counts once', async () => {
    const crashed = new Set<string>();
    const p = await startLocalPipeline({
      library: { classes: 3, variants: 2, segmentsPerRendition: 6, segmentBytes: 4 * 1024, seed: 'crash-a' },
      log: testLogger(),
      env: { TRANSFER_CHUNK_FILES: '6' },
      // The first attempt of every chunk dies after its files are in S3, before it is counted.
      decorate: (d: Deps): Deps => ({
        ...d,
        ledger: {
          ...d.ledger,
          countChunk: async (classId, gen, chunk, files, seen) => {
            const id = `${classId}/${chunk}`;
            if (!crashed.has(id)) {
              crashed.add(id);
              throw new Error('simulated crash after the S3 write');
            }
            return d.ledger.countChunk(classId, gen, chunk, files, seen);
          },
        },
      }),
    });
    try {
      const scanId = await p.scan();
      await p.settle({ timeoutMs: 600_000 });
      const r = await p.evaluate(scanId);
      expectExact(r, 3);
      expect(crashed.size).toBeGreaterThan(5);
      expect(r.runner.failures.transfer).toBe(crashed.size);
      expect(Object.values(r.completions)).toEqual([1, 1, 1]);
    } finally {
      await p.stop();
    }
  });

  it('a crash after the ledger step, before the message is deleted, counts nothing twice', async () => {
    let batches = 0;
    const p = await startLocalPipeline({
      library: { classes: 3, variants: 2, segmentsPerRendition: 6, segmentBytes: 4 * 1024, seed: 'crash-b' },
      log: testLogger(),
      env: { TRANSFER_CHUNK_FILES: '6' },
      // Every other transfer invocation dies after the real handler finished: nothing is deleted.
      wrap: (role, handler) =>
        role !== 'transfer'
          ? handler
          : async (event, ctx) => {
              const res = await handler(event, ctx);
              if (batches++ % 2 === 0) throw new Error('simulated crash before the delete');
              return res;
            },
    });
    try {
      const scanId = await p.scan();
      await p.settle({ timeoutMs: 600_000 });
      const r = await p.evaluate(scanId);
      expectExact(r, 3);
      expect(r.runner.errors).toBeGreaterThan(2);
      expect(Object.values(r.completions)).toEqual([1, 1, 1]);
    } finally {
      await p.stop();
    }
  });

  it('a worker process killed mid-batch (SIGKILL) loses nothing and counts nothing twice', async () => {
    const p = await startLocalPipeline({
      library: { classes: 4, variants: 3, segmentsPerRendition: 30, segmentBytes: 48 * 1024, seed: 'kill' },
      log: testLogger(),
      noRunner: true,
      visibilityTimeout: 4,
    });
    try {
      const scanId = await p.scan();
      const env = { ...process.env, ...p.env, FLANTS_LOG_LEVEL: 'error' };
      const worker = spawn(process.execPath, [BIN, 'run', '--retry-delay', '1'], { env, stdio: 'ignore' });
      // Kill it once some chunks are counted but the run is far from done.
      let done = 0;
      await waitUntil(
        'the worker to count 60 files before it is killed',
        async (note) => {
          done = (await p.deps.ledger.listClasses()).reduce((n, c) => n + (c.doneFiles ?? 0), 0);
          note(`${done} counted so far`);
          return done >= 60;
        },
        { timeoutMs: 600_000, pollMs: 50 },
      );
      expect(done).toBeLessThan(p.library.totalFiles);
      worker.kill('SIGKILL');
      await new Promise((r) => worker.once('exit', r));
      // A new worker picks up what the dead one held once its visibility runs out.
      const again = await flants(['run', '--until-idle', '--retry-delay', '1', '--timeout', '840'], env, 900_000);
      expect(again.code).toBe(0);
      await p.settle({ timeoutMs: 300_000 });
      const r = await p.evaluate(scanId);
      console.log(
        `[kill] killed after ${done} files of ${p.library.totalFiles}; then ${r.totals.files} files COMPLETE, ${r.verified.objects} objects verified`,
      );
      expectExact(r, 4);
      expect(r.verified.objects).toBe(p.library.totalFiles);
    } finally {
      await p.stop();
    }
  });
});
