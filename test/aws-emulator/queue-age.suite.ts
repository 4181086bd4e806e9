// A second opinion on the queues' ages from CloudWatch (issue 25): moto's CloudWatch stores what
// PutMetricData sends and answers GetMetricData in the JSON protocol the SDK speaks. SQS's own metric
// is put here by hand (moto's SQS publishes none). Run with `npm run test:aws-emulator`; never part of
// `npm test`. Skips with one line where moto_server is not installed.
import type { ChildProcess } from 'node:child_process';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { cloudWatchQueueAges } from '../../src/adapters/cloudwatch/queue-age-cloudwatch.ts';
import { motoInstalled, startMotoServer } from '../helpers/moto-server.ts';

const motoPresent = motoInstalled('the queue-age suite');

describe.skipIf(!motoPresent)('queue ages from moto CloudWatch', () => {
  let moto: ChildProcess | undefined;
  let endpoint = '';
  beforeAll(async () => {
    ({ child: moto, endpoint } = await startMotoServer());
  }, 60_000);
  afterAll(() => {
    moto?.kill();
  });

  it('reads the latest ApproximateAgeOfOldestMessage of each queue, and nothing for a queue without one', async () => {
    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
    const cw = new CloudWatchClient({ region: 'us-east-1', endpoint, credentials });
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const put = (queue: string, minutesAgo: number, value: number) =>
      cw.send(
        new PutMetricDataCommand({
          Namespace: 'AWS/SQS',
          MetricData: [
            {
              MetricName: 'ApproximateAgeOfOldestMessage',
              Dimensions: [{ Name: 'QueueName', Value: queue }],
              Timestamp: new Date(minute - minutesAgo * 60_000),
              Value: value,
              Unit: 'Seconds',
            },
          ],
        }),
      );
    try {
      await put('flants-moto-transfer', 5, 100);
      await put('flants-moto-transfer', 3, 220);
      await put('flants-moto-transfer-fresh', 2, 0);
      await put('flants-moto-crawl', 40, 999);
      const ages = cloudWatchQueueAges(
        loadConfig({
          FLANTS_STAGE: 'moto',
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_ENDPOINT_URL_CLOUDWATCH: endpoint,
        }),
      )!;
      try {
        const got = await ages.ages.oldest(['transfer', 'transfer-fresh', 'crawl', 'scan']);
        expect(got.get('transfer')).toEqual({ asOf: minute - 2 * 60_000, sentAt: minute - 2 * 60_000 - 220_000 });
        expect(got.get('transfer-fresh')).toEqual({ asOf: minute - 60_000, sentAt: null });
        expect(got.has('crawl')).toBe(false);
        expect(got.has('scan')).toBe(false);
      } finally {
        ages.destroy();
      }
    } finally {
      cw.destroy();
    }
  }, 60_000);
});
