// The SQS adapter against the JobQueue contract, on the local SQS server.
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll } from 'vitest';
import { createJobQueue } from '../../../src/adapters/sqs/queue.ts';
import type { QueueName } from '../../../src/domain/ports/job-queue.ts';
import { startTestStack, type TestStack } from '../../helpers/stack.ts';
import { describeJobQueueContract, type Received } from '../../contracts/job-queue.contract.ts';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'] });
}, 120_000);
afterAll(async () => t?.stop());

describeJobQueueContract('SQS adapter (local server)', () => {
  const queue = createJobQueue(t.aws.sqs, t.cfg);
  const receive = async (name: QueueName): Promise<Received[]> => {
    const QueueUrl = await queue.url(name);
    const out: Received[] = [];
    // Until a receive comes back empty: what is visible now, every message once (each is deleted).
    for (;;) {
      const res = await t.aws.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
        }),
      );
      const messages = res.Messages ?? [];
      if (messages.length === 0) return out;
      for (const m of messages)
        out.push({
          body: m.Body ?? '',
          attributes: Object.fromEntries(
            Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? '']),
          ),
        });
      await t.aws.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl,
          Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  };
  return Promise.resolve({ queue, receive, close: () => Promise.resolve() });
});
