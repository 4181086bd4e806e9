// Gap 5 (issue 10): every role holds exactly what its function's code calls. Each function's
// handler runs here against the local stack through its own recording SDK clients, over the paths
// that reach every call it can make (success, redelivery, redrive, final failure, poison message,
// heartbeat, multipart abort, the generation guard's HEAD); the calls are mapped to IAM actions and
// compared, both ways, with the role in serverless.yml.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createHandler as crawlerFor } from '../../handlers/crawler.ts';
import { createHandler as scannerFor } from '../../handlers/scanner.ts';
import { createHandler as transferFor } from '../../handlers/transfer.ts';
import { createHandler as verifyFor } from '../../handlers/verify.ts';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { classRoot } from '../../src/hls/keys.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { QUEUE_ROLES } from '../../src/domain/vocabulary.ts';
import { handleDashboardRequest } from '../../src/dashboard/http.ts';
import { MESSAGE_VERSION, type TransferJob } from '../../src/domain/jobs/schemas.ts';
import { buildDeps, type Deps } from '../../src/wiring/deps.ts';
import { copyFile } from '../../src/pipeline/copy-file.ts';
import { createAwsClients } from '../../src/wiring/aws-clients.ts';
import { createLedger } from '../../src/adapters/dynamodb/ledger.ts';
import { createJobQueue } from '../../src/adapters/sqs/queue.ts';
import type { QueueName } from '../../src/domain/ports/job-queue.ts';
import { createCloudWatchQueueAges } from '../../src/adapters/cloudwatch/queue-age-cloudwatch.ts';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { startCloudWatchServer } from '../helpers/cloudwatch-server.ts';
import { startS3FaultProxy, type S3FaultProxy } from '../../lab/s3-fault-proxy.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { pairs, permissionsOfCalls, recordCalls, type RecordedCall, type ResourceNames } from './calls.ts';
import type { Template } from './cfn.ts';
import { permissionsOfRole } from './iam.ts';

const ROOT = join(import.meta.dirname, '../..');
const MiB = 1024 * 1024;
let t: TestStack;
let cfg: Config;
let origin: Server;
let base: string;
let names: ResourceNames;
let queueUrl: (n: QueueName) => Promise<string>;
const calls: Record<'scanner' | 'crawler' | 'transfer' | 'verify' | 'dashboard', RecordedCall[]> = {
  scanner: [],
  crawler: [],
  transfer: [],
  verify: [],
  dashboard: [],
};
const built: Deps[] = [];

/** Per function, the proxy in front of S3 that records what reached it (SDK calls and the transfer's own PutObjects). */
const s3Proxies = new Map<keyof typeof calls, S3FaultProxy>();

/** The deps one function's Lambda would build, with its SDK calls and S3 requests recorded (closed after the file). */
function depsFor(fn: keyof typeof calls): Deps {
  const s3 = s3Proxies.get(fn)!.url;
  const d = buildDeps({ ...cfg, aws: { ...cfg.aws, endpoints: { ...cfg.aws.endpoints, s3 } } }, t.log);
  recordCalls(d.aws, calls[fn], { s3: false });
  built.push(d);
  return d;
}

