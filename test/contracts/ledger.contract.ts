import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASS_SHARDS, type LandedFile } from '../../src/domain/ledger/records.ts';
import type { Ledger } from '../../src/domain/ports/ledger.ts';
import { RUNS, runLedgerModel } from './ledger-model.ts';

/**
 * The ledger's contract, run against every implementation of `Ledger` (as rclone runs one suite
 * against every backend): the DynamoDB adapter on the local DynamoDB
 * (test/adapters/dynamodb/ledger-model.test.ts) and the in-memory ledger the unit tests use
 * (test/adapters/memory/ledger.contract.test.ts), so a fake can never drift from the real adapter.
 *
 * Its heart is the model-based test (ledger-model.ts: random interleavings, the invariants after every
 * step); beside it, examples of what the model does not drive: scan page claims, the watermark,
 * scan pages, verification notes, paging, waiting, freshness and landed files as stored. What only one
 * backend must hold (DynamoDB: no item above its budget) is the subject's `checkStorage`.
 */

/** One implementation of the ledger, as the contract drives it. */
export interface LedgerSubject {
  ledger: Ledger;
  /** Deletes every record of the class: the table restored to before it, or recreated. */
  wipe(classId: string): Promise<void>;
  /** What this backend alone must hold for the class after every step (e.g. item sizes). */
  checkStorage?(classId: string): Promise<void>;
  /** Stops what `make` started. */
  stop?(): Promise<void>;
}

/** Makes ids unique per run of the suite (a DynamoDB subject's table may outlive one). */
const RUN = Date.now().toString(36);
const info = { manifestUrl: 'http://origin/m.m3u8', title: 'T' };
const files = (n: number, chunk: number): LandedFile[] =>
  Array.from({ length: n }, (_, i) => ({ key: `k/${chunk}/${i}.ts`, bytes: 10 + i, etag: `e${i}` }));

/**
 * Declares the contract's tests for one implementation; `make` builds it once, before them. Every test
 * uses class and scan ids of its own, so a subject's earlier state never matters.
 */
