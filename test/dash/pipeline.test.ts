// A class whose catalog manifestUrl is an .mpd through runCrawl and runTransfer (the shared factories, as
// test/pipeline/stages.test.ts): dynamic manifests wait, then copy as they stand with a warning; the transfer
// holds the manifest it reads to the crawl's reference digest.
import { describe, expect, it } from 'vitest';
import type { TransferJob } from '../../src/domain/jobs/schemas.ts';
import { runCrawl } from '../../src/pipeline/crawler.ts';
import { runTransfer } from '../../src/pipeline/transfer.ts';
import type { PlanInput } from '../../src/domain/ledger/records.ts';
import {
  classRecord,
  crawlJob,
  createPipelineEvents,
  fakeLedger,
  HOST,
  memoryOrigin,
  memoryStore,
  quietLog,
  recordingQueue,
  testConfig,
} from '../helpers/factories.ts';

const url = (p: string) => `http://${HOST}${p}`;
const MPD = (type: 'static' | 'dynamic', token = 'a', extra = '') =>
  `<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="${type}" mediaPresentationDuration="PT8S">
  <BaseURL>https://mirror.example.net/c1/</BaseURL><BaseURL>media/</BaseURL>
  <Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="v$Number$.m4s?tok=${token}" initialization="init.mp4" duration="4"/>
  <Representation id="v" bandwidth="1"/></AdaptationSet>${extra}</Period></MPD>\n`;

function crawlDeps(bodies: Record<string, string>, plans: PlanInput[], waits: string[]) {
  const ledger = fakeLedger({
    getClass: () => Promise.resolve(undefined),
    markCrawling: () => Promise.resolve(),
    markWaiting: (_c, info) => {
      waits.push(info.reason);
      return Promise.resolve();
    },
    recordPlan: (_c, plan) => {
      plans.push(plan);
      return Promise.resolve({ outcome: 'new', gen: 1, done: new Set<number>(), completed: false });
    },
  });
  return {
    cfg: testConfig({ TRANSFER_CHUNK_FILES: '10' }),
    origin: memoryOrigin(bodies),
    ledger,
    queue: recordingQueue(),
    events: createPipelineEvents(),
    log: quietLog(),
  };
}

describe('a DASH class through the crawler and the transfer', () => {
  it('plans the files of a static .mpd, through the BaseURL on an allowed host', async () => {
    const plans: PlanInput[] = [];
    const deps = crawlDeps({ [url('/c1/manifest.mpd')]: MPD('static') }, plans, []);
    const res = await runCrawl(crawlJob('/c1/manifest.mpd'), deps);
    expect(res).toMatchObject({ outcome: 'planned', files: 4 });
    const files = deps.queue.sent.flatMap((s) => (s.body as TransferJob).files);
    expect(files.map((f) => f.key).sort()).toEqual([
      `c1/${HOST}/c1/manifest.mpd`,
      `c1/${HOST}/c1/media/init.mp4`,
      `c1/${HOST}/c1/media/v1.m4s`,
      `c1/${HOST}/c1/media/v2.m4s`,
    ]);
    expect(files.find((f) => f.kind === 'playlist')).toMatchObject({
      sha256: expect.any(String),
      refs: expect.any(String),
    });
  });

  it('a dynamic .mpd waits like a growing playlist, then is copied as it stands with a warning', async () => {
    const waits: string[] = [];
    const early = crawlDeps({ [url('/c1/manifest.mpd')]: MPD('dynamic') }, [], waits);
    expect(await runCrawl(crawlJob('/c1/manifest.mpd', { endedAt: new Date().toISOString() }), early)).toMatchObject({
      outcome: 'waiting',
    });
    expect(waits[0]).toMatch(/DASH manifest\(s\) are dynamic \(e\.g\. http:\/\/.*manifest\.mpd\)/);

    const plans: PlanInput[] = [];
    const late = crawlDeps({ [url('/c1/manifest.mpd')]: MPD('dynamic') }, plans, []);
    const ended = new Date(Date.now() - 24 * 3600_000).toISOString();
    expect(await runCrawl(crawlJob('/c1/manifest.mpd', { endedAt: ended }), late)).toMatchObject({
      outcome: 'planned',
    });
    expect(plans[0]!.warnings).toEqual([expect.stringMatching(/^copied as it stood .* dynamic/)]);
  });

  it('the transfer copies a manifest read again with another token, and re-plans one naming other files', async () => {
    const plans: PlanInput[] = [];
    const crawl = crawlDeps({ [url('/c1/manifest.mpd')]: MPD('static') }, plans, []);
    await runCrawl(crawlJob('/c1/manifest.mpd'), crawl);
    const job = crawl.queue.sent.map((s) => s.body as TransferJob)[0]!;
    const manifestOnly: TransferJob = { ...job, files: job.files.filter((f) => f.kind === 'playlist') };

    const transfer = (body: string) => {
      const deps = {
        cfg: testConfig(),
        origin: memoryOrigin({ [url('/c1/manifest.mpd')]: body }),
        store: memoryStore(),
        ledger: fakeLedger({
          viewChunk: () =>
            Promise.resolve({ record: classRecord({ gen: job.gen, planId: job.planId }), chunkDone: false }),
          countChunk: () => Promise.resolve({ outcome: 'counted' as const, completed: false }),
        }),
        queue: recordingQueue(),
        events: createPipelineEvents(),
        log: quietLog(),
      };
      return { deps, run: runTransfer(manifestOnly, { receiveCount: 1 }, deps) };
    };
    const same = transfer(MPD('static', 'b'));
    expect(await same.run).toMatchObject({ outcome: 'counted' });
    expect(same.deps.store.objects.size).toBe(1);

    const more = transfer(
      MPD(
        'static',
        'a',
        '<AdaptationSet mimeType="audio/mp4"><SegmentTemplate media="a$Number$.m4s" duration="8"/><Representation id="a" bandwidth="1"/></AdaptationSet>',
      ),
    );
    expect(await more.run).toMatchObject({ outcome: 'replanned' });
    expect(more.deps.store.objects.size).toBe(0);
  });
});
