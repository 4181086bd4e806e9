// The dashboard Lambda handler (HTTP API payload v2) and the local loopback server, against the
// real local SQS and DynamoDB servers with resources created from serverless.yml.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../handlers/dashboard.ts';
import { createLogger } from '../../src/log.ts';
import { createDashboardServer, type DashboardServer, type DashboardSnapshot } from '../../src/dashboard/index.ts';
import { createLedger } from '../../src/adapters/dynamodb/ledger.ts';
import type { Ledger } from '../../src/domain/ports/ledger.ts';
import { createJobQueue } from '../../src/adapters/sqs/queue.ts';
import type { JobQueue } from '../../src/domain/ports/job-queue.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let t: TestStack;
let ledger: Ledger;
let queue: JobQueue;

beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'] });
  ledger = createLedger(t.aws.ddb, t.cfg.tableName);
  queue = createJobQueue(t.aws.sqs, t.cfg);
  const info = { manifestUrl: 'http://origin.test/m.m3u8', title: 'Lecture <1>' };
  await ledger.markPending('a-pending', info);
  await ledger.markCrawling('b-moving', info);
  const moving = await ledger.recordPlan('b-moving', { planId: 'p1', totalFiles: 5, totalChunks: 2 });
  await ledger.countChunk('b-moving', moving.gen, 0, [{ key: 'k/0.ts', bytes: 2048, etag: 'e' }]);
  await ledger.failCrawl('c-broken', 'crawl failed: origin answered HTTP 403 <forbidden>');
  await ledger.markCrawling('d-missing', info);
  const missing = await ledger.recordPlan('d-missing', { planId: 'p2', totalFiles: 4, totalChunks: 2 });
  await ledger.recordChunkFailure('d-missing', missing.gen, 1, [
    {
      key: 'k/3.ts',
      src: 'http://origin.test/k/3.ts?token=secret',
      reason: 'origin answered HTTP 404 for http://origin.test/k/3.ts',
    },
  ]);
  await queue.sendAll('transfer', [{ n: 1 }, { n: 2 }]);
  await queue.sendRaw('crawl-dlq', '{"bad":true}', { 'flants-error': 'poison' });
});
afterAll(async () => t?.stop());

// What the Lambda builds from its environment, built here from the test stack's.
const handler = (e: APIGatewayProxyEventV2) =>
  createHandler({ stage: t.cfg.stage, ledger, queue, log: createLogger({}, 'silent') })(e);

function event(path: string, query = '', accept = 'text/html'): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `GET ${path}`,
    rawPath: path,
    rawQueryString: query,
    headers: { accept },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'api',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r',
      routeKey: `GET ${path}`,
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
    isBase64Encoded: false,
  };
}

describe('dashboard Lambda handler (payload v2)', () => {
  it('returns the ledger and queue depths as JSON', async () => {
    const res = await handler(event('/status.json'));
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toBe('application/json; charset=utf-8');
    const s = JSON.parse(String(res.body)) as DashboardSnapshot;
    expect(s.stage).toBe(t.cfg.stage);
    expect(s.counts).toMatchObject({ PENDING: 1, TRANSFERRING: 1, FAILED: 2 });
    expect(s.classes.map((c) => c.classId)).toEqual(['d-missing', 'c-broken', 'b-moving', 'a-pending']);
    expect(s.classes[2]).toMatchObject({
      doneFiles: 1,
      totalFiles: 5,
      doneBytes: 2048,
      bits: { unit: 'chunk', total: 2, done: '8', failed: '0' },
    });
    expect(s.classes[0]).toMatchObject({ failedFiles: 1, bits: { unit: 'chunk', total: 2, done: '0', failed: '4' } });
    expect(s.queues.find((q) => q.name === 'transfer')).toMatchObject({ visible: 2, error: null });
    expect(s.queues.find((q) => q.name === 'crawl-dlq')).toMatchObject({ visible: 1 });
  });

  it('returns escaped HTML at /', async () => {
    const res = await handler(event('/'));
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('Lecture &#60;1&#62;');
    expect(res.body).toContain('HTTP 403 &#60;forbidden&#62;');
    expect(res.body).not.toMatch(/<forbidden>|<1>/);
  });

  it('answers 404 for other paths', async () => {
    expect((await handler(event('/admin'))).statusCode).toBe(404);
  });
});

describe('createDashboardServer', () => {
  let server: DashboardServer;
  let url: string;
  beforeAll(async () => {
    server = createDashboardServer({ stage: t.cfg.stage, ledger, queue });
    url = await server.listen();
  });
  afterAll(async () => server?.close());

  it('listens on loopback only', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves the same pages', async () => {
    const html = await fetch(url);
    expect(html.status).toBe(200);
    expect(await html.text()).toContain(`<title>FLAnts ${t.cfg.stage}</title>`);
    const json = (await (await fetch(`${url}status.json?status=FAILED`)).json()) as DashboardSnapshot;
    expect(json.classes.map((c) => c.classId)).toEqual(['d-missing', 'c-broken']);
    expect((await fetch(`${url}nope`)).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
  });
});

describe('polling and failures', () => {
  let server: DashboardServer;
  let url: string;
  beforeAll(async () => {
    server = createDashboardServer({ stage: t.cfg.stage, ledger, queue });
    url = await server.listen();
  });
  afterAll(async () => server?.close());

  it('answers 304 to a matching If-None-Match until the ledger changes', async () => {
    const first = await fetch(`${url}status.json?limit=5000`);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^W\/".+"$/);
    const again = await fetch(`${url}status.json?limit=5000`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    // A change on a class the page does not even list still changes the tag.
    const moving = await ledger.getClass('b-moving');
    await ledger.countChunk('b-moving', moving!.gen!, 1, [{ key: 'k/1.ts', bytes: 10, etag: 'e' }]);
    const changed = await fetch(`${url}status.json?limit=1&status=PENDING`, { headers: { 'if-none-match': etag! } });
    expect(changed.status).toBe(200);
    const later = await fetch(`${url}status.json?limit=5000`, { headers: { 'if-none-match': etag! } });
    expect(later.status).toBe(200);
    expect(later.headers.get('etag')).not.toBe(etag);
    expect(((await later.json()) as DashboardSnapshot).classes.find((c) => c.classId === 'b-moving')!.bits).toEqual({
      unit: 'chunk',
      total: 2,
      done: 'c',
      failed: '0',
    });
  });

  it("lists a class's failed files by key with their reasons, never their sources", async () => {
    const res = await fetch(`${url}status.json?class=d-missing`);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({
      classId: 'd-missing',
      failures: [
        {
          chunk: 1,
          at: expect.any(String),
          provisional: false,
          notListed: 0,
          files: [{ key: 'k/3.ts', reason: 'origin answered HTTP 404 for http://origin.test/k/3.ts' }],
        },
      ],
      more: false,
    });
    expect(body).not.toContain('token=secret');
    expect(JSON.parse(await (await fetch(`${url}status.json?class=a-pending`)).text())).toEqual({
      classId: 'a-pending',
      failures: [],
      more: false,
    });
    expect((await fetch(`${url}status.json?class=${encodeURIComponent('a\nb')}`)).status).toBe(400);
    expect((await fetch(`${url}status.json?class=${'x'.repeat(513)}`)).status).toBe(400);
  });
});
