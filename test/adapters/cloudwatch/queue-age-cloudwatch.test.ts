// The queues' ages on AWS (issue 25): SQS publishes them only as the CloudWatch metric
// ApproximateAgeOfOldestMessage. The adapter asks once for every queue of the stage; here it speaks to
// a loopback server answering CloudWatch's JSON protocol, which checks the request's shape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import type { QueueName } from '../../../src/domain/vocabulary.ts';
import { collectSnapshot } from '../../../src/dashboard/snapshot.ts';
import { renderTerminal } from '../../../src/dashboard/terminal.ts';
import { renderHtml } from '../../../src/dashboard/render.ts';
import { ProgressTracker, RateTracker } from '../../../src/dashboard/progress.ts';
import { laneStatus } from '../../../src/cli/status-lanes.ts';
import { cloudWatchQueueAges, sqsQueueName } from '../../../src/adapters/cloudwatch/queue-age-cloudwatch.ts';
import { startCloudWatchServer, type CloudWatchRequest, type SeriesAnswer } from '../../helpers/cloudwatch-server.ts';

const MIN = 60_000;
type Query = {
  Id: string;
  ReturnData?: boolean;
  MetricStat: {
    Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] };
    Period: number;
    Stat: string;
  };
};

let server: Awaited<ReturnType<typeof startCloudWatchServer>>;
/** What the server answers per SQS queue name: [minutes ago (period start), age in seconds] pairs. */
let series: Record<string, Array<[number, number]>> = {};
let now = Date.now();

function queueOfQuery(q: Query): string {
  return q.MetricStat.Metric.Dimensions.find((d) => d.Name === 'QueueName')?.Value ?? '';
}

beforeAll(async () => {
  server = await startCloudWatchServer((req: CloudWatchRequest) => {
    const queries = req.body.MetricDataQueries as Query[];
    return {
      MetricDataResults: queries.map((q): SeriesAnswer => {
        const points = series[queueOfQuery(q)] ?? [];
        const minute = Math.floor(now / MIN) * MIN;
        return {
          Id: q.Id,
          Timestamps: points.map(([ago]) => (minute - ago * MIN) / 1000),
          Values: points.map(([, v]) => v),
          StatusCode: 'Complete',
        };
      }),
    };
  });
});
afterAll(async () => {
  await server?.close();
});

function config() {
  return loadConfig({
    FLANTS_STAGE: 'cw',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_CLOUDWATCH: server.endpoint,
  });
}

