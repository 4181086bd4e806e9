import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { costOf, DEFAULT_PRICES_FILE, loadPrices, tieredCost, type Usage } from '../../src/estimate/prices.ts';
import { estimateWall, type WallInput } from '../../src/estimate/wall.ts';

const prices = loadPrices();
const GiB = 1024 ** 3;

describe('estimate cost model', () => {
  it('ships a price table where every price is dated and sourced', () => {
    expect(prices.region).toBe('us-east-1');
    for (const [name, p] of Object.entries(prices.prices)) {
      expect(p.source, name).toMatch(/^https:\/\/aws\.amazon\.com\//);
      expect(p.asOf, name).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it('prices usage by hand', () => {
    const usage: Usage = {
      s3: { putRequests: 2_000_000 },
      sqs: { requests: 3_000_000 },
      dynamodb: { readUnits: 8_000_000, writeUnits: 4_000_000 },
      lambda: { invocations: 1_000_000, gbSeconds: 100_000, architecture: 'arm64' },
      origin: { requests: 5_000_000, bytes: 1024 * GiB, place: 'outside' },
      storedBytes: 1024 * GiB,
    };
    const c = costOf(usage, prices);
    expect(c.s3).toBeCloseTo(10, 10); // 2,000 × $0.005
    expect(c.sqs).toBeCloseTo(1.2, 10); // 3 × $0.40
    expect(c.dynamodb).toBeCloseTo(2.5 + 1, 10); // 4 × $0.625 + 8 × $0.125
    expect(c.lambda).toBeCloseTo(0.2 + 1.33334, 10); // 1 × $0.20 + 100,000 × $0.0000133334
    expect(c.origin).toBe(0);
    expect(c.total).toBeCloseTo(10 + 1.2 + 3.5 + 1.53334, 10);
    // 1 TiB for a month: 1,024 GB × $0.023, not in the total.
    expect(c.storagePerMonth).toBeCloseTo(23.552, 10);
    expect(costOf({ ...usage, lambda: { ...usage.lambda, architecture: 'x86_64' } }, prices).lambda).toBeCloseTo(
      0.2 + 1.66667,
      10,
    );
  });

  it('prices reading an origin in AWS: tiers, requests, regions', () => {
    const base: Usage = {
      s3: { putRequests: 0 },
      sqs: { requests: 0 },
      dynamodb: { readUnits: 0, writeUnits: 0 },
      lambda: { invocations: 0, gbSeconds: 0, architecture: 'arm64' },
      origin: { requests: 1_000_000, bytes: 15 * 1024 * GiB, place: 'aws-internet' },
      storedBytes: 0,
    };
    // 15 TB: 10,240 GB at $0.09 + 5,120 GB at $0.085.
    expect(tieredCost(15_360, prices.prices.transferInternetPerGb)).toBeCloseTo(921.6 + 435.2, 8);
    expect(costOf(base, prices).origin).toBeCloseTo(1356.8, 8);
    // Same-region S3: data free, 1,000 × $0.0004 for the GETs.
    expect(costOf({ ...base, origin: { ...base.origin, place: 's3-same-region' } }, prices).origin).toBeCloseTo(
      0.4,
      10,
    );
    expect(costOf({ ...base, origin: { ...base.origin, place: 's3-other-region' } }, prices).origin).toBeCloseTo(
      0.4 + 15_360 * 0.02,
      8,
    );
    // CloudFront: 10,240 × $0.085 + 5,120 × $0.080, plus 100 × $0.01 for the HTTPS requests.
    expect(costOf({ ...base, origin: { ...base.origin, place: 'cloudfront' } }, prices).origin).toBeCloseTo(
      870.4 + 409.6 + 1,
      8,
    );
  });

  it('names the field of a bad price table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flants-prices-'));
    const bad = JSON.parse(JSON.stringify(prices)) as { prices: { sqsRequestPerMillion: { usd: number } } };
    bad.prices.sqsRequestPerMillion.usd = -1;
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    expect(() => loadPrices(join(dir, 'bad.json'))).toThrow(/prices\.sqsRequestPerMillion\.usd/);
    expect(() => loadPrices(join(dir, 'missing.json'))).toThrow(/cannot read price table/);
    expect(loadPrices(DEFAULT_PRICES_FILE).prices.s3PutPer1000.usd).toBe(0.005);
  });
});

const wall = (over: Partial<WallInput>): WallInput => ({
  files: 1000,
  bytes: 1e9,
  classes: 10,
  transferInvocations: 10,
  playlists: 50,
  scanPages: 1,
  cpuMsPerFile: 3,
  workerMBps: 10,
  fileLatencyMs: 100,
  inFlightPerWorker: 64,
  memoryMb: 1769,
  transferMaxConcurrency: 5,
  accountConcurrency: 1000,
  crawlerConcurrency: 5,
  crawlSecondsPerClass: 2,
  scanSecondsPerPage: 1,
  ...over,
});

describe('estimate wall time', () => {
  it('a worker is bound by the slowest of CPU, bandwidth and per-file latency', () => {
    // CPU 1,000 × 3 ms = 3 s; bandwidth 1 GB at 10 MB/s = 100 s; latency 1,000 × 100 ms / 64 = 1.6 s.
    // 5 workers from the start: 100 / 5 = 20 s; the feed (4 s crawl + a 10 s invocation) is shorter.
    const w = estimateWall(wall({}));
    expect(w.workerBound).toBe('transfer bandwidth');
    expect(w.transferWorkerSeconds).toBeCloseTo(100, 10);
    expect(w.seconds).toBeCloseTo(20, 10);
    expect(w.limit).toBe('transfer bandwidth');
    // Half a vCPU doubles CPU time: 1,000 × 60 ms / 0.5 = 120 s, now over bandwidth's 100 s.
    const cpu = estimateWall(wall({ memoryMb: 884.5, cpuMsPerFile: 60 }));
    expect(cpu.workerBound).toBe('transfer CPU');
    expect(cpu.transferWorkerSeconds).toBeCloseTo(120, 10);
  });

  it("follows Lambda's SQS ramp: 5 batches, then +300 a minute up to 1,000", () => {
    // 60,000 worker-seconds: minute 0 at 5 does 0.5%, minute 1 at 305 does 30.5%, minute 2 at 605 does 60.5%;
    // the last 8.5% at 905 takes 0.085 × 60,000 / 905 = 5.635 s.
    const w = estimateWall(wall({ bytes: 6e11, transferMaxConcurrency: 1000, transferInvocations: 10_000 }));
    expect(w.transferWorkerSeconds).toBeCloseTo(60_000, 6);
    expect(w.seconds).toBeCloseTo(180 + (0.085 * 60_000) / 905, 6);
    expect(w.concurrency).toBe(905);
    expect(w.rampSeconds).toBe(240);
    // The account quota caps it below the mapping's maximum.
    expect(
      estimateWall(
        wall({ bytes: 6e11, transferMaxConcurrency: 1000, accountConcurrency: 300, transferInvocations: 10_000 }),
      ).concurrency,
    ).toBe(300);
  });

  it("the origin's limits cap the pace whatever the concurrency", () => {
    // 10⁶ files at 1,000 requests/s: 1,000 s, whether 5 or 100 workers run.
    const w = estimateWall(
      wall({ files: 1e6, bytes: 1e11, cpuMsPerFile: 1, workerMBps: 100, transferMaxConcurrency: 100, originRps: 1000 }),
    );
    expect(w.seconds).toBeCloseTo(1000, 6);
    expect(w.limit).toBe('origin requests/s');
    const b = estimateWall(
      wall({ files: 1e6, bytes: 1e11, cpuMsPerFile: 1, workerMBps: 100, transferMaxConcurrency: 100, originMBps: 50 }),
    );
    // 10¹¹ bytes at 50 MB/s.
    expect(b.seconds).toBeCloseTo(2000, 6);
    expect(b.limit).toBe('origin bandwidth');
  });

  it('cannot finish before the crawler has handed out every class', () => {
    // 1,000 classes × 10 s / 5 crawlers = 2,000 s, plus one invocation's time (100 s / 10).
    const w = estimateWall(wall({ classes: 1000, crawlSecondsPerClass: 10 }));
    expect(w.feedSeconds).toBe(2000);
    expect(w.seconds).toBeCloseTo(2010, 10);
    expect(w.limit).toBe('crawler');
  });
});
