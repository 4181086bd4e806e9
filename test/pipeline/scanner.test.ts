// Issue 11: the scheduled scan reads only what changed since a watermark kept in the ledger; the
// first scan (no watermark yet) and `--full` read the whole catalog. Real MongoDB (CongoDB) and
// DynamoDB; the scan queue is captured so that each page can be run by hand.
import { MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import { MESSAGE_VERSION, ScanRequestSchema, type CrawlJob, type ScanRequest } from '../../src/domain/jobs/schemas.ts';
import { runScan, type ScannerDeps, type ScanSummary } from '../../src/pipeline/scanner.ts';
import { createLedger } from '../../src/adapters/dynamodb/ledger.ts';
import type { Ledger } from '../../src/domain/ports/ledger.ts';
import { openCatalog } from '../../src/adapters/mongodb/catalog.ts';
import type { Catalog } from '../../src/domain/ports/catalog.ts';
import { createJobQueue } from '../../src/adapters/sqs/queue.ts';
import type { JobQueue } from '../../src/domain/ports/job-queue.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let t: TestStack;
let mongo: MongoClient;
let cfg: Config;
let ledger: Ledger;
let catalog: Catalog;
let queue: JobQueue;
const HOUR = 3_600_000;

beforeAll(async () => {
  t = await startTestStack({
    services: ['sqs', 's3', 'dynamodb', 'mongodb'],
    env: { ORIGIN_ALLOWED_HOSTS: 'cdn.example.com', SCAN_PAGE_SIZE: '2' },
  });
  cfg = t.cfg;
  mongo = await new MongoClient(t.env.MONGODB_URI!).connect();
  ledger = createLedger(t.aws.ddb, cfg.tableName);
  catalog = await openCatalog(cfg);
  queue = createJobQueue(t.aws.sqs, cfg);
});
afterAll(async () => {
  await mongo?.close();
  await catalog?.close();
  await t?.stop();
});

let n = 0;
/** A valid class document that ended (and last changed) at `at`. */
const doc = (at: Date, extra: Record<string, unknown> = {}) => ({
  _id: new ObjectId(),
  title: `class ${n++}`,
  manifestUrl: `https://cdn.example.com/c${n}/master.m3u8`,
  status: 'broadcast',
  isTest: false,
  startedAt: new Date(at.getTime() - HOUR),
  endedAt: at,
  updatedAt: at,
  ...extra,
});

/** Runs a scan request and every continuation it sends, as the scan queue would; returns each page's summary and the crawl jobs. */
async function scanAll(
  first: ScanRequest,
  now: Date,
  c: Catalog = catalog,
): Promise<{ pages: ScanSummary[]; crawls: CrawlJob[]; read: string[] }> {
  const pending: ScanRequest[] = [first];
  const crawls: CrawlJob[] = [];
  const read: string[] = [];
  const counting: Catalog = {
    idKinds: c.idKinds,
    page: async (...a) => tap(await c.page(...a)),
    changedPage: async (...a) => tap(await c.changedPage(...a)),
    get: (id) => c.get(id),
    close: () => c.close(),
  };
  const tap = <T extends { id: string }>(docs: T[]) => {
    read.push(...docs.map((d) => d.id));
    return docs;
  };
  const deps: ScannerDeps = {
    cfg,
    catalog: counting,
    ledger,
    log: t.log,
    now: () => now,
    queue: {
      ...queue,
      sendAll: async (name, bodies) => {
        // Every continuation is a valid message of the current schema (what SQS would carry).
        if (name === 'scan') pending.push(...bodies.map((b) => ScanRequestSchema.parse(JSON.parse(JSON.stringify(b)))));
        else crawls.push(...(bodies as CrawlJob[]));
      },
    },
  };
  const pages: ScanSummary[] = [];
  for (let i = 0; pending.length > 0; i++)
    pages.push(await runScan(pending.shift()!, deps, { messageId: `${(first as { scanId?: string }).scanId}-${i}` }));
  return { pages, crawls, read };
}

const scan = (scanId: string, extra: Partial<Extract<ScanRequest, { mode: 'catalog' }>> = {}): ScanRequest => ({
  v: MESSAGE_VERSION,
  type: 'scan',
  mode: 'catalog',
  scanId,
  ...extra,
});

describe('incremental scans (issue 11)', () => {
  it('the first scan reads the whole catalog and sets the watermark; the next reads only what changed or ended since, less the overlap', async () => {
    const col = mongo.db().collection('classes');
    const old = [
      doc(new Date(Date.now() - 5 * HOUR)),
      doc(new Date(Date.now() - 4 * HOUR)),
      doc(new Date(Date.now() - 3 * HOUR)),
    ];
    // Not a date: the change fields cannot find it, the full scan does (and skips it: not broadcast).
    await col.insertMany([...old, { _id: new ObjectId(), title: 'live', status: 'live', updatedAt: 'yesterday' }]);
    const t1 = new Date();
    const first = await scanAll(scan('s1'), t1);
    // Pages of 2: two full pages of ObjectIds, an empty one that ends that phase, then the string ids.
    expect(first.pages.map((p) => p.kind)).toEqual(['full', 'full', 'full', 'full']);
    expect(first.read).toHaveLength(4);
    expect(first.crawls.map((c) => c.classId).sort()).toEqual(old.map((d) => d._id.toHexString()).sort());
    expect(first.pages.at(-1)!.watermarkAdvanced).toBe(true);
    expect(await ledger.getWatermark('updatedAt,endedAt')).toBe(t1.toISOString());

    // Three classes end after the first scan began; one old document is edited just inside the overlap.
    const later = new Date(t1.getTime() + 60_000);
    const added = [doc(later), doc(later), doc(later)];
    await col.insertMany(added);
    await col.updateOne(
      { _id: old[0]!._id },
      { $set: { updatedAt: new Date(t1.getTime() - 5 * 60_000), title: 'renamed' } },
    );
    const t2 = new Date(later.getTime() + 60_000);
    const second = await scanAll(scan('s2'), t2);
    expect(
      second.pages.every((p) => p.kind === 'incremental' && p.since === new Date(t1.getTime() - 600_000).toISOString()),
    ).toBe(true);
    // Only the changed documents are read (the new ones by updatedAt and again by endedAt); the unchanged ones never.
    expect(new Set(second.read)).toEqual(new Set([...added, old[0]!].map((d) => d._id.toHexString())));
    expect(second.read.filter((id) => id === old[1]!._id.toHexString() || id === old[2]!._id.toHexString())).toEqual(
      [],
    );
    expect(second.crawls.map((c) => c.classId).sort()).toEqual(added.map((d) => d._id.toHexString()).sort());
    expect(await ledger.getWatermark('updatedAt,endedAt')).toBe(t2.toISOString());

    // Within the overlap the recent changes are read again (and sent nowhere: their classes are in progress).
    const again = await scanAll(scan('s3'), new Date(t2.getTime() + 60_000));
    expect(new Set(again.read)).toEqual(new Set([...added, old[0]!].map((d) => d._id.toHexString())));
    expect(again.crawls).toEqual([]);
    // Once a scan that started more than the overlap after the changes has finished, they are not read again:
    // nothing changed since, so one read of an empty range per change field, and nothing sent.
    await scanAll(scan('s3b'), new Date(t2.getTime() + HOUR));
    const quiet = await scanAll(scan('s3c'), new Date(t2.getTime() + 2 * HOUR));
    expect([quiet.read, quiet.crawls, quiet.pages.length]).toEqual([[], [], 2]);
  });

  it('--full reads everything whatever the watermark; an older scan finishing late never moves the watermark back', async () => {
    const mark = (await ledger.getWatermark('updatedAt,endedAt'))!;
    const full = await scanAll(scan('s4', { full: true }), new Date(Date.parse(mark) - HOUR));
    expect(full.pages.every((p) => p.kind === 'full')).toBe(true);
    expect(full.read.length).toBe(await mongo.db().collection('classes').countDocuments());
    expect(full.pages.at(-1)!.watermarkAdvanced).toBe(false);
    expect(await ledger.getWatermark('updatedAt,endedAt')).toBe(mark);
  });

  it('a redelivered first page is the same page, whatever it decided', async () => {
    const req = scan('s5');
    const deps = { cfg, catalog, ledger, log: t.log, queue: { ...queue, sendAll: async () => undefined } };
    const a = await runScan(req, deps, { messageId: 'm-first' });
    const b = await runScan(req, deps, { messageId: 'm-first' });
    const c = await runScan(req, deps, { messageId: 'm-other' });
    expect([a.duplicate, b.duplicate, c.duplicate]).toEqual([undefined, true, true]);
  });
});