beforeAll(async () => {
  origin = createServer((req, res) => {
    const url = req.url ?? '/';
    const later = (ms: number, f: () => void) => void setTimeout(f, ms);
    if (url === '/c/master.m3u8')
      return later(1_300, () => res.writeHead(200).end('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n'));
    if (url === '/c/v.m3u8')
      return void res
        .writeHead(200)
        .end('#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nseg-1.ts\n#EXTINF:4,\nseg-2.ts\n#EXT-X-ENDLIST\n');
    if (url === '/c/seg-1.ts') return later(1_300, () => res.writeHead(200, { 'content-length': '3' }).end('one'));
    if (url === '/c/seg-2.ts') return void res.writeHead(200, { 'content-length': '3' }).end('two');
    // Still growing (no EXT-X-ENDLIST): a class that ended just now waits and is crawled again later.
    if (url === '/grow/master.m3u8')
      return void res.writeHead(200).end('#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nseg-1.ts\n');
    if (url === '/big.mp4') {
      // Promises 11 MiB, sends 7 and stops: the multipart upload has a part in S3 and must be aborted.
      res.writeHead(200, { 'content-length': String(11 * MiB) });
      // Stop once the 7 MiB left the process, and then some: with less than a part received no multipart
      // upload starts (nothing to abort), and a loaded machine needs the time for the part to reach S3.
      res.write(Buffer.alloc(7 * MiB, 1), () => later(2_000, () => res.socket?.destroy()));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  t = await startTestStack({
    visibilityTimeout: 3,
    env: {
      ORIGIN_ALLOWED_HOSTS: new URL(base).host,
      TRANSFER_PART_SIZE_MB: '5',
      TRANSFER_RETRY_ATTEMPTS: '1',
      SCAN_PAGE_SIZE: '1',
    },
  });
  // Lambda gets every queue URL from serverless.yml's environment; it never looks one up.
  const plain = createJobQueue(t.aws.sqs, t.cfg);
  queueUrl = (n) => plain.url(n);
  const urls: Record<string, string> = {};
  for (const r of QUEUE_ROLES) {
    urls[`FLANTS_${r.toUpperCase()}_QUEUE_URL`] = await plain.url(r);
    urls[`FLANTS_${r.toUpperCase()}_DLQ_URL`] = await plain.url(`${r}-dlq`);
    urls[`FLANTS_${r.toUpperCase()}_FRESH_QUEUE_URL`] = await plain.url(`${r}-fresh`);
    urls[`FLANTS_${r.toUpperCase()}_FRESH_DLQ_URL`] = await plain.url(`${r}-fresh-dlq`);
  }
  cfg = loadConfig({ ...process.env, ...t.env, ...urls });
  for (const fn of ['scanner', 'crawler', 'transfer', 'verify'] as const) {
    const proxy = await startS3FaultProxy(
      t.stack.endpoints.s3!,
      {},
      {
        onRequest: (op) =>
          void calls[fn].push({ service: 's3', command: op.operation, input: { Bucket: op.bucket, Key: op.key } }),
      },
    );
    s3Proxies.set(fn, proxy);
  }
  const logical: Record<string, string> = { scan: 'ScanQueue', crawl: 'CrawlQueue', transfer: 'TransferQueue' };
  names = {
    queues: Object.fromEntries(
      QUEUE_ROLES.flatMap((r) => [
        [cfg.queueNames[r].queue, logical[r]!],
        [cfg.queueNames[r].dlq, logical[r]!.replace('Queue', 'DeadLetterQueue')],
        [cfg.freshQueueNames[r].queue, logical[r]!.replace('Queue', 'FreshQueue')],
        [cfg.freshQueueNames[r].dlq, logical[r]!.replace('Queue', 'FreshDeadLetterQueue')],
      ]),
    ),
    table: 'LedgerTable',
    bucket: '${param:bucketName}/${param:destPrefix}',
  };
  const mongo = await new MongoClient(t.env.MONGODB_URI!).connect();
  const at = new Date('2026-01-01T10:00:00Z');
  await mongo
    .db()
    .collection('classes')
    .insertMany([
      {
        _id: new ObjectId(),
        title: 'one',
        manifestUrl: `${base}/c/master.m3u8`,
        status: 'broadcast',
        isTest: false,
        startedAt: at,
        endedAt: at,
      },
      {
        _id: new ObjectId(),
        title: 'two',
        manifestUrl: `${base}/c/master.m3u8`,
        status: 'broadcast',
        isTest: false,
        startedAt: at,
        endedAt: at,
      },
    ]);
  await mongo.close();
}, 120_000);
afterAll(async () => {
  for (const d of built) await d.close().catch(() => undefined);
  for (const p of s3Proxies.values()) await p.close();
  origin?.close();
  await t?.stop();
});

/** Sends bodies to a queue and receives them back as one Lambda event (what the event source mapping does). */
async function deliver(role: QueueName, bodies: string[], receiveCount?: number): Promise<SQSEvent> {
  const url = await queueUrl(role);
  for (const b of bodies) await t.aws.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: b }));
  return received(role, bodies.length, receiveCount);
}

