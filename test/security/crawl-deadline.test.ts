// Gap 4 (issue 10): the crawler has a deadline from the Lambda's remaining time, and a budget of
// playlist bytes per class. A trickling origin (a byte now and then, so bodyTimeout never fires)
// used to run the crawler past its timeout and leave the class CRAWLING; now the handler stops in
// time, reports the message failed, and on its last delivery the class is FAILED with the reason.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crawlDeadlineMs, createHandler } from '../../handlers/crawler.ts';
import { planClass } from '../../src/hls/enumerate.ts';
import { MESSAGE_VERSION } from '../../src/domain/jobs/schemas.ts';
import { buildDeps, type Deps } from '../../src/wiring/deps.ts';
import type { SqsHandler } from '../../src/wiring/lambda.ts';
import { LIMITS, memoryFetcher, rejection } from '../hls/helpers.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let t: TestStack;
let server: Server;
let host: string;
const sockets = new Set<Socket>();
const timers = new Set<NodeJS.Timeout>();

beforeAll(async () => {
  server = createServer((req, res: ServerResponse) => {
    // Never silent, never done: one comment line every 100 ms.
    res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
    res.write('#EXTM3U\n');
    const timer = setInterval(() => res.write('#\n'), 100);
    timers.add(timer);
    res.on('close', () => clearInterval(timer));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'], env: { ORIGIN_ALLOWED_HOSTS: host } });
  deps = buildDeps(t.cfg, t.log);
  handler = createHandler(deps);
});
afterAll(async () => {
  for (const timer of timers) clearInterval(timer);
  for (const s of sockets) s.destroy();
  server?.close();
  await deps?.close();
  await t?.stop();
});

const event = (classId: string, receiveCount: number) =>
  ({
    Records: [
      {
        messageId: `m-${classId}`,
        body: JSON.stringify({
          v: MESSAGE_VERSION,
          type: 'crawl',
          classId,
          manifestUrl: `http://${host}/trickle/master.m3u8`,
          title: classId,
        }),
        attributes: { ApproximateReceiveCount: String(receiveCount) },
      },
    ],
  }) as unknown as Parameters<SqsHandler>[0];

let deps: Deps;
let handler: SqsHandler;

describe('the crawl deadline', () => {
  it('keeps 30 s, or a quarter of the invocation if more, for the plan, the jobs and the failure report', () => {
    expect(crawlDeadlineMs(300_000)).toBe(270_000 - 45_000);
    expect(crawlDeadlineMs(60_000)).toBe(30_000);
    expect(crawlDeadlineMs(2_500)).toBe(1_000);
  });

  it('stops a trickling origin in time: the message fails back to SQS, the class is not left to the Lambda timeout', async () => {
    const started = Date.now();
    const res = await handler(event('trickle-early', 1), { getRemainingTimeInMillis: () => 2_500 });
    expect(Date.now() - started).toBeLessThan(2_400);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-trickle-early' }]);
    // Not the last delivery: SQS brings it back; the class is still being crawled.
    expect((await deps.ledger.getClass('trickle-early'))?.status).toBe('CRAWLING');
  });

  it('on the last delivery, the class is FAILED with the reason', async () => {
    const res = await handler(event('trickle-final', 3), { getRemainingTimeInMillis: () => 2_500 });
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-trickle-final' }]);
    const record = await deps.ledger.getClass('trickle-final');
    expect(record?.status).toBe('FAILED');
    expect(record?.lastError).toMatch(
      /CRAWL_DEADLINE: crawl of http:\/\/127\.0\.0\.1:\d+\/trickle\/master\.m3u8 stopped before it finished: deadline reached, 1 s into an invocation with 3 s to run/,
    );
  });
});

describe('the crawl byte budget', () => {
  it('refuses a class whose playlists add up to more than HLS_MAX_CRAWL_BYTES, naming the cap', async () => {
    const H = 'https://cdn.example.com';
    const media = `#EXTM3U\n#EXT-X-TARGETDURATION:4\n${'#EXTINF:4,\nseg.ts\n'.repeat(40)}#EXT-X-ENDLIST\n`;
    const f = memoryFetcher({
      [`${H}/m.m3u8`]:
        '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\nb.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=3\nc.m3u8\n',
      [`${H}/a.m3u8`]: media,
      [`${H}/b.m3u8`]: media,
      [`${H}/c.m3u8`]: media,
    });
    const opts = { destPrefix: '', allowedHosts: ['cdn.example.com'] };
    expect(
      await planClass(`${H}/m.m3u8`, f, { ...opts, limits: { ...LIMITS, maxCrawlBytes: 4 * media.length } }),
    ).toHaveLength(5);
    const err = await rejection(
      planClass(`${H}/m.m3u8`, f, { ...opts, limits: { ...LIMITS, maxCrawlBytes: 2 * media.length } }),
    );
    expect(err).toMatchObject({ code: 'CRAWL_TOO_LARGE', retryable: false });
    expect(err.message).toMatch(/more than \d+ bytes of playlists \(HLS_MAX_CRAWL_BYTES\)/);
  });
});
