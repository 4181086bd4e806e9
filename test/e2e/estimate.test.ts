import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { EstimateReport } from '../../src/estimate/model.ts';
import { runEstimate, type EstimateOptions } from '../../src/estimate/run.ts';
import { LIBRARY_ENV, generateLibrary } from '../../lab/library.ts';
import { originUrl } from '../../lab/sample-catalog.ts';
import { startOriginServer, type OriginServer } from '../../lab/origin-server.ts';
import { startLocalStack, type LocalStack } from '../../lab/stack.ts';
import { openCatalog } from '../../src/adapters/mongodb/catalog.ts';
import type { Catalog } from '../../src/domain/ports/catalog.ts';
import { flants } from '../helpers/cli.ts';

// The demo's library (its default shape, more classes), served by the lab origin, with its catalog
// (valid classes and the four kinds the scanner skips) in a real local MongoDB. The truth is the
// generator's own totals; `flants estimate` sees only the catalog and the origin.
const library = generateLibrary({ classes: 16, seed: 'estimate' });
let stack: LocalStack;
let origin: OriginServer;
let env: Record<string, string>;

const opened: Catalog[] = [];

beforeAll(async () => {
  [stack, origin] = await Promise.all([startLocalStack(['mongodb']), startOriginServer(library)]);
  env = {
    MONGODB_URI: stack.env.MONGODB_URI!,
    ORIGIN_ALLOWED_HOSTS: new URL(origin.url).host,
    // The library's fMP4 classes publish manifest.mpd beside the master; its totals count them, as `npm start` copies them.
    ...LIBRARY_ENV,
    FLANTS_STAGE: 'estimate',
    AWS_REGION: 'us-east-1',
  };
  const mongo = await new MongoClient(stack.env.MONGODB_URI!).connect();
  await mongo.db().collection('classes').insertMany(library.catalogDocuments(origin.url));
  await mongo.close();
});
afterAll(async () => {
  for (const c of opened) await c.close();
  await origin?.close();
  await stack?.stop();
});

