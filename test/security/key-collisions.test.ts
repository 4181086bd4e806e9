// Gap 2 (issue 10): two different source URLs never share a destination key. Real crawls and
// transfers (local S3, DynamoDB) of classes whose URLs used to map to one key: the same path on two
// hosts, the same path with two queries, a master-host path that spells another host's `_hosts/`
// key. Each class's objects hold its own bytes; a collision inside one class fails it, naming both.
import { createPipelineEvents } from '../../src/pipeline/events.ts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.ts';
import { MESSAGE_VERSION, type CrawlJob, type TransferJob } from '../../src/domain/jobs/schemas.ts';
import { createOrigin } from '../../src/adapters/origin/client.ts';
import type { Origin } from '../../src/domain/ports/origin.ts';
import { crawlOrFailFast, recordCrawlFailure, runCrawl } from '../../src/pipeline/crawler.ts';
import { DeadLetterError } from '../../src/errors.ts';
import { runTransfer } from '../../src/pipeline/transfer.ts';
import { createLedger } from '../../src/adapters/dynamodb/ledger.ts';
import type { Ledger } from '../../src/domain/ports/ledger.ts';
import { createObjectStore } from '../../src/adapters/s3/objects.ts';
import type { ObjectStore } from '../../src/domain/ports/object-store.ts';
import { createJobQueue } from '../../src/adapters/sqs/queue.ts';
import type { JobQueue } from '../../src/domain/ports/job-queue.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { collectingTransfers } from '../helpers/pipeline-env.ts';

let t: TestStack;
let a: { server: Server; base: string; host: string };
let b: { server: Server; base: string; host: string };
let cfg: Config;
let origin: Origin;
let store: ObjectStore;
let ledger: Ledger;
let queue: JobQueue;
const sent: TransferJob[] = [];

/** An origin whose every answer names the host and the full request URL, so each copy proves where it came from. */
async function startHost(name: string): Promise<{ server: Server; base: string; host: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.search;
    const playlist = (body: string) =>
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(`#EXTM3U\n${body}`);
    switch (url.pathname) {
      case '/live/master.m3u8':
        return playlist('#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n');
      case '/live/v.m3u8':
        return playlist('#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nseg-1.ts\n#EXT-X-ENDLIST\n');
      // A dynamic manifest server: the class is in the query, and so is everything it references.
      case '/play/master.m3u8':
        return playlist(`#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8${q}\n`);
      case '/play/v.m3u8':
        return playlist(`#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nseg.ts${q}\n#EXT-X-ENDLIST\n`);
      case '/hosts/master.m3u8':
        return playlist(
          `#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n/_hosts/${b.host}/k/seg.ts\n#EXTINF:4,\n${b.base}/k/seg.ts\n#EXT-X-ENDLIST\n`,
        );
      case '/alias/master.m3u8':
        return playlist('#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na%2Fb.ts\n#EXTINF:4,\na/b.ts\n#EXT-X-ENDLIST\n');
      default:
        return void res.writeHead(200, { 'content-type': 'video/mp2t' }).end(`${name} ${req.url}`);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, base: `http://${host}`, host };
}

beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'] });
  b = await startHost('host-b');
  a = await startHost('host-a');
  cfg = loadConfig({
    ...process.env,
    ...t.env,
    ORIGIN_ALLOWED_HOSTS: `${a.host},${b.host}`,
    DEST_PREFIX: 'media/hls/',
  });
  origin = createOrigin({ allowedHosts: cfg.originAllowedHosts });
  store = createObjectStore(t.aws.s3, cfg.destBucket, { partSizeBytes: cfg.transfer.partSizeBytes });
  ledger = createLedger(t.aws.ddb, cfg.tableName);
  // The crawl's transfer jobs are run right here, in order, instead of through SQS.
  queue = collectingTransfers(createJobQueue(t.aws.sqs, cfg), sent);
});
afterAll(async () => {
  await origin?.close();
  a?.server.close();
  b?.server.close();
  await t?.stop();
});

const crawlJob = (classId: string, manifestUrl: string): CrawlJob => ({
  v: MESSAGE_VERSION,
  type: 'crawl',
  classId,
  manifestUrl,
  title: classId,
});

/** The crawler on this file's stack and two hosts, its transfer jobs collected in `sent`: what every crawl here runs with. */
const crawlerDeps = () => ({ cfg, origin, ledger, queue, events: createPipelineEvents(), log: t.log });

