import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CrawlJob } from '../../src/domain/jobs/schemas.ts';
import type { OriginContent } from '../../lab/origin-server.ts';
import { copyKeyOf } from '../../lab/bucket-check.ts';
import { startLocalPipeline } from '../../lab/local-pipeline.ts';
import type { SampleLibrary } from '../../lab/library.ts';
import { runCrawl } from '../../src/pipeline/crawler.ts';
import { findDanglingReferences } from '../../lab/playlist-references.ts';
import { testLogger } from '../helpers/stack.ts';
import { sampleCrawlJob } from '../helpers/sample-jobs.ts';

const library = { classes: 2, segmentsPerRendition: 4, segmentBytes: 8 * 1024, variants: 2, seed: 'lifecycle' };

/**
 * The library, except that `rewrite` may change a playlist's text per request (n = how many times that
 * path was asked for, from 1) and serve extra files it mentions.
 */
function rewriting(
  lib: SampleLibrary,
  rewrite: (path: string, text: string, n: number) => string,
  extra: Map<string, Buffer> = new Map(),
): OriginContent {
  const asked = new Map<string, number>();
  const current = new Map<string, Buffer>();
  return {
    stat(path) {
      const more = extra.get(path);
      if (more) return { size: more.length, contentType: 'video/mp2t' };
      const st = lib.stat(path);
      if (!st || !path.endsWith('.m3u8')) return st;
      const n = (asked.get(path) ?? 0) + 1;
      asked.set(path, n);
      const body = Buffer.from(rewrite(path, lib.bytes(path).toString('utf8'), n));
      current.set(path, body);
      return { ...st, size: body.length };
    },
    read(path, range) {
      const body = extra.get(path) ?? current.get(path);
      if (!body) return lib.read(path, range);
      return Readable.from([range ? body.subarray(range.start, range.end + 1) : body]);
    },
  };
}

const isMedia = (text: string) => text.includes('#EXTINF');

describe('issue 8: what was enumerated is what is copied (end to end)', () => {
  it('case 3: a media playlist that grows a segment between crawl and transfer is re-planned, and the copy plays', async () => {
    const lib0 = (await import('../../lab/library.ts')).generateLibrary(library);
    const target = lib0.classes[0]!.paths.find((p) => p.endsWith('.m3u8') && isMedia(lib0.bytes(p).toString('utf8')))!;
    const extraPath = target.replace(/[^/]+$/, 'late-segment.ts');
    const extra = new Map([[extraPath, Buffer.alloc(4096, 7)]]);
    const grown = (text: string) => text.replace('#EXT-X-ENDLIST', `#EXTINF:4.000,\nlate-segment.ts\n#EXT-X-ENDLIST`);
    const p = await startLocalPipeline({
      library,
      log: testLogger(),
      env: { TRANSFER_CHUNK_FILES: '5' },
      // The crawl reads the playlist as it was; from the second request on it has one more segment.
      content: (lib) => rewriting(lib, (path, text, n) => (path === target && n > 1 ? grown(text) : text), extra),
    });
    try {
      await p.scan();
      const records = await p.settle({ timeoutMs: 120_000 });
      const rec = records.find((r) => r.classId === lib0.classes[0]!.id)!;
      expect(rec.status).toBe('COMPLETE');
      // Planned twice: the first generation never counted the changed playlist; the second copied what it saw.
      expect(rec.gen).toBe(2);
      expect(rec.totalFiles).toBe(lib0.classes[0]!.files + 1);
      expect(rec.doneFiles).toBe(rec.totalFiles);
      const key = copyKeyOf(p.cfg.destPrefix, lib0.classes[0]!.id, p.origin.url, target);
      const chunks: Buffer[] = [];
      for await (const c of await p.deps.store.get(key)) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString('utf8')).toBe(grown(lib0.bytes(target).toString('utf8')));
      expect(
        await p.deps.store.head(copyKeyOf(p.cfg.destPrefix, lib0.classes[0]!.id, p.origin.url, extraPath)),
      ).toMatchObject({ size: 4096 });
      // Every URI in every copied playlist resolves to an object in the bucket.
      expect(await findDanglingReferences(p.deps.store, p.cfg.destPrefix)).toEqual([]);
      expect(p.counters.completions[lib0.classes[0]!.id]).toBe(1);
    } finally {
      await p.stop();
    }
  });

  it('case 3: playlists without EXT-X-ENDLIST make the class wait within the grace period, then it is copied', async () => {
    let ended = false;
    const p = await startLocalPipeline({
      library,
      log: testLogger(),
      noRunner: true,
      env: { GROWING_GRACE_MINUTES: '15', GROWING_RECHECK_SECONDS: '60' },
      content: (lib) => rewriting(lib, (_path, text) => (ended ? text : text.replace('#EXT-X-ENDLIST\n', ''))),
    });
    try {
      const cls = p.library.classes[0]!;
      const job = sampleCrawlJob(p, 0, { endedAt: new Date().toISOString() });
      const deps = { ...p.deps, log: testLogger() };
      expect(await runCrawl(job, deps)).toMatchObject({ outcome: 'waiting' });
      const waiting = await p.deps.ledger.getClass(cls.id);
      expect(waiting).toMatchObject({ status: 'PENDING' });
      expect(waiting?.waiting).toMatch(/waiting: \d+ media playlist\(s\) have no EXT-X-ENDLIST/);
      // It is crawled again later: the same job waits, delayed, in the crawl queue.
      expect((await p.deps.queue.depth('crawl')).delayed).toBe(1);
      // After the grace period the class is copied as it stands, with a warning on its record.
      const later = () => new Date(Date.now() + 16 * 60_000);
      expect(await runCrawl(job, deps, { now: later })).toMatchObject({ outcome: 'planned', gen: 1 });
      const planned = await p.deps.ledger.getClass(cls.id);
      expect(planned).toMatchObject({ status: 'TRANSFERRING' });
      expect(planned?.waiting).toBeUndefined();
      expect(planned?.warnings?.[0]).toMatch(
        /copied as it stood 15 min after the class ended: \d+ media playlist\(s\) have no EXT-X-ENDLIST/,
      );
      // Once the playlists end, a crawl within the grace period plans at once, without a warning.
      ended = true;
      const other = p.library.classes[1]!;
      const job2 = {
        ...job,
        classId: other.id,
        manifestUrl: `${p.origin.url}${other.manifestPath}`,
        title: other.title,
      };
      expect(await runCrawl(job2, deps)).toMatchObject({ outcome: 'planned' });
      expect((await p.deps.ledger.getClass(other.id))?.warnings).toBeUndefined();
    } finally {
      await p.stop();
    }
  });
});

