// runTransfer, runCrawl and runScan, one branch at a time, with the shared factories. The same
// paths run against real servers in test/adapters, test/pipeline, test/e2e and test/faults.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChunkFailedError, PoisonMessageError } from '../../src/errors.ts';
import type { CrawlJob, TransferJob } from '../../src/domain/jobs/schemas.ts';
import { runCrawl } from '../../src/pipeline/crawler.ts';
import { runScan } from '../../src/pipeline/scanner.ts';
import { runTransfer } from '../../src/pipeline/transfer.ts';
import type { TransferDeps } from '../../src/pipeline/copy-file.ts';
import type { PlanInput } from '../../src/domain/ledger/records.ts';
import {
  catalogScan,
  classRecord,
  crawlJob,
  createPipelineEvents,
  fakeLedger,
  HOST,
  memoryCatalog,
  plannedLedger,
  memoryOrigin,
  memoryStore,
  quietLog,
  readyDocument,
  recordingQueue,
  testConfig,
  transferJob,
} from '../helpers/factories.ts';

const MASTER = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n';
const MEDIA = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n#EXTINF:4,\nb.ts\n#EXT-X-ENDLIST\n';
const url = (p: string) => `http://${HOST}${p}`;

function transferDeps(ledger: TransferDeps['ledger'], bodies: Record<string, string> = {}) {
  const events = createPipelineEvents();
  const seen: string[] = [];
  events.on('classComplete', ({ classId }) => seen.push(`complete ${classId}`));
  events.on('chunkCounted', ({ files }) => seen.push(`counted ${files}`));
  const deps: TransferDeps & { store: ReturnType<typeof memoryStore>; queue: ReturnType<typeof recordingQueue> } = {
    cfg: testConfig(),
    origin: memoryOrigin(bodies),
    store: memoryStore(),
    ledger,
    queue: recordingQueue(),
    events,
    log: quietLog(),
  };
  return { deps, seen };
}

describe('runTransfer', () => {
  it('drops a job of another generation without copying anything', async () => {
    const { deps } = transferDeps(
      fakeLedger({ viewChunk: () => Promise.resolve({ record: classRecord({ gen: 2 }), chunkDone: false }) }),
    );
    expect(await runTransfer(transferJob(['/c1/a.ts']), { receiveCount: 1 }, deps)).toMatchObject({ outcome: 'stale' });
    expect(deps.store.objects.size).toBe(0);
  });

  it('does nothing for a chunk already done (a duplicate delivery)', async () => {
    const { deps } = transferDeps(
      fakeLedger({ viewChunk: () => Promise.resolve({ record: classRecord(), chunkDone: true }) }),
    );
    expect(await runTransfer(transferJob(['/c1/a.ts']), { receiveCount: 2 }, deps)).toMatchObject({
      outcome: 'duplicate',
    });
    expect(deps.store.objects.size).toBe(0);
  });

  it('refuses a job of a class the ledger does not know as poison', async () => {
    const { deps } = transferDeps(
      fakeLedger({ viewChunk: () => Promise.resolve({ record: undefined, chunkDone: false }) }),
    );
    await expect(runTransfer(transferJob(['/c1/a.ts']), { receiveCount: 1 }, deps)).rejects.toBeInstanceOf(
      PoisonMessageError,
    );
  });

  it('copies every file, counts the chunk once with what landed, and announces it', async () => {
    const ledger = await plannedLedger();
    const { deps, seen } = transferDeps(ledger, { [url('/c1/a.ts')]: 'aaaa', [url('/c1/b.ts')]: 'bb' });
    const job = transferJob(['/c1/a.ts', '/c1/b.ts']);
    const res = await runTransfer(job, { receiveCount: 1 }, deps);
    expect(res).toMatchObject({ outcome: 'counted', completedClass: true, bytes: 6 });
    const counted = await ledger.listChunks('c1', 1);
    expect(counted.map((c) => c.chunk)).toEqual([0]);
    expect(counted[0]!.files.map((f) => [f.key, f.bytes])).toEqual(
      expect.arrayContaining([
        [`c1/${HOST}/c1/a.ts`, 4],
        [`c1/${HOST}/c1/b.ts`, 2],
      ]),
    );
    expect(await ledger.getClass('c1')).toMatchObject({
      status: 'COMPLETE',
      doneChunks: 1,
      doneFiles: 2,
      doneBytes: 6,
    });
    expect(seen).toEqual(['counted 2', 'complete c1']);
    // Delivered again: the chunk is done, nothing is copied or counted twice.
    expect(await runTransfer(job, { receiveCount: 2 }, deps)).toMatchObject({ outcome: 'duplicate' });
    expect(await ledger.getClass('c1')).toMatchObject({ doneChunks: 1, doneFiles: 2 });
  });

  it('throws ChunkFailedError naming each failed file, and counts nothing', async () => {
    const ledger = fakeLedger({ viewChunk: () => Promise.resolve({ record: classRecord(), chunkDone: false }) });
    const { deps } = transferDeps(ledger, { [url('/c1/a.ts')]: 'aaaa' });
    const err = await runTransfer(transferJob(['/c1/a.ts', '/c1/gone.ts']), { receiveCount: 1 }, deps).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ChunkFailedError);
    expect((err as ChunkFailedError).failures).toEqual([
      { key: `c1/${HOST}/c1/gone.ts`, src: url('/c1/gone.ts'), reason: expect.stringMatching(/HTTP 404/) as string },
    ]);
  });

  it('sends the class back to the crawler when a playlist is not the one enumerated, and writes nothing', async () => {
    const ledger = fakeLedger({ viewChunk: () => Promise.resolve({ record: classRecord(), chunkDone: false }) });
    const { deps } = transferDeps(ledger, { [url('/c1/v.m3u8')]: MEDIA });
    const job: TransferJob = transferJob(['/c1/v.m3u8']);
    job.files[0]!.sha256 = createHash('sha256').update('#EXTM3U\nsomething else').digest('hex');
    expect(await runTransfer(job, { receiveCount: 1 }, deps)).toMatchObject({ outcome: 'replanned' });
    expect(deps.store.objects.size).toBe(0);
    expect(deps.queue.sent).toEqual([
      {
        name: 'crawl',
        body: expect.objectContaining({
          type: 'crawl',
          classId: 'c1',
          manifestUrl: url('/c1/master.m3u8'),
          // The round it was found in, and the playlist: the re-plan is counted once, and bounded (issue 18).
          replan: { gen: 1, replans: 0, key: job.files[0]!.key, src: url('/c1/v.m3u8') },
        }) as unknown,
      },
    ]);
  });
});