export function describeLedgerContract(name: string, make: () => Promise<LedgerSubject>): void {
  describe(`ledger contract: ${name}`, () => {
    let subject: LedgerSubject;
    let ledger: Ledger;
    const id = (s: string) => `contract-${s}-${RUN}`;
    beforeAll(async () => {
      subject = await make();
      ledger = subject.ledger;
    });
    afterAll(async () => subject?.stop?.());

    it(`keeps every invariant after every step of ${RUNS} random interleavings`, { timeout: 600_000 }, () =>
      runLedgerModel(subject),
    );

    it('claims a scan page for one holder: its own redelivery until finished, never another', async () => {
      const scan = id('scan');
      expect(await ledger.claimScanPage(scan, 'string:a', 'm1')).toBe('claimed');
      expect(await ledger.claimScanPage(scan, 'string:a', 'm1')).toBe('claimed');
      expect(await ledger.claimScanPage(scan, 'string:a', 'm2')).toBe('taken');
      await ledger.finishScanPage(scan, 'string:a');
      expect(await ledger.claimScanPage(scan, 'string:a', 'm1')).toBe('done');
      expect(await ledger.claimScanPage(scan, 'string:a', 'm2')).toBe('taken');
      // A page no message claimed cannot be finished.
      await expect(ledger.finishScanPage(scan, 'string:never')).rejects.toThrow();
    });

    it('keeps scan pages in the order of their keys, and moves the watermark only forward', async () => {
      const scan = id('pages');
      for (const page of ['string:b', 'first', 'string:a'])
        await ledger.recordScanPage({
          scanId: scan,
          page,
          at: '2026-12-01T00:00:00.000Z',
          scanned: 2,
          enqueued: [`${page}-x`],
          skipped: [{ classId: `${page}-y`, reason: 'not broadcast yet' }],
        });
      const pages = await ledger.getScan(scan);
      expect(pages.map((p) => p.page)).toEqual(['first', 'string:a', 'string:b']);
      expect(pages[0]).toMatchObject({ scanned: 2, enqueued: ['first-x'], skipped: [{ classId: 'first-y' }] });
      expect(await ledger.getScan(id('no-such-scan'))).toEqual([]);

      const fields = id('updatedAt,endedAt');
      expect(await ledger.getWatermark(fields)).toBeUndefined();
      expect(await ledger.advanceWatermark(fields, '2026-12-02T00:00:00.000Z', 's1')).toBe(true);
      expect(await ledger.advanceWatermark(fields, '2026-12-01T00:00:00.000Z', 's0')).toBe(false);
      expect(await ledger.advanceWatermark(fields, '2026-12-02T00:00:00.000Z', 's2')).toBe(false);
      expect(await ledger.getWatermark(fields)).toBe('2026-12-02T00:00:00.000Z');
      expect(await ledger.advanceWatermark(fields, '2026-12-03T00:00:00.000Z', 's3')).toBe(true);
      expect(await ledger.getWatermark(fields)).toBe('2026-12-03T00:00:00.000Z');
    });

    it('waits keeping the first waitingSince, plans clearing it, and stores landed files as given', async () => {
      const c = id('wait');
      const since = '2026-12-01T00:00:00.000Z';
      await ledger.markCrawling(c, info);
      await ledger.markWaiting(c, { ...info, reason: 'no EXT-X-ENDLIST', until: '2026-12-02T00:00:00.000Z', since });
      await ledger.markWaiting(c, { ...info, reason: 'again', until: '2026-12-03T00:00:00.000Z', since: 'later' });
      expect(await ledger.getClass(c)).toMatchObject({ status: 'PENDING', waiting: 'again', waitingSince: since });
      const plan = await ledger.recordPlan(c, { planId: 'wait0001', totalFiles: 3, totalChunks: 2 });
      expect(plan).toMatchObject({ outcome: 'new', gen: 1, completed: false });
      const rec = await ledger.getClass(c);
      expect([rec?.status, rec?.waiting, rec?.waitingSince]).toEqual(['TRANSFERRING', undefined, undefined]);
      const landed: LandedFile[] = [
        {
          key: 'k/a.m3u8',
          bytes: 10,
          etag: 'e',
          crc32: 'AAAAAA==',
          src: 'http://origin/a.m3u8',
          sha256: 'a'.repeat(64),
          refs: 'r'.repeat(64),
          vars: { token: 't' },
          originEtag: '"v1"',
          originModified: 'Tue, 01 Jan 2030 00:00:00 GMT',
        },
        { key: 'k/b.ts', bytes: 20, etag: 'f' },
      ];
      expect(await ledger.countChunk(c, 1, 1, landed, undefined, 'wait0001')).toMatchObject({ outcome: 'counted' });
      expect(await ledger.listChunks(c, 1)).toEqual([{ chunk: 1, files: landed }]);
      const streamed: Array<{ chunk: number; files: LandedFile[] }> = [];
      for await (const ch of ledger.eachChunk(c, 1)) streamed.push(ch);
      expect(streamed).toEqual([{ chunk: 1, files: landed }]);
      expect(await ledger.viewChunk(c, 1, 1)).toMatchObject({
        chunkDone: true,
        record: { doneChunks: 1, doneFiles: 2 },
      });
      // A resumed plan names the chunks done.
      const again = await ledger.recordPlan(c, { planId: 'wait0001', totalFiles: 3, totalChunks: 2 });
      expect([again.outcome, [...again.done]]).toEqual(['resumed', [1]]);
    });

    it('completes with freshness from the class end, notes attempts until then, and keeps a verification of its generation', async () => {
      const c = id('fresh');
      const ended = new Date(Date.now() - 60_000).toISOString();
      await ledger.markPending(c, { ...info, endedAt: ended });
      await ledger.markPending(c, { ...info, title: 'other' });
      expect(await ledger.getClass(c)).toMatchObject({
        status: 'PENDING',
        title: 'T',
        endedAt: ended,
        freshFrom: ended,
      });
      await ledger.markCrawling(c, info);
      const { gen } = await ledger.recordPlan(c, { planId: 'fresh001', totalFiles: 2, totalChunks: 2 });
      await ledger.noteAttemptFailure(c, gen, 0, 'origin answered HTTP 503');
      expect(await ledger.getClass(c)).toMatchObject({
        status: 'TRANSFERRING',
        lastAttemptError: 'chunk 0: origin answered HTTP 503',
        failedAttempts: 1,
      });
      await ledger.countChunk(c, gen, 0, files(1, 0));
      const last = await ledger.countChunk(c, gen, 1, files(1, 1));
      expect(last).toMatchObject({ outcome: 'counted', completed: true });
      expect(last.freshnessSeconds).toBeGreaterThanOrEqual(60);
      const rec = await ledger.getClass(c);
      expect(rec).toMatchObject({ status: 'COMPLETE', completedGen: gen, freshnessSeconds: last.freshnessSeconds });
      expect(rec?.lastAttemptError).toBeUndefined();
      const v = { at: '2026-12-01T00:00:00.000Z', result: 'all 2 files match', counts: { ok: 2 } };
      expect(await ledger.recordVerification(c, gen + 1, v)).toBe(false);
      expect(await ledger.recordVerification(c, gen, v)).toBe(true);
      expect(await ledger.getClass(c)).toMatchObject({
        verifiedGen: gen,
        verifyResult: v.result,
        verifyFindings: v.counts,
      });
      expect(await ledger.recordVerification(id('no-such-class'), 1, v)).toBe(false);
      expect((await ledger.getClasses([c, id('no-such-class'), c])).size).toBe(1);
    });

    it('a bucket move revives a class failed for its re-plans with a new run of them, never TRANSFERRING past the limit', async () => {
      const c = id('replans');
      await ledger.markCrawling(c, info);
      const plan = { planId: 'repl0001', totalFiles: 6, totalChunks: 3 };
      const { gen } = await ledger.recordPlan(c, plan);
      for (let replans = 0; replans < 2; replans++) {
        const reason = 'playlist named other files';
        expect(await ledger.requestReplan(c, { gen, replans, max: 2, reason })).toBe('counted');
        await ledger.recordPlan(c, { ...plan, replan: true });
      }
      expect(await ledger.requestReplan(c, { gen, replans: 2, max: 2, reason: 'again' })).toBe('failed');
      expect(await ledger.getClass(c)).toMatchObject({ status: 'FAILED', replans: 3, crawlError: 'again' });
      expect(await ledger.recordBucketAhead(c, gen, gen + 1, 'the bucket is ahead')).toEqual({
        outcome: 'moved',
        gen: gen + 2,
      });
      const moved = await ledger.getClass(c);
      expect([moved?.status, moved?.replans ?? 0, moved?.crawlError]).toEqual(['TRANSFERRING', 0, undefined]);
    });

    it('pages failures in chunk order, and lists COMPLETE classes shard by shard', async () => {
      const c = id('failures');
      await ledger.markCrawling(c, info);
      const { gen } = await ledger.recordPlan(c, { planId: 'fail0001', totalFiles: 5, totalChunks: 5 });
      for (const chunk of [3, 0, 4])
        expect(
          await ledger.recordChunkFailure(c, gen, chunk, [
            { key: `k/${chunk}`, src: `http://origin/${chunk}`, reason: `HTTP 40${chunk}` },
          ]),
        ).toBe('recorded');
      const first = await ledger.pageFailures(c, undefined, 2);
      expect(first.failures.map((f) => f.chunk)).toEqual([0, 3]);
      expect(first.next).toBe(3);
      const rest = await ledger.pageFailures(c, first.next, 2);
      expect(rest.failures.map((f) => f.chunk)).toEqual([4]);
      expect(rest.next).toBeUndefined();
      expect(await ledger.getClass(c)).toMatchObject({
        status: 'FAILED',
        failedChunks: 3,
        failedChunkIds: [0, 3, 4],
        failedFiles: 3,
        lastError: 'HTTP 400',
      });

      const complete = [id('done-a'), id('done-b'), id('done-c')];
      for (const k of [...complete, id('open')]) {
        await ledger.markCrawling(k, info);
        await ledger.recordPlan(k, { planId: 'done0001', totalFiles: 0, totalChunks: k === id('open') ? 1 : 0 });
      }
      const seen: string[] = [];
      for (let shard = 0; shard < CLASS_SHARDS; shard++) {
        let after: string | undefined;
        do {
          const page = await ledger.pageCompleteClasses(shard, after, 5);
          seen.push(...page.records.map((r) => r.classId));
          after = page.last;
        } while (after !== undefined);
      }
      expect(seen.filter((k) => k.endsWith(`-${RUN}`) && k.startsWith('contract-done')).sort()).toEqual(
        complete.sort(),
      );
      expect(seen).not.toContain(id('open'));
    });
  });
}