describe('issue 18 case 8: an implausible endedAt never makes a class wait forever', () => {
  it('endedAt at the epoch or in the future is treated as missing: the class waits GROWING_GRACE_MINUTES from first being seen waiting, however often its crawl job comes back, then copies with the reason on its record', async () => {
    const p = await startLocalPipeline({
      library,
      log: testLogger(),
      noRunner: true,
      env: { GROWING_GRACE_MINUTES: '15', GROWING_RECHECK_SECONDS: '60' },
      // The playlists never end: the class can only be copied as it stands.
      content: (lib) => rewriting(lib, (_path, text) => text.replace('#EXT-X-ENDLIST\n', '')),
    });
    try {
      const MIN = 60_000;
      const t0 = Date.parse('2026-05-04T10:00:00.000Z');
      let clock = t0;
      const now = () => new Date(clock);
      const deps = { ...p.deps, log: testLogger() };
      const jobOf = (i: number, endedAt: string, requestedAt: number): CrawlJob =>
        sampleCrawlJob(p, i, { endedAt, requestedAt: new Date(requestedAt).toISOString() });
      const epoch = new Date(0).toISOString();
      const implausible = `endedAt ${epoch} is implausible (before 2000 or more than a day in the future); treated as missing`;
      const cls = p.library.classes[0]!;
      const job = jobOf(0, epoch, t0);

      expect(await runCrawl(job, deps, { now })).toMatchObject({ outcome: 'waiting' });
      let rec = await p.deps.ledger.getClass(cls.id);
      expect(rec).toMatchObject({
        status: 'PENDING',
        waitingSince: new Date(t0).toISOString(),
        waitUntil: new Date(t0 + 15 * MIN).toISOString(),
      });
      expect(rec?.waiting).toContain(implausible);
      // Neither the record's end nor its freshness comes from the epoch: freshness counts from its first record.
      expect(rec?.endedAt).toBeUndefined();
      expect(rec?.freshFrom).toBe(rec?.createdAt);

      // Its delayed redelivery, and the same class sent again by a later scan (another requestedAt): the
      // grace period still counts from when it was first seen waiting.
      clock = t0 + 5 * MIN;
      expect(await runCrawl(job, deps, { now })).toMatchObject({ outcome: 'waiting' });
      clock = t0 + 10 * MIN;
      expect(await runCrawl(jobOf(0, epoch, clock), deps, { now })).toMatchObject({ outcome: 'waiting' });
      rec = await p.deps.ledger.getClass(cls.id);
      expect(rec).toMatchObject({
        waitingSince: new Date(t0).toISOString(),
        waitUntil: new Date(t0 + 15 * MIN).toISOString(),
      });

      // Past the grace period from the first wait: planned as it stands, the reasons on the record.
      clock = t0 + 16 * MIN;
      expect(await runCrawl(jobOf(0, epoch, clock), deps, { now })).toMatchObject({ outcome: 'planned', gen: 1 });
      rec = await p.deps.ledger.getClass(cls.id);
      expect(rec).toMatchObject({ status: 'TRANSFERRING' });
      expect(rec?.waiting).toBeUndefined();
      expect(rec?.waitingSince).toBeUndefined();
      expect(rec?.warnings).toContain(implausible);
      expect(rec?.warnings?.join('\n')).toMatch(
        /copied as it stood 15 min after it was first seen waiting: \d+ media playlist\(s\) have no EXT-X-ENDLIST/,
      );

      // An end more than a day ahead is as implausible: the wait is the grace period from now, not from then.
      const ahead = new Date(t0 + 2 * 24 * 60 * MIN).toISOString();
      const other = p.library.classes[1]!;
      expect(await runCrawl(jobOf(1, ahead, clock), deps, { now })).toMatchObject({ outcome: 'waiting' });
      rec = await p.deps.ledger.getClass(other.id);
      expect(rec).toMatchObject({ waitUntil: new Date(clock + 15 * MIN).toISOString() });
      expect(rec?.endedAt).toBeUndefined();
      expect(rec?.waiting).toContain(`endedAt ${ahead} is implausible`);
    } finally {
      await p.stop();
    }
  });
});