async function received(role: QueueName, count: number, receiveCount?: number): Promise<SQSEvent> {
  const url = await queueUrl(role);
  const records: SQSEvent['Records'] = [];
  while (records.length < count) {
    const r = await t.aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    for (const m of r.Messages ?? []) {
      records.push({
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body!,
        attributes: { ApproximateReceiveCount: String(receiveCount ?? m.Attributes?.ApproximateReceiveCount ?? 1) },
      } as SQSEvent['Records'][number]);
    }
  }
  return { Records: records };
}

/** Deletes what a handler did not report as failed, as the event source mapping does. */
async function settle(
  role: QueueName,
  event: SQSEvent,
  res: { batchItemFailures: Array<{ itemIdentifier: string }> },
): Promise<void> {
  const failed = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
  for (const r of event.Records)
    if (!failed.has(r.messageId))
      await t.aws.sqs.send(
        new DeleteMessageCommand({ QueueUrl: await queueUrl(role), ReceiptHandle: r.receiptHandle }),
      );
}

const context = { getRemainingTimeInMillis: () => 60_000 };

/**
 * The fresh lane's side of a role (issue 25): the same calls as the bulk lane's, on the stage's fresh
 * queue, its DLQ and the next stage's fresh queue. processBatch picks the queue from the record's event
 * source (test/pipeline/batch.test.ts, "keeps a message in the lane it came from"); the scanner's fresh
 * crawl jobs are exercised below, the rest is the bulk lane's code with the other queue's name.
 */
const freshLane = (stage: 'Scan' | 'Crawl' | 'Transfer', sends: string[]) => [
  ...esm(`${stage}FreshQueue`),
  `${stage}FreshQueue.Arn sqs:ChangeMessageVisibility`,
  `${stage}FreshDeadLetterQueue.Arn sqs:SendMessage`,
  ...sends.map((q) => `${q}.Arn sqs:SendMessage`),
];