describe('runCrawl', () => {
  const crawlDeps = (ledger: ReturnType<typeof fakeLedger>, bodies: Record<string, string>) => ({
    cfg: testConfig(),
    origin: memoryOrigin(bodies),
    ledger,
    queue: recordingQueue(),
    events: createPipelineEvents(),
    log: quietLog(),
  });

  it('skips a COMPLETE class unless the copy is forced, without fetching anything', async () => {
    const deps = crawlDeps(fakeLedger({ getClass: () => Promise.resolve(classRecord({ status: 'COMPLETE' })) }), {});
    expect(await runCrawl(crawlJob(), deps)).toMatchObject({ outcome: 'already-complete' });
    expect(deps.origin.requests).toEqual([]);
  });

  it('records the plan and sends a job per chunk not yet done, carrying the generation and playlist digests', async () => {
    const plans: PlanInput[] = [];
    const ledger = fakeLedger({
      getClass: () => Promise.resolve(undefined),
      markCrawling: () => Promise.resolve(),
      recordPlan: (_c, plan) => {
        plans.push(plan);
        return Promise.resolve({ outcome: 'resumed', gen: 3, done: new Set([0]), completed: false });
      },
    });
    const deps = crawlDeps(ledger, { [url('/c1/master.m3u8')]: MASTER, [url('/c1/v.m3u8')]: MEDIA });
    const res = await runCrawl(crawlJob(), deps);
    // master, v.m3u8, a.ts, b.ts in chunks of 2: chunk 0 is done, chunk 1 is sent.
    expect(res).toMatchObject({ outcome: 'planned', gen: 3, files: 4, chunks: 2, sent: 1 });
    expect(plans).toEqual([expect.objectContaining({ totalFiles: 4, totalChunks: 2, warnings: [] })]);
    const sent = deps.queue.sent.map((s) => s.body as TransferJob);
    expect(sent.map((j) => [j.gen, j.chunk])).toEqual([[3, 1]]);
    const playlists = sent.flatMap((j) => j.files).filter((f) => f.kind === 'playlist');
    for (const f of playlists) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('waits, and sends itself again later, while a media playlist may still grow', async () => {
    const waits: string[] = [];
    const ledger = fakeLedger({
      getClass: () => Promise.resolve(undefined),
      markCrawling: () => Promise.resolve(),
      markWaiting: (_c, info) => {
        waits.push(info.reason);
        return Promise.resolve();
      },
    });
    const growing = MEDIA.replace('#EXT-X-ENDLIST\n', '');
    const deps = crawlDeps(ledger, { [url('/c1/master.m3u8')]: MASTER, [url('/c1/v.m3u8')]: growing });
    const job: CrawlJob = crawlJob('/c1/master.m3u8', { endedAt: new Date().toISOString() });
    expect(await runCrawl(job, deps)).toMatchObject({ outcome: 'waiting' });
    expect(waits[0]).toMatch(/no EXT-X-ENDLIST/);
    expect(deps.queue.sent).toEqual([{ name: 'crawl', body: job, delaySeconds: 60 }]);
  });

  it('a re-plan that must wait is counted once: the crawl sent again later is a plain one (issue 18)', async () => {
    const asked: unknown[] = [];
    const ledger = fakeLedger({
      requestReplan: (_c, r) => {
        asked.push(r);
        return Promise.resolve('counted');
      },
      getClass: () => Promise.resolve(classRecord()),
      markCrawling: () => Promise.resolve(),
      markWaiting: () => Promise.resolve(),
    });
    const growing = MEDIA.replace('#EXT-X-ENDLIST\n', '');
    const deps = crawlDeps(ledger, { [url('/c1/master.m3u8')]: MASTER, [url('/c1/v.m3u8')]: growing });
    const plain: CrawlJob = crawlJob('/c1/master.m3u8', { endedAt: new Date().toISOString() });
    const job: CrawlJob = { ...plain, replan: { gen: 1, replans: 2, key: 'c1/k', src: url('/c1/v.m3u8') } };
    expect(await runCrawl(job, deps)).toMatchObject({ outcome: 'waiting' });
    expect(asked).toEqual([expect.objectContaining({ gen: 1, replans: 2, max: 5 })]);
    expect(deps.queue.sent).toEqual([{ name: 'crawl', body: plain, delaySeconds: 60 }]);
  });
});

describe('runScan', () => {
  it('enqueues ready classes, explains the others, records the page before continuing', async () => {
    const order: string[] = [];
    const ledger = fakeLedger({
      claimScanPage: () => Promise.resolve('claimed'),
      getClasses: () => Promise.resolve(new Map()),
      markPending: (id) => {
        order.push(`pending ${id}`);
        return Promise.resolve();
      },
      recordScanPage: (p) => {
        order.push(`page ${p.page} skipped ${p.skipped.map((s) => s.reason).join(',')}`);
        return Promise.resolve();
      },
      finishScanPage: () => {
        order.push('finished');
        return Promise.resolve();
      },
    });
    const queue = recordingQueue();
    const send = queue.sendAll.bind(queue);
    queue.sendAll = (name, bodies, opts) => {
      order.push(`send ${name}`);
      return send(name, bodies, opts);
    };
    const catalog = memoryCatalog([readyDocument('a'), readyDocument('b', { isTest: true })]);
    const summary = await runScan(
      catalogScan({ phase: 'string', scanId: 's1' }),
      { cfg: testConfig(), catalog, ledger, queue, log: quietLog() },
      { messageId: 'm1' },
    );
    expect(summary).toMatchObject({ scanned: 2, enqueued: ['a'], skipped: { 'test class': 1 }, continued: false });
    // Each lane's crawls are sent (fresh first) before the page is recorded.
    expect(order).toEqual([
      'pending a',
      'send crawl-fresh',
      'send crawl',
      'page string:start skipped test class',
      'finished',
    ]);
    expect(queue.sent.map((s) => (s.body as CrawlJob).classId)).toEqual(['a']);
  });

  it('does nothing for a page another message already took', async () => {
    const ledger = fakeLedger({ claimScanPage: () => Promise.resolve('taken') });
    const queue = recordingQueue();
    const summary = await runScan(
      catalogScan({ scanId: 's1' }),
      { cfg: testConfig(), catalog: memoryCatalog([readyDocument('a')]), ledger, queue, log: quietLog() },
      { messageId: 'm2' },
    );
    expect(summary.duplicate).toBe(true);
    expect(queue.sent).toEqual([]);
  });
});