/** Crawls and copies one class completely; returns its objects (key → body). */
async function copyClass(classId: string, manifestUrl: string): Promise<void> {
  sent.length = 0;
  await runCrawl(crawlJob(classId, manifestUrl), crawlerDeps());
  for (const job of sent.splice(0)) {
    const r = await runTransfer(
      job,
      { receiveCount: 1 },
      { cfg, origin, store, ledger, queue, events: createPipelineEvents(), log: t.log },
    );
    expect(r.outcome).toBe('counted');
  }
  expect((await ledger.getClass(classId))?.status).toBe('COMPLETE');
}

async function objects(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const o of store.list('')) {
    const chunks: Buffer[] = [];
    for await (const c of await store.get(o.key)) chunks.push(c as Buffer);
    out.set(o.key, Buffer.concat(chunks).toString('utf8'));
  }
  return out;
}

describe('two classes whose URLs map to the same path', () => {
  it('on different hosts: each keeps its own objects', async () => {
    await copyClass('class-a', `${a.base}/live/master.m3u8`);
    await copyClass('class-b', `${b.base}/live/master.m3u8`);
    const all = await objects();
    expect(all.get(`media/hls/class-a/${a.host}/live/seg-1.ts`)).toBe('host-a /live/seg-1.ts');
    expect(all.get(`media/hls/class-b/${b.host}/live/seg-1.ts`)).toBe('host-b /live/seg-1.ts');
    expect(
      all.has(`media/hls/class-a/${a.host}/live/master.m3u8`) &&
        all.has(`media/hls/class-b/${b.host}/live/master.m3u8`),
    ).toBe(true);
  });

  it('with different queries: each keeps its own objects', async () => {
    await copyClass('class-q1', `${a.base}/play/master.m3u8?class=1`);
    await copyClass('class-q2', `${a.base}/play/master.m3u8?class=2`);
    const all = await objects();
    expect(all.get(`media/hls/class-q1/${a.host}/play/seg.ts`)).toBe('host-a /play/seg.ts?class=1');
    expect(all.get(`media/hls/class-q2/${a.host}/play/seg.ts`)).toBe('host-a /play/seg.ts?class=2');
    expect(all.get(`media/hls/class-q1/${a.host}/play/v.m3u8`)).toContain('seg.ts?class=1');
    expect(all.get(`media/hls/class-q2/${a.host}/play/v.m3u8`)).toContain('seg.ts?class=2');
  });

  it('no object is shared between classes, and nothing is written outside DEST_PREFIX', async () => {
    const owners = new Map<string, string>();
    for (const key of (await objects()).keys()) {
      expect(key.startsWith('media/hls/')).toBe(true);
      owners.set(key, key.split('/')[2]!);
    }
    expect(new Set(owners.values())).toEqual(new Set(['class-a', 'class-b', 'class-q1', 'class-q2']));
  });
});

describe('within one class', () => {
  it("a master-host path spelling another host's directory and that host's own file are two objects", async () => {
    await copyClass('class-hosts', `${a.base}/hosts/master.m3u8`);
    const all = await objects();
    expect(all.get(`media/hls/class-hosts/${a.host}/_hosts/${b.host}/k/seg.ts`)).toBe(
      `host-a /_hosts/${b.host}/k/seg.ts`,
    );
    expect(all.get(`media/hls/class-hosts/${b.host}/k/seg.ts`)).toBe('host-b /k/seg.ts');
  });

  it('two different URLs that would share a key fail the class, naming both, and write nothing', async () => {
    const before = new Set((await objects()).keys());
    const job = crawlJob('class-alias', `${a.base}/alias/master.m3u8`);
    const err = await crawlOrFailFast(job, crawlerDeps()).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(DeadLetterError);
    // What processBatch does with a dead-letter error: the failure is recorded on the class.
    await recordCrawlFailure(job, err, true, ledger);
    const record = await ledger.getClass('class-alias');
    expect(record?.status).toBe('FAILED');
    expect(record?.lastError).toContain('KEY_COLLISION');
    expect(record?.lastError).toContain(`${a.base}/alias/a%2Fb.ts`);
    expect(record?.lastError).toContain(`${a.base}/alias/a/b.ts`);
    expect(sent).toEqual([]);
    expect(new Set((await objects()).keys())).toEqual(before);
  });
});
