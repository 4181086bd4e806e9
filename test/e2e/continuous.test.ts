// Issue 11 end to end: continuous and fresh. The whole pipeline on the local stack (real SQS, S3,
// DynamoDB, MongoDB servers and an HTTP origin), with every S3 object write counted by key at a
// proxy in front of the local S3.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { MESSAGE_VERSION, type ScanRequest } from '../../src/domain/jobs/schemas.ts';
import { copyKeyOf } from '../../lab/bucket-check.ts';
import { startLocalPipeline, type LocalPipeline } from '../../lab/local-pipeline.ts';
import type { SampleLibrary } from '../../lab/library.ts';
import type { OriginContent } from '../../lab/origin-server.ts';
import type { Deps } from '../../src/wiring/deps.ts';
import { findDanglingReferences } from '../../lab/playlist-references.ts';
import type { ClassRecord } from '../../src/domain/ledger/records.ts';
import type { Catalog } from '../../src/domain/ports/catalog.ts';
import { testLogger } from '../helpers/stack.ts';

const HOUR = 3_600_000;
const send = (p: LocalPipeline, req: ScanRequest) => p.deps.queue.sendAll('scan', [req]);
const recheck: ScanRequest = { v: MESSAGE_VERSION, type: 'scan', mode: 'recheck' };

