import { ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobQueue } from '../../../src/adapters/sqs/queue.ts';
import type { JobQueue } from '../../../src/domain/ports/job-queue.ts';
import { startTestStack, type TestStack } from '../../helpers/stack.ts';

let t: TestStack;
let queue: JobQueue;

beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'], visibilityTimeout: 1 });
  queue = createJobQueue(t.aws.sqs, t.cfg);
});
afterAll(async () => t?.stop());

async function receiveAll(
  url: string,
  max = 100,
): Promise<Array<{ body: string; count: number; handle: string; attrs: Record<string, string | undefined> }>> {
  const out: Array<{ body: string; count: number; handle: string; attrs: Record<string, string | undefined> }> = [];
  for (let i = 0; i < 20 && out.length < max; i++) {
    const res = await t.aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (!res.Messages?.length) break;
    for (const m of res.Messages) {
      out.push({
        body: m.Body!,
        count: Number(m.Attributes?.ApproximateReceiveCount),
        handle: m.ReceiptHandle!,
        attrs: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue])),
      });
    }
  }
  return out;
}

describe('SQS job queue (fauxqs)', () => {
  it('creates every queue serverless.yml declares, named for the stage', async () => {
    for (const role of ['scan', 'crawl', 'transfer'] as const) {
      expect(await queue.url(role)).toContain(`flants-${t.cfg.stage}-${role}`);
      expect(await queue.url(`${role}-dlq`)).toContain(`flants-${t.cfg.stage}-${role}-dlq`);
    }
  });

  it('sends every body, in batches, and nothing twice', async () => {
    const bodies = Array.from({ length: 37 }, (_, i) => ({ n: i, pad: 'x'.repeat(i * 10) }));
    await queue.sendAll('crawl', bodies);
    const got = await receiveAll(await queue.url('crawl'));
    expect(got.map((m) => (JSON.parse(m.body) as { n: number }).n).sort((a, b) => a - b)).toEqual(
      bodies.map((b) => b.n),
    );
    for (const m of got)
      await t.aws.sqs.send(new DeleteMessageCommand({ QueueUrl: await queue.url('crawl'), ReceiptHandle: m.handle }));
    expect(await queue.depth('crawl')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('moves a message to the DLQ after three receives (the retry policy)', async () => {
    await queue.sendAll('transfer', [{ doomed: true }]);
    const url = await queue.url('transfer');
    const counts: number[] = [];
    for (let i = 0; i < 8 && counts.length < 4; i++) {
      const got = await receiveAll(url, 1);
      counts.push(...got.map((m) => m.count));
      await new Promise((r) => setTimeout(r, 1100));
    }
    expect(counts).toEqual([1, 2, 3]);
    const dead = await receiveAll(await queue.url('transfer-dlq'));
    expect(dead.map((m) => m.body)).toEqual([JSON.stringify({ doomed: true })]);
  });

  it('sends raw bodies with their reason as message attributes', async () => {
    await queue.sendRaw('scan-dlq', 'not json', { 'flants-error': 'scan message is not JSON' });
    const [m] = await receiveAll(await queue.url('scan-dlq'));
    expect(m?.body).toBe('not json');
    expect(m?.attrs['flants-error']).toBe('scan message is not JSON');
  });
});
