import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { createHandler as crawlerHandler } from '../../handlers/crawler.ts';
import { createHandler as transferHandler } from '../../handlers/transfer.ts';
import type { Deps } from '../../src/wiring/deps.ts';
import type { SqsHandler } from '../../src/wiring/lambda.ts';

/** How many messages each handler took while draining. */
export interface Drained {
  crawl: number;
  transfer: number;
  /** True when the queues ran dry; false when `maxMessages` stopped it (a loop). */
  idle: boolean;
}

/**
 * Runs the crawl and transfer queues through the Lambdas' own handlers (processBatch → runCrawl /
 * runTransfer, failures and DLQ moves included), one batch at a time, until both queues are empty
 * or `maxMessages` were handled: a test of bounded work, with no runner and no timing.
 */
export async function drainPipeline(deps: Deps, opts: { maxMessages?: number } = {}): Promise<Drained> {
  const max = opts.maxMessages ?? 500;
  const handlers: Record<'crawl' | 'transfer', SqsHandler> = {
    crawl: crawlerHandler(deps),
    transfer: transferHandler(deps),
  };
  const out: Drained = { crawl: 0, transfer: 0, idle: false };
  const context = { getRemainingTimeInMillis: () => 600_000 };
  for (let empty = 0; out.crawl + out.transfer < max;) {
    let took = 0;
    for (const role of ['crawl', 'transfer'] as const) {
      const url = await deps.queue.url(role);
      const res = await deps.aws.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          // A long poll only while nothing arrives: a retried message comes back after its backoff.
          WaitTimeSeconds: empty > 0 ? 1 : 0,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      const messages = res.Messages ?? [];
      if (messages.length === 0) continue;
      const event: SQSEvent = {
        Records: messages.map((m) => ({
          messageId: m.MessageId!,
          receiptHandle: m.ReceiptHandle!,
          body: m.Body ?? '',
          attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1' },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: '',
          awsRegion: 'us-east-1',
        })) as unknown as SQSEvent['Records'],
      };
      const result = await handlers[role](event, context);
      const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      const done = messages.filter((m) => !failed.has(m.MessageId!));
      if (done.length)
        await deps.aws.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: done.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      out[role] += messages.length;
      took += messages.length;
    }
    if (took > 0) {
      empty = 0;
      continue;
    }
    // Two empty rounds in a row, with nothing in flight or delayed: nothing is left to do.
    const depths = await Promise.all([deps.queue.depth('crawl'), deps.queue.depth('transfer')]);
    if (depths.every((d) => d.visible + d.inFlight + d.delayed === 0) && ++empty >= 2) {
      out.idle = true;
      return out;
    }
  }
  return out;
}