describe('queue ages from CloudWatch (ApproximateAgeOfOldestMessage)', () => {
  it('is not asked in the local lab (an SQS endpoint and no CloudWatch endpoint): its queues are inspected', () => {
    const lab = loadConfig({ FLANTS_STAGE: 'cw', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:1' });
    expect(cloudWatchQueueAges(lab)).toBeUndefined();
    const aws = cloudWatchQueueAges(loadConfig({ FLANTS_STAGE: 'cw', AWS_REGION: 'us-east-1' }));
    expect(aws).toBeDefined();
    aws?.destroy();
  });

  it('asks once for every queue: the Maximum of AWS/SQS ApproximateAgeOfOldestMessage per minute, by QueueName, over the last 15 minutes', async () => {
    series = {};
    now = Date.now();
    const cw = cloudWatchQueueAges(config())!;
    try {
      const before = server.requests.length;
      const names: QueueName[] = ['transfer-fresh', 'transfer', 'crawl-fresh-dlq'];
      await cw.ages.oldest(names);
      const sent = server.requests.slice(before);
      expect(sent).toHaveLength(1);
      const req = sent[0]!;
      // @aws-sdk/client-cloudwatch 3.1164 speaks awsJson1_0 (query-compatible), not the query protocol.
      expect(req.method).toBe('POST');
      expect(req.headers['x-amz-target']).toBe('GraniteServiceVersion20100801.GetMetricData');
      expect(req.headers['content-type']).toBe('application/x-amz-json-1.0');
      const queries = req.body.MetricDataQueries as Query[];
      expect(queries.map((q) => [q.Id, queueOfQuery(q)])).toEqual([
        ['q0', 'flants-cw-transfer-fresh'],
        ['q1', 'flants-cw-transfer'],
        ['q2', 'flants-cw-crawl-fresh-dlq'],
      ]);
      for (const q of queries) {
        expect(q.ReturnData).toBe(true);
        expect(q.MetricStat.Metric.Namespace).toBe('AWS/SQS');
        expect(q.MetricStat.Metric.MetricName).toBe('ApproximateAgeOfOldestMessage');
        expect(q.MetricStat.Metric.Dimensions).toEqual([{ Name: 'QueueName', Value: queueOfQuery(q) }]);
        expect(q.MetricStat.Period).toBe(60);
        expect(q.MetricStat.Stat).toBe('Maximum');
      }
      expect(req.body.ScanBy).toBe('TimestampDescending');
      const start = Number(req.body.StartTime) * 1000;
      const end = Number(req.body.EndTime) * 1000;
      expect(end - start).toBe(15 * MIN);
      expect(end).toBeGreaterThanOrEqual(now);
      expect(end - now).toBeLessThan(MIN);
      expect(end % MIN).toBe(0);
    } finally {
      cw.destroy();
    }
  });

  it('several queues: each its latest datapoint; no datapoints or only a stale one: unknown', async () => {
    now = Date.now();
    series = {
      'flants-cw-transfer': [
        [6, 5400],
        [3, 5580],
        [4, 5520],
      ],
      'flants-cw-transfer-fresh': [[2, 0]],
      'flants-cw-crawl': [[25, 900]],
    };
    const cw = cloudWatchQueueAges(config())!;
    try {
      const ages = await cw.ages.oldest(['transfer', 'transfer-fresh', 'crawl', 'scan']);
      const minute = Math.floor(now / MIN) * MIN;
      expect(ages.get('transfer')).toEqual({ asOf: minute - 2 * MIN, sentAt: minute - 2 * MIN - 5_580_000 });
      expect(ages.get('transfer-fresh')).toEqual({ asOf: minute - MIN, sentAt: null });
      expect(ages.has('crawl')).toBe(false);
      expect(ages.has('scan')).toBe(false);
      expect([...ages.keys()].sort()).toEqual(['transfer', 'transfer-fresh']);
    } finally {
      cw.destroy();
    }
  });

  it('a queue configured by URL is asked by the name in its URL', () => {
    const cfg = loadConfig({
      FLANTS_STAGE: 'cw',
      FLANTS_TRANSFER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/other-transfer',
    });
    expect(sqsQueueName(cfg, 'transfer')).toBe('other-transfer');
    expect(sqsQueueName(cfg, 'transfer-fresh')).toBe('flants-cw-transfer-fresh');
    expect(sqsQueueName(cfg, 'scan-dlq')).toBe('flants-cw-scan-dlq');
  });

  it('status and the dashboard show the age as measured, and how long ago, where the queue itself cannot say', async () => {
    now = Date.now();
    series = { 'flants-cw-transfer': [[4, 7200]], 'flants-cw-transfer-fresh': [[3, 90]] };
    const cw = cloudWatchQueueAges(config())!;
    // AWS's SQS as the snapshot sees it: depths, and no age of its own.
    const queue = {
      depth: async () => ({ visible: 5, inFlight: 0, delayed: 0 }),
      oldestSentAt: async () => undefined,
    };
    try {
      const at = new Date(now);
      const status = await laneStatus(
        queue,
        [],
        { fresh: { withinHours: 24, changed: true, enqueue: true } },
        at,
        cw.ages,
      );
      const minute = Math.floor(now / MIN) * MIN;
      const transfer = status.lanes.find((l) => l.queue === 'transfer')!;
      expect(transfer.oldestSeconds).toBe(7200);
      expect(transfer.asOfSeconds).toBe((now - (minute - 3 * MIN)) / 1000);
      expect(status.lines[0]).toMatch(/transfer 5, oldest 2\.0 h \(as of 3\.\d min ago\)/);
      expect(status.lines[0]).toMatch(/transfer-fresh 5, oldest 1\.5 min \(as of 2\.\d min ago\)/);
      // A lane CloudWatch knows nothing of shows no age at all.
      expect(status.lanes.find((l) => l.queue === 'crawl')!.oldestSeconds).toBeUndefined();

      const before = server.requests.length;
      const snap = await collectSnapshot(
        {
          stage: 'cw',
          ledger: { listClasses: async () => [], pageFailures: async () => ({ files: [] }) } as never,
          queue,
          ages: cw.ages,
        },
        { now: () => at },
      );
      // One metric request for all twelve queues, not one per queue.
      expect(server.requests.length - before).toBe(1);
      const row = snap.queues.find((q) => q.name === 'transfer')!;
      expect(row.oldestAsOf).toBe(new Date(minute - 3 * MIN).toISOString());
      expect(row.oldestSentAt).toBe(new Date(minute - 3 * MIN - 7_200_000).toISOString());
      expect(snap.queues.find((q) => q.name === 'crawl')!.oldestSentAt).toBeUndefined();
      expect(renderHtml(snap)).toMatch(/<td class="n">2\.0 h \(as of 3\.\d min ago\)<\/td>/);
      const view = {
        color: false,
        width: 400,
        now,
        readAt: now,
        rates: new RateTracker(),
        progress: new ProgressTracker(),
        stuckMinutes: 30,
        intervalSeconds: 2,
      };
      expect(renderTerminal(snap, view)).toMatch(/transfer 5, oldest 2\.0 h \(as of 3\.\d min ago\)/);
      // A CloudWatch figure that moved is a change the page's ETag must tell.
      series = { 'flants-cw-transfer': [[3, 7260]], 'flants-cw-transfer-fresh': [[3, 90]] };
      const later = await collectSnapshot(
        {
          stage: 'cw',
          ledger: { listClasses: async () => [], pageFailures: async () => ({ files: [] }) } as never,
          queue,
          ages: cw.ages,
        },
        { now: () => at },
      );
      expect(later.version).not.toBe(snap.version);
    } finally {
      cw.destroy();
    }
  });

  it('a failed metric read leaves the ages unknown, not the page', async () => {
    const down = startCloudWatchServer(() => {
      throw new Error('AccessDenied');
    });
    const s = await down;
    const cw = cloudWatchQueueAges(
      loadConfig({
        FLANTS_STAGE: 'cw',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 't',
        AWS_SECRET_ACCESS_KEY: 't',
        AWS_ENDPOINT_URL_CLOUDWATCH: s.endpoint,
      }),
    )!;
    try {
      await expect(cw.ages.oldest(['transfer'])).rejects.toThrow();
      const snap = await collectSnapshot({
        stage: 'cw',
        ledger: { listClasses: async () => [], pageFailures: async () => ({ files: [] }) } as never,
        queue: { depth: async () => ({ visible: 1, inFlight: 0, delayed: 0 }) },
        ages: cw.ages,
      });
      expect(snap.queues.every((q) => q.error === undefined && q.oldestSentAt === undefined)).toBe(true);
    } finally {
      cw.destroy();
      await s.close();
    }
  });
});