async function bytesAt(p: LocalPipeline, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await p.deps.store.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The classes' records by id. */
async function records(p: LocalPipeline): Promise<Map<string, ClassRecord>> {
  return new Map((await p.deps.ledger.listClasses()).map((r) => [r.classId, r]));
}

/** Object writes since `before`, by key under the bucket (the proxy counts PutObject and UploadPart). */
function writesSince(p: LocalPipeline, before: Record<string, number>): string[] {
  const now = p.s3Writes()!.byKey;
  return Object.entries(now)
    .flatMap(([k, n]) => Array.from({ length: n - (before[k] ?? 0) }, () => k))
    .sort();
}

describe('issue 11: continuous and fresh (end to end)', () => {
  it('runs the library twice: the second run (incremental scan, full scan, change check, even a forced copy) writes zero objects and every class stays COMPLETE', async () => {
    const p = await startLocalPipeline({
      library: { classes: 3, variants: 1, segmentsPerRendition: 4, segmentBytes: 4 * 1024, seed: 'twice' },
      log: testLogger(),
      countS3: true,
      env: { TRANSFER_CHUNK_FILES: '7' },
    });
    try {
      await p.scan();
      await p.settle({ timeoutMs: 120_000 });
      // The first run writes every file once.
      expect(p.s3Writes()!.total).toBe(p.library.totalFiles);
      const first = await records(p);
      for (const c of p.library.classes) {
        expect(first.get(c.id)).toMatchObject({ status: 'COMPLETE', gen: 1, doneFiles: c.files });
        // Freshness: from the class's end (seeded as "just now") to COMPLETE, recorded by the completing write.
        expect(first.get(c.id)!.freshnessSeconds).toBeGreaterThanOrEqual(0);
        expect(first.get(c.id)!.freshnessSeconds).toBeLessThan(120);
      }
      const written = { ...p.s3Writes()!.byKey };

      // The schedule again (incremental), then a full scan: nothing to copy, nothing crawled.
      const crawlsBefore = p.runner!.stats.messages.crawl;
      await p.scan();
      await p.settle({ timeoutMs: 60_000 });
      await send(p, { v: MESSAGE_VERSION, type: 'scan', mode: 'catalog', full: true });
      await p.settle({ timeoutMs: 60_000 });
      expect(p.runner!.stats.messages.crawl).toBe(crawlsBefore);

      // The change check: every COMPLETE class asked about at the origin, none changed.
      await send(p, recheck);
      await p.settle({ timeoutMs: 60_000 });
      const checked = await records(p);
      for (const c of p.library.classes) {
        expect(checked.get(c.id)).toMatchObject({
          status: 'COMPLETE',
          gen: 1,
          completedAt: first.get(c.id)!.completedAt,
          checkResult: `unchanged: ${c.files} file(s) asked`,
        });
      }

      // Even a forced copy of everything: a new generation per class, each file found in the bucket already.
      await send(p, { v: MESSAGE_VERSION, type: 'scan', mode: 'catalog', full: true, force: true });
      await p.settle({ timeoutMs: 120_000 });
      const forced = await records(p);
      for (const c of p.library.classes)
        expect(forced.get(c.id)).toMatchObject({ status: 'COMPLETE', gen: 2, doneFiles: c.files, totalFiles: c.files });

      expect(writesSince(p, written)).toEqual([]);
      const report = await p.evaluate(undefined);
      expect(report.verified).toMatchObject({ mismatches: 0, missing: 0, extra: 0, dangling: 0 });
      expect(report.completions).toEqual(Object.fromEntries(p.library.classes.map((c) => [c.id, 2])));
    } finally {
      await p.stop();
    }
  });

  it('classes added to the catalog while the pipeline runs are picked up by the next scheduled scan, which reads nothing else; they complete', async () => {
    const read: string[][] = [];
    const p = await startLocalPipeline({
      library: { classes: 5, variants: 1, segmentsPerRendition: 3, segmentBytes: 4 * 1024, seed: 'added' },
      log: testLogger(),
      holdBack: 2,
      // The library's classes ended two hours ago; the two held back end while it is being copied.
      catalogTime: new Date(Date.now() - 2 * HOUR),
      env: { SCAN_PAGE_SIZE: '2' },
      // Every document a scan reads from the catalog, scan by scan.
      decorate: (d: Deps): Deps => ({
        ...d,
        async catalog() {
          const c = await d.catalog();
          const tap = <T extends { id: string }>(docs: T[]) => (read.at(-1)!.push(...docs.map((x) => x.id)), docs);
          const counted: Catalog = {
            idKinds: c.idKinds,
            page: async (...a) => tap(await c.page(...a)),
            changedPage: async (...a) => tap(await c.changedPage(...a)),
            get: (id) => c.get(id),
            close: () => c.close(),
          };
          return counted;
        },
      }),
    });
    try {
      const [a, b, c, late1, late2] = p.library.classes.map((x) => x.id);
      read.push([]);
      const first = await p.scan();
      // Once the first scan has read its last page, and while its classes are being copied, two more classes end.
      for (let i = 0; i < 600 && !(await p.deps.ledger.getScan(first)).some((pg) => pg.page.startsWith('string:')); i++)
        await sleep(50);
      await p.addToCatalog([late1!, late2!]);
      let recs = await records(p);
      for (let i = 0; i < 600 && ![a, b, c].every((id) => recs.get(id!)?.status === 'COMPLETE'); i++) {
        await sleep(100);
        recs = await records(p);
      }
      // The next scheduled scan.
      read.push([]);
      await p.scan();
      const settled = await p.settle({ timeoutMs: 120_000 });
      expect(settled.map((r) => r.status)).toEqual(p.library.classes.map(() => 'COMPLETE'));
      // The first scan (no watermark yet) read the whole catalog as it was; the second only the two new classes (by updatedAt, then by endedAt).
      const original = p.library
        .catalogDocuments(p.origin.url)
        .map((d) => d._id.toHexString())
        .filter((id) => id !== late1 && id !== late2);
      expect([...new Set(read[0])].sort()).toEqual(original.sort());
      expect([...new Set(read[1])].sort()).toEqual([late1!, late2!].sort());
      expect(read[1]).toHaveLength(4);
      expect(p.runner!.stats.messages.crawl).toBe(5);
      const report = await p.evaluate(undefined);
      expect(report.ok).toBe(true);
    } finally {
      await p.stop();
    }
  });

  it('a segment and a media playlist changed at the origin of a COMPLETE class: after the change check exactly those files are copied again, with the new bytes and the freshness recorded', async () => {
    const changes = new Map<string, { body: Buffer; etag: string }>();
    const changeable = (lib: SampleLibrary): OriginContent => ({
      stat(path) {
        const c = changes.get(path);
        const st = lib.stat(path);
        return c && st ? { ...st, size: c.body.length, etag: c.etag, lastModified: new Date().toUTCString() } : st;
      },
      read(path, range) {
        const c = changes.get(path);
        if (!c) return lib.read(path, range);
        return Readable.from([range ? c.body.subarray(range.start, range.end + 1) : c.body]);
      },
    });
    const p = await startLocalPipeline({
      library: { classes: 6, variants: 1, segmentsPerRendition: 4, segmentBytes: 4 * 1024, seed: 'changed' },
      log: testLogger(),
      countS3: true,
      content: changeable,
    });
    try {
      await p.scan();
      await p.settle({ timeoutMs: 120_000 });
      const lib = p.library;
      // A: plain TS (its dropped segment is referenced nowhere else); B: TS with I-frame playlists and signed-style queries; C..: untouched.
      const [C, , , B, , A] = lib.classes;
      const key = (cls: { id: string }, path: string) => copyKeyOf(p.cfg.destPrefix, cls.id, p.origin.url, path);
      const isMedia = (path: string) =>
        path.endsWith('.m3u8') &&
        lib.bytes(path).toString('utf8').includes('#EXTINF') &&
        !lib.bytes(path).toString('utf8').includes('I-FRAMES-ONLY');
      const segmentOf = (playlist: string, which: 'first' | 'last') => {
        const lines = lib
          .bytes(playlist)
          .toString('utf8')
          .split('\n')
          .filter((l) => l && !l.startsWith('#'));
        return new URL(which === 'first' ? lines[0]! : lines.at(-1)!, `http://x${playlist}`).pathname;
      };
      // Class A: a media playlist re-encoded (its last segment dropped), and one of its segments fixed in place.
      const playlist = A!.paths.find(isMedia)!;
      const fixed = segmentOf(playlist, 'first');
      const dropped = segmentOf(playlist, 'last');
      const text = lib.bytes(playlist).toString('utf8');
      const lastUri = text
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .at(-1)!;
      const newText = text.replace(
        new RegExp(`#EXTINF:[^\\n]*\\n${lastUri.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`),
        '',
      );
      expect(newText).not.toBe(text);
      changes.set(playlist, { body: Buffer.from(newText), etag: '"reencoded"' });
      changes.set(fixed, { body: Buffer.alloc(lib.stat(fixed)!.size, 0x5a), etag: '"fixed"' });
      // Class B: only a segment fixed in place (same size, no playlist changes): found by its HEAD.
      const bSegment = B!.paths.find((x) => lib.file(x)?.kind === 'segment')!;
      changes.set(bSegment, { body: Buffer.alloc(lib.stat(bSegment)!.size, 0x33), etag: '"b-fixed"' });

      const before = { ...p.s3Writes()!.byKey };
      const gens = await records(p);
      const checkStarted = Date.now();
      await send(p, recheck);
      const settled = await p.settle({ timeoutMs: 120_000 });
      expect(settled.map((r) => r.status)).toEqual(lib.classes.map(() => 'COMPLETE'));

      // Exactly the changed files were written again; the bucket holds the new bytes.
      expect(writesSince(p, before)).toEqual([key(A!, playlist), key(A!, fixed), key(B!, bSegment)].sort());
      for (const [path, cls] of [
        [playlist, A!],
        [fixed, A!],
        [bSegment, B!],
      ] as const) {
        expect(
          createHash('sha256')
            .update(await bytesAt(p, key(cls, path)))
            .digest('hex'),
        ).toBe(createHash('sha256').update(changes.get(path)!.body).digest('hex'));
      }
      const after = await records(p);
      const a = after.get(A!.id)!;
      expect(a).toMatchObject({
        status: 'COMPLETE',
        gen: gens.get(A!.id)!.gen! + 1,
        totalFiles: A!.files - 1,
        doneFiles: A!.files - 1,
        removedFiles: [key(A!, dropped)],
        removedCount: 1,
      });
      expect(a.checkResult).toMatch(/^changed: /);
      // The dropped segment is reported, never deleted.
      expect(await p.deps.store.head(key(A!, dropped))).toMatchObject({ size: lib.stat(dropped)!.size });
      expect(after.get(B!.id)).toMatchObject({
        status: 'COMPLETE',
        gen: gens.get(B!.id)!.gen! + 1,
        doneFiles: B!.files,
        checkResult: expect.stringMatching(/^changed: .*ETag "b-fixed"/),
      });
      for (const other of lib.classes.filter((x) => x !== A && x !== B)) {
        expect(after.get(other.id)).toMatchObject({
          status: 'COMPLETE',
          gen: gens.get(other.id)!.gen,
          checkResult: `unchanged: ${other.files} file(s) asked`,
        });
      }
      expect(C).toBeDefined();
      // Freshness of a changed class: from the change check's finding to COMPLETE.
      for (const id of [A!.id, B!.id]) {
        const r = after.get(id)!;
        expect(Date.parse(r.changedAt!)).toBeGreaterThanOrEqual(checkStarted);
        expect(r.freshFrom).toBe(r.changedAt);
        expect(r.freshnessSeconds).toBeCloseTo((Date.parse(r.completedAt!) - Date.parse(r.changedAt!)) / 1000, 3);
        expect(r.freshnessSeconds).toBeLessThan(60);
      }
      // The copy still plays: every URI of every copied playlist resolves in the bucket.
      expect(await findDanglingReferences(p.deps.store, p.cfg.destPrefix)).toEqual([]);

      // Checked again with nothing new: nothing written, nothing re-planned.
      const quiet = { ...p.s3Writes()!.byKey };
      await send(p, recheck);
      await p.settle({ timeoutMs: 60_000 });
      expect(writesSince(p, quiet)).toEqual([]);
      expect((await records(p)).get(A!.id)).toMatchObject({ gen: a.gen, completedAt: a.completedAt });
    } finally {
      await p.stop();
    }
  });
});
