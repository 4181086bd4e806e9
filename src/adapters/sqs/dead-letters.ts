import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterSample } from '../../domain/jobs/dead-letter.ts';
import type { JobQueue, QueueName } from '../../domain/ports/job-queue.ts';

/**
 * Reads the reasons of up to ten dead-lettered messages without taking them: a receive with a
 * visibility timeout of 0 leaves each one visible, for a redrive or the next look. Callers cache by
 * depth (`cachedDeadLetters`): each look adds a receive to the messages it reads.
 */
export async function peekDeadLetters(
  sqs: SQSClient,
  queue: Pick<JobQueue, 'url'>,
  name: QueueName,
): Promise<DeadLetterSample[]> {
  const url = await queue.url(name);
  const res = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'],
    }),
  );
  // Visible again at once, also where a receive's VisibilityTimeout of 0 is read as "the queue's default"
  // (local emulators): a look must never hide a message from the redrive that follows it.
  const messages = res.Messages ?? [];
  if (messages.length > 0)
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: messages.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
      }),
    );
  return messages.map((m) => ({
    code: m.MessageAttributes?.['flants-code']?.StringValue,
    error: m.MessageAttributes?.['flants-error']?.StringValue,
  }));
}

/** peekDeadLetters read again only when a DLQ's depth changed (a page polls every 2 s). */
export function cachedDeadLetters(
  sqs: SQSClient,
  queue: Pick<JobQueue, 'url'>,
): (name: QueueName, visible: number) => Promise<DeadLetterSample[]> {
  const cache = new Map<QueueName, { visible: number; samples: Promise<DeadLetterSample[]> }>();
  return (name, visible) => {
    const hit = cache.get(name);
    if (hit && hit.visible === visible) return hit.samples;
    const samples = peekDeadLetters(sqs, queue, name);
    samples.catch(() => cache.delete(name));
    cache.set(name, { visible, samples });
    return samples;
  };
}
