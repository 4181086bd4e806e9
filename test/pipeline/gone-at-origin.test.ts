// Issue 18, case 4: an origin purge never unmakes a finished copy. A file the origin no longer has
// (404) whose verified copy is in the bucket is not a failure: the class stays COMPLETE, or its new
// generation keeps that copy, and the record lists what the origin no longer has. The real crawler
// and transfer against the lab origin, local S3 and DynamoDB.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyKeyOf } from '../../lab/bucket-check.ts';
import { LIBRARY_ENV, generateLibrary, type SampleClass } from '../../lab/library.ts';
import type { OriginContent, OriginServer } from '../../lab/origin-server.ts';
import type { Config } from '../../src/config.ts';
import { MAX_GONE_LISTED } from '../../src/domain/ledger/records.ts';
import type { Ledger } from '../../src/domain/ports/ledger.ts';
import type { ObjectStore } from '../../src/domain/ports/object-store.ts';
import type { PipelineDriver } from '../helpers/driver.ts';
import { pipelineDriver, startPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.ts';

const library = generateLibrary({
  classes: 6,
  variants: 1,
  segmentsPerRendition: 4,
  segmentBytes: 2048,
  seed: 'purge',
});
let env: PipelineEnv;
let server: OriginServer;
let cfg: Config;
let store: ObjectStore;
let ledger: Ledger;
let driver: PipelineDriver;
/** Files fixed in place at the origin (same path, other bytes and ETag). */
const changes = new Map<string, Buffer>();
const content: OriginContent = {
  stat(path) {
    const st = library.stat(path);
    const c = changes.get(path);
    return c && st ? { ...st, size: c.length, etag: `"fixed-${c.length}"` } : st;
  },
  read(path, range) {
    const c = changes.get(path);
    if (!c) return library.read(path, range);
    return Readable.from([range ? c.subarray(range.start, range.end + 1) : c]);
  },
};

beforeAll(async () => {
  env = await startPipelineEnv(content, {
    // The library's fMP4 classes publish manifest.mpd beside the master: copied, as `npm start` does.
    ...LIBRARY_ENV,
    DEST_PREFIX: 'media/',
    TRANSFER_CHUNK_FILES: '4',
    TRANSFER_RETRY_BASE_MS: '5',
  });
  ({ server, cfg, store, ledger } = env);
  driver = pipelineDriver(env);
});
afterAll(() => env?.stop());

const manifestUrl = (c: SampleClass) => `${server.url}${c.manifestPath}`;
const keyOf = (c: SampleClass, path: string) => copyKeyOf(cfg.destPrefix, c.id, server.url, path);
const segmentOf = (c: SampleClass, n = 0) => c.paths.filter((p) => library.file(p)?.kind === 'segment')[n]!;

async function copy(c: SampleClass): Promise<void> {
  driver.crawl(c.id, manifestUrl(c));
  const r = await driver.run();
  expect(r.deadLettered).toEqual([]);
  expect(await ledger.getClass(c.id)).toMatchObject({ status: 'COMPLETE', gen: 1, doneFiles: c.files });
}

describe('issue 18 case 4: a file gone at the origin whose verified copy is in the bucket', () => {
  it('a change check that finds a segment purged at the origin leaves the class COMPLETE, in its generation, listing the file', async () => {
    const c = library.classes[0]!;
    await copy(c);
    const purged = segmentOf(c, 1);
    server.setFaults({ gone: [purged] });
    try {
      driver.crawl(c.id, manifestUrl(c), { recheck: true });
      const r = await driver.run();
      expect(r.deadLettered).toEqual([]);
      const rec = await ledger.getClass(c.id);
      expect(rec).toMatchObject({
        status: 'COMPLETE',
        gen: 1,
        doneFiles: c.files,
        failedFiles: 0,
        goneAtOrigin: { count: 1, keys: [keyOf(c, purged)] },
      });
      expect(rec!.checkResult).toMatch(/1 gone at the origin/);
      // The bucket still holds it; checked again, nothing moves (no generation a day for a purged file).
      expect(await store.head(keyOf(c, purged))).toBeDefined();
      driver.crawl(c.id, manifestUrl(c), { recheck: true });
      await driver.run();
      expect(await ledger.getClass(c.id)).toMatchObject({ status: 'COMPLETE', gen: 1, goneAtOrigin: { count: 1 } });
    } finally {
      server.setFaults({});
    }
  });

  it('a new generation (forced copy) whose transfer finds segments gone at the origin keeps their verified copies: COMPLETE, listed', async () => {
    const c = library.classes[1]!;
    await copy(c);
    const purged = [segmentOf(c, 0), segmentOf(c, 2)];
    server.setFaults({ gone: purged });
    try {
      driver.crawl(c.id, manifestUrl(c), { force: true });
      const r = await driver.run();
      expect(r.deadLettered).toEqual([]);
      const rec = await ledger.getClass(c.id);
      expect(rec).toMatchObject({
        status: 'COMPLETE',
        gen: 2,
        doneFiles: c.files,
        totalFiles: c.files,
        failedFiles: 0,
        goneAtOrigin: { count: 2 },
      });
      expect([...rec!.goneAtOrigin!.keys].sort()).toEqual(purged.map((p) => keyOf(c, p)).sort());
      expect(await ledger.listFailures(c.id)).toEqual([]);
      // Once the origin has them again, a change check finds nothing gone and nothing changed.
      server.setFaults({});
      driver.crawl(c.id, manifestUrl(c), { recheck: true });
      await driver.run();
      const after = await ledger.getClass(c.id);
      expect(after).toMatchObject({ status: 'COMPLETE', gen: 2 });
      expect(after!.goneAtOrigin).toBeUndefined();
    } finally {
      server.setFaults({});
    }
  });

  it('a change check that finds a real change and a purged segment: the new generation copies the change and keeps the purged copy', async () => {
    const c = library.classes[4]!;
    await copy(c);
    const purged = segmentOf(c, 3);
    const fixed = segmentOf(c, 0);
    server.setFaults({ gone: [purged] });
    changes.set(fixed, Buffer.alloc(library.stat(fixed)!.size, 0x5a));
    try {
      driver.crawl(c.id, manifestUrl(c), { recheck: true });
      const r = await driver.run();
      expect(r.deadLettered).toEqual([]);
      expect(await ledger.getClass(c.id)).toMatchObject({
        status: 'COMPLETE',
        gen: 2,
        doneFiles: c.files,
        failedFiles: 0,
        goneAtOrigin: { count: 1, keys: [keyOf(c, purged)] },
      });
      // The fixed segment was copied again; the purged one is still the verified copy of generation 1.
      expect((await store.head(keyOf(c, fixed)))?.generation).toBe(2);
      expect((await store.head(keyOf(c, purged)))?.generation).toBe(1);
    } finally {
      server.setFaults({});
      changes.clear();
    }
  });

  it('a 404 for a file the bucket does not hold stays a failure, named, and is not listed as gone-and-kept', async () => {
    const c = library.classes[5]!;
    const purged = segmentOf(c, 0);
    server.setFaults({ gone: [purged] });
    try {
      driver.crawl(c.id, manifestUrl(c));
      const r = await driver.run();
      expect(r.deadLettered.map((d) => d.queue)).toEqual(['transfer']);
      const rec = await ledger.getClass(c.id);
      expect(rec).toMatchObject({ status: 'FAILED', failedFiles: 1 });
      expect(rec!.goneAtOrigin).toBeUndefined();
      const failed = (await ledger.listFailures(c.id)).flatMap((f) => f.files);
      expect(failed.map((f) => f.key)).toEqual([keyOf(c, purged)]);
      expect(failed[0]!.reason).toMatch(/404/);
    } finally {
      server.setFaults({});
    }
  });
});

describe('issue 18 case 4: what the class record keeps of files gone at the origin', () => {
  const landed = (chunk: number, n: number, gone: number) =>
    Array.from({ length: n }, (_, i) => ({
      key: `g/${chunk}/${i}.ts`,
      bytes: 10,
      etag: 'e',
      ...(i < gone ? { goneAtOrigin: true } : {}),
    }));

  it(`counts every kept file exactly and names at most ${MAX_GONE_LISTED}, however many chunks count at once`, async () => {
    const id = 'gone-bounds';
    await ledger.markCrawling(id, { manifestUrl: 'http://origin.test/m.m3u8' });
    const plan = await ledger.recordPlan(id, { planId: 'abcd0001', totalFiles: 8 * 15, totalChunks: 8 });
    // Eight chunks counted concurrently, each with 12 of its 15 files gone at the origin.
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, c) => ledger.countChunk(id, plan.gen, c, landed(c, 15, 12))),
    );
    expect(results.filter((r) => r.outcome === 'counted')).toHaveLength(8);
    const rec = await ledger.getClass(id);
    expect(rec).toMatchObject({ status: 'COMPLETE', doneFiles: 120, goneAtOrigin: { count: 96 } });
    expect(rec!.goneAtOrigin!.keys).toHaveLength(MAX_GONE_LISTED);
    expect(new Set(rec!.goneAtOrigin!.keys).size).toBe(MAX_GONE_LISTED);
    // The chunk records keep every one of them.
    const kept = (await ledger.listChunks(id, plan.gen)).flatMap((c) => c.files).filter((f) => f.goneAtOrigin);
    expect(kept).toHaveLength(96);
    // A change check replaces the list with what it found; one that found nothing gone clears it.
    expect(await ledger.markChecked(id, plan.gen, 'unchanged', { count: 1, keys: ['g/0/0.ts'] })).toBe(true);
    expect((await ledger.getClass(id))!.goneAtOrigin).toEqual({ count: 1, keys: ['g/0/0.ts'] });
    expect(await ledger.markChecked(id, plan.gen, 'unchanged', { count: 0, keys: [] })).toBe(true);
    expect((await ledger.getClass(id))!.goneAtOrigin).toBeUndefined();
    // A new generation starts with none.
    await ledger.countChunk(id, plan.gen, 0, landed(0, 15, 1));
    const next = await ledger.recordPlan(id, {
      planId: 'abcd0001',
      totalFiles: 120,
      totalChunks: 8,
      forcedAt: new Date().toISOString(),
    });
    expect(next.outcome).toBe('new');
    expect((await ledger.getClass(id))!.goneAtOrigin).toBeUndefined();
  });
});