/** The role's permissions in serverless.yml, without its log statements (the runtime's) and without conditional ones. */
function granted(roleId: string): Record<string, string> {
  const yml = parseYaml(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as {
    resources: { Resources: Template['Resources'] };
  };
  const perms = permissionsOfRole({ Resources: yml.resources.Resources }, roleId);
  return Object.fromEntries(Object.entries(perms).filter(([r]) => !r.endsWith('LogGroup.Arn') && !r.startsWith('if ')));
}

/** What Lambda's event source mapping calls with the function's role on its source queue: not the code's calls. */
const esm = (queue: string) => [
  `${queue}.Arn sqs:DeleteMessage`,
  `${queue}.Arn sqs:GetQueueAttributes`,
  `${queue}.Arn sqs:ReceiveMessage`,
];

function expectExactly(fn: keyof typeof calls, roleId: string, notExercisedHere: string[]): void {
  const needed = pairs(permissionsOfCalls(calls[fn], names));
  const has = pairs(granted(roleId));
  // Every call the code made is allowed...
  expect(
    needed.filter((p) => !has.includes(p)),
    `${fn} calls without a permission`,
  ).toEqual([]);
  // ...and everything allowed is called (or used by Lambda itself, or needs AWS to reach).
  expect(
    has.filter((p) => !needed.includes(p) && !notExercisedHere.includes(p)),
    `${fn} permissions no call needs`,
  ).toEqual([]);
}

describe('each role holds exactly what its code calls', () => {
  it('scanner: pages the catalog, records PENDING, sends crawl jobs and the next page, walks COMPLETE classes for a change check; poison to its DLQ', async () => {
    const scannerHandler = scannerFor(depsFor('scanner'));
    const scan = await deliver('scan', [
      JSON.stringify({ v: MESSAGE_VERSION, type: 'scan', mode: 'catalog' }),
      '{"not":"a scan"}',
    ]);
    const first = await scannerHandler(scan);
    // Delivered again after it finished: the page's claim says so, and nothing is sent twice.
    await scannerHandler({ Records: scan.Records.filter((r) => r.body.includes('"catalog"')) });
    await settle('scan', scan, first);
    // Its own next page, as Lambda would deliver it.
    const next = await received('scan', 1);
    await settle('scan', next, await scannerHandler(next));
    // A change check of every COMPLETE class walks the class index (none is COMPLETE yet: it sends no crawl job).
    const recheck = await deliver('scan', [JSON.stringify({ v: MESSAGE_VERSION, type: 'scan', mode: 'recheck' })]);
    await settle('scan', recheck, await scannerHandler(recheck));
    expectExactly('scanner', 'ScannerRole', [
      ...esm('ScanQueue'),
      // Read once per cold start on AWS (MONGODB_URI_SSM_PARAM); the local stack has no SSM.
      'sub:arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${param:mongoUriParameter} ssm:GetParameter',
      // The retry backoff of a page that failed (processBatch, shared by every function; test/pipeline/batch.test.ts).
      'ScanQueue.Arn sqs:ChangeMessageVisibility',
      ...freshLane('Scan', ['ScanFreshQueue', 'CrawlFreshQueue']),
    ]);
  });

  it('crawler: plans a class (with a heartbeat), plans it again, fails a class at once, moves a poison message to its DLQ', async () => {
    const crawlerHandler = crawlerFor(depsFor('crawler'));
    const crawls = await received('crawl', 2);
    await settle('crawl', crawls, await crawlerHandler(crawls, context));
    const again = await deliver('crawl', [crawls.Records[0]!.body]);
    await settle('crawl', again, await crawlerHandler(again, context));
    const job = (id: string, path: string) =>
      JSON.stringify({ v: MESSAGE_VERSION, type: 'crawl', classId: id, manifestUrl: `${base}${path}` });
    const broken = await deliver('crawl', [job('broken', '/missing/master.m3u8')]);
    await settle('crawl', broken, await crawlerHandler(broken, context));
    const growing = await deliver('crawl', [
      JSON.stringify({
        v: MESSAGE_VERSION,
        type: 'crawl',
        classId: 'growing',
        manifestUrl: `${base}/grow/master.m3u8`,
        endedAt: new Date().toISOString(),
      }),
    ]);
    await settle('crawl', growing, await crawlerHandler(growing, context));
    const last = await deliver('crawl', [
      job('unknown-shape', '/c/master.m3u8').replace('"crawl"', '"crawl","force":"yes"'),
    ]);
    await settle('crawl', last, await crawlerHandler(last, context));
    expectExactly('crawler', 'CrawlerRole', [
      ...esm('CrawlQueue'),
      ...freshLane('Crawl', ['CrawlFreshQueue', 'TransferFreshQueue']),
    ]);
  });

  it('transfer: copies chunks (with a heartbeat), records a final failure, resolves it on redrive, aborts a broken multipart upload, guards generations', async () => {
    const d = depsFor('transfer');
    const transferHandler = transferFor(d);
    const jobs = await received('transfer', 2);
    await settle('transfer', jobs, await transferHandler(jobs, context));
    const first = JSON.parse(jobs.Records[0]!.body) as TransferJob;
    // Test setup, not the transfer's own call: through a client that is not recorded. A forced plan of 8 chunks (a new generation) keeps the class open.
    const planId = 'fedcba9876543210';
    const { gen } = await createLedger(t.aws.ddb, cfg.tableName).recordPlan(first.classId, {
      planId,
      totalFiles: 5,
      totalChunks: 8,
      forcedAt: new Date().toISOString(),
    });
    // The jobs of that plan carry its id: a job counts only for its own plan.
    const broken: TransferJob = {
      ...first,
      gen,
      planId,
      chunk: 7,
      files: [{ src: `${base}/gone.ts`, key: first.files[0]!.key.replace(/[^/]+$/, 'gone.ts'), kind: 'segment' }],
    };
    const failing = await deliver('transfer', [JSON.stringify(broken)], 3);
    await settle('transfer', failing, await transferHandler(failing, context));
    const redriven = await deliver('transfer', [JSON.stringify({ ...broken, files: first.files })]);
    await settle('transfer', redriven, await transferHandler(redriven, context));
    // A playlist that changed since it was enumerated: nothing counts, the class goes back to the crawler.
    const changed = await deliver('transfer', [
      JSON.stringify({
        ...first,
        gen,
        planId,
        chunk: 5,
        files: [
          {
            src: `${base}/c/v.m3u8`,
            key: first.files[0]!.key.replace(/[^/]+$/, 'v.m3u8'),
            kind: 'playlist',
            bytes: 1,
            sha256: '0'.repeat(64),
          },
        ],
      }),
    ]);
    await settle('transfer', changed, await transferHandler(changed, context));
    const multipart = await deliver('transfer', [
      JSON.stringify({
        ...first,
        gen,
        planId,
        chunk: 6,
        files: [{ src: `${base}/big.mp4`, key: first.files[0]!.key.replace(/[^/]+$/, 'big.mp4'), kind: 'other' }],
      }),
    ]);
    await settle('transfer', multipart, await transferHandler(multipart, context));
    const poison = await deliver('transfer', ['{"v":2,"type":"transfer"}']);
    await settle('transfer', poison, await transferHandler(poison, context));
    // The generation guard (copyFile with the job's generation): a re-copy HEADs the object it would replace.
    const file = {
      src: `${base}/c/seg-2.ts`,
      key: first.files[0]!.key.replace(/[^/]+$/, 'guarded.ts'),
      kind: 'segment' as const,
    };
    await copyFile(file, d, { generation: 1 });
    await copyFile(file, d, { generation: 2 });
    expectExactly('transfer', 'TransferRole', [...esm('TransferQueue'), ...freshLane('Transfer', ['CrawlFreshQueue'])]);
  });

  it('verify (issue 22): walks the COMPLETE classes, reads their chunk records, lists and HEADs the bucket, keeps each result and its watermark; writes no object', async () => {
    // Test setup through clients that are not recorded: a COMPLETE class of one file, in the bucket.
    const setup = createLedger(t.aws.ddb, cfg.tableName);
    const key = `${classRoot(cfg.destPrefix, 'verify-perm')}h/x.m3u8`;
    const body = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nx.m3u8\n#EXT-X-ENDLIST\n';
    await t.aws.s3.send(new PutObjectCommand({ Bucket: cfg.destBucket, Key: key, Body: body }));
    await setup.markCrawling('verify-perm', { manifestUrl: `${base}/c/master.m3u8` });
    const { gen } = await setup.recordPlan('verify-perm', {
      planId: 'verifyperm000000',
      totalFiles: 1,
      totalChunks: 1,
    });
    // No CRC32 recorded: the playlist is read again (a GET), as a copy made before issue 22 is.
    await setup.countChunk('verify-perm', gen, 0, [{ key, bytes: Buffer.byteLength(body), etag: '', sha256: 'x' }]);
    const result = await verifyFor(depsFor('verify'))({}, context);
    expect(result.classes).toBeGreaterThanOrEqual(1);
    expect(result.errors).toBe(0);
    expect(calls.verify.map((c) => c.command)).toContain('GetObject');
    expect(
      calls.verify.filter(
        (c) => c.service === 's3' && !['HeadObject', 'GetObject', 'ListObjectsV2'].includes(c.command),
      ),
    ).toEqual([]);
    expectExactly('verify', 'VerifyRole', []);
  });

  it("dashboard: reads the class index, a class's failures, every queue's depth and their ages (CloudWatch), nothing else", async () => {
    const aws = createAwsClients(cfg);
    recordCalls(aws, calls.dashboard);
    // The queues' ages as on AWS: one GetMetricData, here answered by a loopback CloudWatch.
    const metrics = await startCloudWatchServer(() => ({ MetricDataResults: [] }));
    const cw = new CloudWatchClient({
      region: 'us-east-1',
      endpoint: metrics.endpoint,
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    });
    cw.middlewareStack.add(
      (next, context) => async (args) => {
        calls.dashboard.push({
          service: 'cloudwatch',
          command: String(context.commandName).replace(/Command$/, ''),
          input: args.input as Record<string, unknown>,
        });
        return next(args);
      },
      { step: 'initialize', name: 'flantsRecordCalls' },
    );
    try {
      const deps = {
        stage: cfg.stage,
        ledger: createLedger(aws.ddb, cfg.tableName),
        queue: createJobQueue(aws.sqs, cfg),
        ages: createCloudWatchQueueAges(cw, cfg),
      };
      const res = await handleDashboardRequest(
        { method: 'GET', path: '/status.json', query: new URLSearchParams() },
        deps,
      );
      expect(res.status).toBe(200);
      // Test setup through a client that is not recorded: a class with a failed file to open.
      const setup = createLedger(t.aws.ddb, cfg.tableName);
      await setup.markCrawling('dash-failed', { manifestUrl: `${base}/c/master.m3u8` });
      const { gen } = await setup.recordPlan('dash-failed', {
        planId: 'dashfailed000000',
        totalFiles: 1,
        totalChunks: 1,
      });
      await setup.recordChunkFailure('dash-failed', gen, 0, [
        { key: 'k/x.ts', src: `${base}/x.ts`, reason: 'origin answered HTTP 404' },
      ]);
      const failures = await handleDashboardRequest(
        { method: 'GET', path: '/status.json', query: new URLSearchParams({ class: 'dash-failed' }) },
        deps,
      );
      expect(failures.status).toBe(200);
      expect(failures.body).toContain('k/x.ts');
      // The page asked CloudWatch once; a class's failures need no queue ages.
      expect(metrics.requests).toHaveLength(1);
    } finally {
      aws.destroy();
      cw.destroy();
      await metrics.close();
    }
    expectExactly('dashboard', 'DashboardRole', []);
  });
});

describe('the mapping itself', () => {
  it('reads each item of a transaction as its own action, a query on an index as the index, and a HEAD as needing ListBucket', () => {
    const perms = permissionsOfCalls(
      [
        {
          service: 'dynamodb',
          command: 'TransactWriteItems',
          input: { TransactItems: [{ Put: {} }, { Update: {} }, { ConditionCheck: {} }] },
        },
        { service: 'dynamodb', command: 'Query', input: { IndexName: 'classes' } },
        { service: 's3', command: 'CompleteMultipartUpload', input: {} },
        { service: 's3', command: 'HeadObject', input: {} },
      ],
      { queues: {}, table: 'LedgerTable', bucket: 'b/' },
    );
    expect(perms).toEqual({
      'LedgerTable.Arn': 'dynamodb:ConditionCheckItem,dynamodb:PutItem,dynamodb:UpdateItem',
      'sub:${LedgerTable.Arn}/index/classes': 'dynamodb:Query',
      'sub:arn:${AWS::Partition}:s3:::b/*': 's3:GetObject,s3:PutObject',
      // A HEAD answers 404 for a missing key only with s3:ListBucket on the bucket (403 without).
      'sub:arn:${AWS::Partition}:s3:::b': 's3:ListBucket',
    });
  });
});
