import { ChangeMessageVisibilityBatchCommand, type Message } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Consumer } from 'sqs-consumer';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { QUEUE_ROLES, type QueueRole } from '../domain/vocabulary.ts';
import { allQueues, queueOf } from '../domain/lifecycle/lanes.ts';
import { describeError } from '../errors.ts';
import type { JobQueue } from '../domain/ports/job-queue.ts';
import type { Deps } from '../wiring/deps.ts';
import type { ConsumerDefinition, ServiceDefinition } from './service-definition.ts';

type Handler = (event: SQSEvent, context: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SQSBatchResponse>;

export interface RunnerOptions {
  def: ServiceDefinition;
  /** What the handlers run with (their SQS client and queue are the runner's too). */
  deps: Deps;
  region: string;
  /**
   * Concurrent pollers per function and lane (Lambda's concurrency per event source mapping); defaults to
   * min(maximumConcurrency, 2). The fresh lane has its own pollers: its share, idle while it is empty.
   */
  concurrency?: Partial<Record<QueueRole, number>>;
  /** Seconds before a reported failure is visible again; Lambda waits the whole visibility timeout. */
  retryDelaySeconds?: number;
  /** Replaces a function's handler (tests use it to simulate crashes around the real one). */
  wrap?: (role: QueueRole, handler: Handler) => Handler;
}

export interface RunnerStats {
  batches: Record<QueueRole, number>;
  messages: Record<QueueRole, number>;
  failures: Record<QueueRole, number>;
  errors: number;
}

/**
 * Waits until no queue of the stage holds a visible, in-flight or delayed message (and `busy`
 * says nothing is being handled), twice in a row; false if that did not happen in time.
 */
export async function waitForIdleQueues(
  queue: Pick<JobQueue, 'depth'>,
  opts: { timeoutMs: number; pollMs?: number; busy?: () => boolean },
): Promise<boolean> {
  const deadline = Date.now() + opts.timeoutMs;
  let quiet = 0;
  while (Date.now() < deadline) {
    // While a handler here is running the answer is known: ask SQS (three requests) only when it is not.
    const busy =
      (opts.busy?.() ?? false) ||
      (await Promise.all(allQueues(QUEUE_ROLES).work.map((q) => queue.depth(q)))).some(
        (d) => d.visible + d.inFlight + d.delayed > 0,
      );
    quiet = busy ? 0 : quiet + 1;
    if (quiet >= 2) return true;
    await sleep(opts.pollMs ?? 250);
  }
  return false;
}

export interface Runner {
  readonly stats: RunnerStats;
  /** Resolves when every queue is empty and nothing is in flight (checked twice in a row). */
  untilIdle(opts?: { timeoutMs?: number; pollMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// The handlers serverless.yml names, as static imports: the built CLI (dist/) bundles them, and a bundle
// cannot import a .ts file by a path computed at run time. A module missing here is still found by path
// when the CLI runs from source (tsx).
const HANDLER_MODULES: Record<string, () => Promise<Record<string, unknown>>> = {
  'handlers/scanner': () => import('../../handlers/scanner.ts'),
  'handlers/crawler': () => import('../../handlers/crawler.ts'),
  'handlers/transfer': () => import('../../handlers/transfer.ts'),
};

/**
 * The function serverless.yml names, built with these dependencies: every handler module exports
 * `createHandler(deps)` beside the Lambda `handler` that builds its own from the environment.
 */
async function loadHandler(c: ConsumerDefinition, deps: Deps): Promise<Handler> {
  const load =
    HANDLER_MODULES[c.handlerModule] ??
    (() => import(pathToFileURL(`${ROOT}${c.handlerModule}.ts`).href) as Promise<Record<string, unknown>>);
  const mod = await load();
  const factory = mod.createHandler;
  if (typeof factory !== 'function') throw new Error(`${c.handlerModule}.ts does not export createHandler(deps)`);
  return (factory as (d: Deps) => Handler)(deps);
}

function toRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [
        k,
        { dataType: v.DataType ?? 'String', stringValue: v.StringValue },
      ]),
    ),
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * The local event source mapping: polls each queue with the batch size serverless.yml declares,
 * invokes the same handler function Lambda would, deletes only what succeeded, and leaves
 * reported failures to SQS (visibility timeout, receive counts, DLQ).
 */
export async function startRunner(opts: RunnerOptions): Promise<Runner> {
  const zero = () => ({ scan: 0, crawl: 0, transfer: 0 });
  const stats: RunnerStats = { batches: zero(), messages: zero(), failures: zero(), errors: 0 };
  const consumers: Consumer[] = [];
  let running = 0;

  for (const c of opts.def.consumers) {
    const queueUrl = await opts.deps.queue.url(queueOf(c.role, c.lane));
    const queueDef = opts.def.queues.find((q) => q.logicalId === c.queueLogicalId)!;
    const queueArn = `arn:aws:sqs:${opts.region}:000000000000:${queueDef.name}`;
    let handler = await loadHandler(c, opts.deps);
    if (opts.wrap) handler = opts.wrap(c.role, handler);
    const pollers = opts.concurrency?.[c.role] ?? Math.min(c.maximumConcurrency, 2);
    const log = opts.deps.log.child({ runner: c.function, ...(c.lane === 'fresh' ? { lane: c.lane } : {}) });
    for (let i = 0; i < pollers; i++) {
      const consumer = Consumer.create({
        queueUrl,
        sqs: opts.deps.aws.sqs,
        batchSize: Math.min(c.batchSize, 10),
        // Long polls answer as soon as a message arrives; a longer wait only saves idle receives
        // (a stop aborts the poll in flight).
        waitTimeSeconds: 5,
        attributeNames: ['All'] as never,
        messageSystemAttributeNames: ['All'],
        messageAttributeNames: ['All'],
        useQueueUrlAsEndpoint: false,
        handleMessageBatch: async (messages) => {
          running++;
          const started = Date.now();
          stats.batches[c.role]++;
          stats.messages[c.role] += messages.length;
          try {
            const event: SQSEvent = { Records: messages.map((m) => toRecord(m, queueArn, opts.region)) };
            let response: SQSBatchResponse;
            try {
              response = await handler(event, {
                getRemainingTimeInMillis: () => c.timeoutSeconds * 1000 - (Date.now() - started),
              });
            } catch (err) {
              // A thrown handler is a failed invocation: Lambda retries the whole batch.
              stats.errors++;
              log.error('handler threw; the whole batch will be retried', { error: describeError(err) });
              response = { batchItemFailures: messages.map((m) => ({ itemIdentifier: m.MessageId! })) };
            }
            const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
            stats.failures[c.role] += failed.size;
            if (failed.size > 0 && opts.retryDelaySeconds !== undefined) {
              const entries = messages
                .filter((m) => failed.has(m.MessageId!))
                .map((m, i) => ({
                  Id: `f${i}`,
                  ReceiptHandle: m.ReceiptHandle!,
                  VisibilityTimeout: opts.retryDelaySeconds,
                }));
              await opts.deps.aws.sqs
                .send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries }))
                .catch(() => undefined);
            }
            return messages.filter((m) => !failed.has(m.MessageId!));
          } finally {
            running--;
          }
        },
      });
      consumer.on('error', (err) => log.warn('poll error', { error: describeError(err) }));
      consumer.on('processing_error', (err) => log.warn('processing error', { error: describeError(err) }));
      consumer.start();
      consumers.push(consumer);
    }
  }

  return {
    stats,
    async untilIdle({ timeoutMs = 600_000, pollMs = 250 } = {}) {
      if (!(await waitForIdleQueues(opts.deps.queue, { timeoutMs, pollMs, busy: () => running > 0 }))) {
        throw new Error(`the pipeline did not go idle within ${Math.round(timeoutMs / 1000)}s`);
      }
    },
    async stop() {
      for (const c of consumers) c.stop({ abort: true });
      for (let i = 0; i < 200 && running > 0; i++) await sleep(25);
    },
  };
}