/** `flants estimate ... --json`, as a user runs it. */
async function estimateCli(args: string[]): Promise<EstimateReport> {
  const r = await flants(['estimate', ...args, '--json'], env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as EstimateReport;
}

/** The function the command calls, in this process (the CLI's defaults; no spawn, so the suite stays quick). */
function estimate(o: Partial<EstimateOptions> & { withCatalog?: boolean } = {}): Promise<EstimateReport> {
  const { withCatalog = true, ...rest } = o;
  const cfg = loadConfig(env);
  return runEstimate({
    cfg,
    masterUrls: [],
    sample: 20,
    seed: '1',
    confidence: 0.95,
    concurrency: 4,
    budget: 5000,
    allowHosts: [],
    originPlace: 'outside',
    catalog: withCatalog ? async () => opened[opened.push(await openCatalog(cfg)) - 1]! : undefined,
    ...rest,
  });
}

describe('flants estimate against the demo library', () => {
  it('estimates the library from a sample drawn from the catalog, and the real totals fall in its ranges', async () => {
    const before = origin.stats().requests;
    const r = await estimateCli(['--sample', '6', '--seed', '7']);
    // The scanner's rules: the four skipped documents are not classes to copy.
    expect(r.library.classes).toBe(library.classes.length);
    expect(r.library.catalogDocuments).toBe(library.classes.length + library.skipped.length);
    expect(r.sample.classes).toBe(6);
    expect(r.sample.failedClasses).toBe(0);
    const { files, bytes } = r.library;
    expect(files.low).toBeLessThanOrEqual(library.totalFiles);
    expect(files.high).toBeGreaterThanOrEqual(library.totalFiles);
    expect(bytes.low).toBeLessThanOrEqual(library.totalBytes);
    expect(bytes.high).toBeGreaterThanOrEqual(library.totalBytes);
    // A real range, not a trivial one.
    expect(files.high - files.low).toBeLessThan(library.totalFiles);
    // Nothing was copied: playlists and size probes only, within the budget.
    expect(origin.stats().requests - before).toBe(r.sample.originRequests);
    expect(r.sample.originRequests).toBeLessThanOrEqual(5000);
    expect(r.sample.sizeSources.probe).toBeGreaterThan(0);
    // The documented shape.
    for (const service of ['s3', 'sqs', 'dynamodb', 'lambda'] as const) expect(r.requests[service]).toBeGreaterThan(0);
    for (const service of ['total', 's3', 'sqs', 'dynamodb', 'lambda'] as const)
      expect(r.costUsd[service]).toBeGreaterThan(0);
    expect(r.wallSeconds.low).toBeLessThanOrEqual(r.wallSeconds.mid);
    expect(r.wallSeconds.mid).toBeLessThanOrEqual(r.wallSeconds.high);
    expect(r.wallSeconds.low).toBeGreaterThan(0);
  });

  it('a sample of every class measures the library exactly: every file and byte the copy would move', async () => {
    const r = await estimate({ sample: library.classes.length });
    expect(r.library.files).toEqual({ low: library.totalFiles, mid: library.totalFiles, high: library.totalFiles });
    expect(r.library.bytes).toEqual({ low: library.totalBytes, mid: library.totalBytes, high: library.totalBytes });
    // Every media file sized by a probe or a byte range (the byte-ranged class), every playlist by its body.
    const playlists = library.paths().filter((p) => library.file(p)!.kind === 'playlist').length;
    expect(r.sample.sizeSources).toMatchObject({ playlist: playlists, estimated: 0 });
    expect(r.sample.sizeSources.byterange).toBeGreaterThan(0);
    expect(r.requests.s3).toBe(library.totalFiles);
  });

  it('takes master URLs and the library size instead of the catalog', async () => {
    const urls = library.classes.slice(0, 3).map((c) => originUrl(origin.url, c.manifestPath));
    const r = await estimate({ masterUrls: urls, classes: 300, withCatalog: false });
    expect(r.sample.classes).toBe(3);
    expect(r.library.classes).toBe(300);
    expect(r.library.catalogDocuments).toBe(300);
    expect(r.library.files.mid).toBeCloseTo((r.sample.files * 300) / 3, 6);
  });

  it('counts a sampled class whose playlists cannot be crawled as an empty class, and says so', async () => {
    const urls = [
      ...library.classes.slice(0, 2).map((c) => originUrl(origin.url, c.manifestPath)),
      `${origin.url}/vod/none/master.m3u8`,
    ];
    const r = await estimate({ masterUrls: urls, withCatalog: false });
    expect(r.sample).toMatchObject({
      classes: 3,
      failedClasses: 1,
      files: library.classes[0]!.files + library.classes[1]!.files,
    });
    expect(r.warnings.join('\n')).toMatch(/1 sampled classes cannot be crawled .*HTTP 404/);
  });

  it('stays within its request budget and says what the budget cost', async () => {
    const before = origin.stats().requests;
    const r = await estimate({ sample: 16, budget: 60 });
    expect(origin.stats().requests - before).toBeLessThanOrEqual(60);
    expect(r.sample.classes).toBeLessThan(16);
    expect(r.sample.sizeSources.estimated).toBeGreaterThan(0);
    expect(r.warnings.join('\n')).toMatch(/budget \(60\) ran out/);
  });

  it('prints a table for people, and refuses what it cannot estimate', async () => {
    const [table, foreign] = await Promise.all([
      flants(['estimate', '--sample', '3'], env),
      flants(['estimate', 'https://cdn.example.com/v/master.m3u8'], env),
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`FLAnts estimate: ${library.classes.length} classes, from a sample of 3`);
    expect(table.stdout).toMatch(/Wall time at transferMaxConcurrency \d+/);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr.trim()).toBe(
      'flants: host "cdn.example.com" is not in ORIGIN_ALLOWED_HOSTS (or --allow-host): refusing https://cdn.example.com/v/master.m3u8',
    );
    await expect(estimate({ withCatalog: false })).rejects.toThrow(
      'estimate needs master playlist URLs, or a catalog to sample (set MONGODB_URI)',
    );
  });
});
