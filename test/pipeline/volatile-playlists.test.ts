// Issue 18, case 1: playlists that differ on every request. Through the Lambdas' own handlers
// (processBatch → runCrawl / runTransfer) against the local stack and the lab's origin.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyKeyOf } from '../../lab/bucket-check.ts';
import { startLocalPipeline, type LocalPipeline } from '../../lab/local-pipeline.ts';
import { NO_FAULTS } from '../../lab/faults.ts';
import { findDanglingReferences } from '../../lab/playlist-references.ts';
import { CrawlJobSchema, type CrawlJob } from '../../src/domain/jobs/schemas.ts';
import { drainPipeline } from '../helpers/drive.ts';
import { objectBytes, testLogger } from '../helpers/stack.ts';
import { sampleCrawlJob } from '../helpers/sample-jobs.ts';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';

const REPLAN_MAX = 3;
let p: LocalPipeline;

beforeAll(async () => {
  p = await startLocalPipeline({
    library: { classes: 2, segmentsPerRendition: 3, segmentBytes: 4096, variants: 2, seed: 'volatile' },
    log: testLogger(),
    noRunner: true,
    faults: { ...NO_FAULTS, origin: { ...NO_FAULTS.origin, playlists: 'token' } },
    env: { TRANSFER_CHUNK_FILES: '5', REPLAN_MAX: String(REPLAN_MAX), RETRY_BACKOFF_SECONDS: '1' },
  });
}, 120_000);
afterAll(async () => p?.stop());

const crawlOf = (index: number): CrawlJob =>
  sampleCrawlJob(p, index, { endedAt: new Date(Date.now() - 3_600_000).toISOString() });

describe('playlists that differ on every request (issue 18, case 1)', () => {
  it('a token in every URI, a changing comment and EXT-X-PROGRAM-DATE-TIME: COMPLETE in generation 1, storing the bytes the transfer read', async () => {
    const cls = p.library.classes[0]!;
    await p.deps.queue.sendAll('crawl', [crawlOf(0)]);
    const drained = await drainPipeline(p.deps, { maxMessages: 200 });
    expect(drained.idle, `the pipeline did not settle: ${JSON.stringify(drained)}`).toBe(true);
    const rec = await p.deps.ledger.getClass(cls.id);
    expect(rec).toMatchObject({ status: 'COMPLETE', gen: 1, totalFiles: cls.files, doneFiles: cls.files });
    expect(rec?.replans ?? 0).toBe(0);
    const landed = new Map(
      (await p.deps.ledger.listChunks(cls.id, 1)).flatMap((c) => c.files).map((f) => [f.key, f] as const),
    );
    const playlists = cls.paths.filter((path) => path.endsWith('.m3u8'));
    expect(playlists.length).toBeGreaterThan(1);
    for (const path of playlists) {
      const key = copyKeyOf(p.cfg.destPrefix, cls.id, p.origin.url, path);
      const stored = await objectBytes(p.deps.store, key);
      // The crawler read request 1; what is stored is the transfer's read, not the crawler's bytes.
      expect(stored.toString()).toMatch(/^# served as request [2-9]\d* at /m);
      expect(stored.toString()).toMatch(/\?token=/);
      // Its own SHA-256 is what the ledger (and a later change check or verification) holds it to.
      expect(landed.get(key)?.sha256).toBe(createHash('sha256').update(stored).digest('hex'));
      expect(landed.get(key)?.bytes).toBe(stored.length);
    }
    // Every URI in every copied playlist resolves to an object in the bucket (the query strings are not part of keys).
    expect(await findDanglingReferences(p.deps.store, `${p.cfg.destPrefix}${cls.id}/`)).toEqual([]);
  });

  it('a session id in every playlist name: FAILED after REPLAN_MAX re-plans, naming the playlist, with a plain crawl in the DLQ', async () => {
    const cls = p.library.classes[1]!;
    p.origin.setFaults({ playlists: 'session' });
    await p.deps.queue.sendAll('crawl', [crawlOf(1)]);
    const drained = await drainPipeline(p.deps, { maxMessages: 300 });
    expect(drained.idle, `the pipeline did not settle: ${JSON.stringify(drained)}`).toBe(true);
    const rec = await p.deps.ledger.getClass(cls.id);
    const master = copyKeyOf(p.cfg.destPrefix, cls.id, p.origin.url, cls.manifestPath);
    expect(rec).toMatchObject({ status: 'FAILED', gen: 1 + REPLAN_MAX, replans: REPLAN_MAX + 1 });
    expect(rec?.lastError).toContain(`playlist ${master} (${p.origin.url}${cls.manifestPath})`);
    expect(rec?.lastError).toContain(`after ${REPLAN_MAX} re-plans in a row (REPLAN_MAX=${REPLAN_MAX})`);
    expect(rec?.lastError).toMatch(/flants redrive --queue crawl/);
    // Bounded: one crawl per round and the transfers of each generation, nothing more.
    expect(drained.crawl).toBeLessThanOrEqual(2 * (REPLAN_MAX + 2));
    // What waits in the crawl DLQ is a plain crawl of the class: a redrive starts over, counted from zero.
    const dlq = await p.deps.aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: await p.deps.queue.url('crawl-dlq'), MaxNumberOfMessages: 10 }),
    );
    const parked = (dlq.Messages ?? []).map((m) => CrawlJobSchema.parse(JSON.parse(m.Body ?? '')));
    expect(parked).toEqual([expect.objectContaining({ classId: cls.id, manifestUrl: crawlOf(1).manifestUrl })]);
    expect(parked[0]!.replan).toBeUndefined();
  });
});
