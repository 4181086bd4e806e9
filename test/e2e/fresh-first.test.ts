// Issue 25, "Done when": a class that ends during a backfill does not wait behind it. The whole
// pipeline on the local stack, the workers being `flants run` as an operator starts it (its default
// worker processes and pollers, default settings), a backlog of many classes scanned first, then one
// class that just ended. The fresh class must be COMPLETE before the backlog is 20 % done (by files);
// a backlog class enqueued by hand mid-backfill moves to the fresh lane without a chunk counted twice;
// the backlog must still complete, exact.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startLocalPipeline, type LocalPipeline } from '../../lab/local-pipeline.ts';
import type { ClassRecord } from '../../src/domain/ledger/records.ts';
import { flants } from '../helpers/cli.ts';
import { testLogger } from '../helpers/stack.ts';

const BIN = fileURLToPath(new URL('../../bin/flants.js', import.meta.url));
const DAY = 86_400_000;

/** Polls `check` until it returns a value (never a fixed sleep as the condition); throws at the deadline. */
async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function byId(p: LocalPipeline): Promise<Map<string, ClassRecord>> {
  return new Map((await p.deps.ledger.listClasses()).map((r) => [r.classId, r]));
}

describe('issue 25: fresh first (end to end, flants run with its defaults)', () => {
  it('a class that ends during a backfill is COMPLETE before the backlog is 20 % done; a class moved to the fresh lane mid-copy and the backlog still complete exact', async () => {
    const p = await startLocalPipeline({
      // 40 backlog classes of 97 files (3,880 files), and one more held back: the class that ends mid-backfill.
      library: { classes: 41, variants: 2, segmentsPerRendition: 47, segmentBytes: 2 * 1024, seed: 'fresh-first' },
      log: testLogger(),
      noRunner: true,
      holdBack: 1,
      // The backfill: classes that ended a month ago.
      catalogTime: new Date(Date.now() - 30 * DAY),
    });
    let workers: ChildProcess | undefined;
    try {
      const fresh = p.library.classes.at(-1)!;
      const backlog = p.library.classes.slice(0, -1);
      const backlogFiles = backlog.reduce((n, c) => n + c.files, 0);

      // The workers as an operator runs them: `flants run`, default --workers and pollers, default
      // settings (the lab's own FRESH_WITHIN_HOURS=0 is not passed on).
      const { FRESH_WITHIN_HOURS: _labOnly, ...env } = p.env;
      workers = spawn(process.execPath, [BIN, 'run'], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      workers.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));

      await p.scan();
      // The backlog is enqueued: every backlog class is in the ledger.
      await until('the backlog to be enqueued', 120_000, async () => {
        const r = await byId(p);
        return backlog.every((c) => r.has(c.id)) ? true : undefined;
      });
      // Then the class ends, and the next scheduled scan finds it.
      await p.addToCatalog([fresh.id]);
      await p.scan();
      const atComplete = await until('the fresh class to be COMPLETE', 300_000, async () => {
        const r = await byId(p);
        if (r.get(fresh.id)?.status !== 'COMPLETE') return undefined;
        return backlog.reduce((n, c) => n + (r.get(c.id)?.doneFiles ?? 0), 0);
      });
      const freshRecord = (await byId(p)).get(fresh.id)!;
      expect(freshRecord).toMatchObject({ status: 'COMPLETE', doneFiles: fresh.files, failedFiles: 0 });
      expect(
        atComplete / backlogFiles,
        `backlog files done when the fresh class completed: ${atComplete}`,
      ).toBeLessThan(0.2);

      // Work moves between lanes: a backlog class picked up by hand mid-backfill (`flants enqueue`, the
      // fresh lane) while its bulk jobs are still queued. Both lanes may copy its chunks; each counts once.
      const moving = await until('a backlog class still to copy', 60_000, async () => {
        const r = await byId(p);
        const open = backlog.filter((c) => r.get(c.id)?.status !== 'COMPLETE');
        return (
          open.find((c) => r.get(c.id)?.status === 'TRANSFERRING' && (r.get(c.id)?.doneFiles ?? 0) > 0) ??
          open.at(-1) ??
          null
        );
      });
      if (moving) {
        const e = await flants(['enqueue', moving.id], env);
        expect(e.code, e.stderr).toBe(0);
        expect(e.stdout).toContain('-scan-fresh');
      }

      // The backlog still completes, exact: every class COMPLETE with each file counted once, and the bucket right.
      await until('the backlog to complete', 900_000, async () => {
        const r = await byId(p);
        return backlog.every((c) => r.get(c.id)?.status === 'COMPLETE') ? true : undefined;
      });
      const records = await p.settle({ timeoutMs: 300_000 });
      for (const c of p.library.classes) {
        expect(records.find((r) => r.classId === c.id)).toMatchObject({
          status: 'COMPLETE',
          doneFiles: c.files,
          totalFiles: c.files,
          failedFiles: 0,
        });
      }
      const report = await p.evaluate(undefined, new Set());
      expect(report.ok, JSON.stringify(report).slice(0, 2000)).toBe(true);
      expect(stderr).not.toMatch(/QUEUE_NOT_FOUND/);
    } finally {
      if (workers && workers.exitCode === null) {
        workers.kill('SIGINT');
        await new Promise((r) => workers!.once('exit', r));
      }
      await p.stop();
    }
  }, 1_500_000);
});
