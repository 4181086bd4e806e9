import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Config } from '../../config.ts';
import type { QueueName } from '../../domain/vocabulary.ts';
import { FlantsError } from '../../errors.ts';
import { parseQueueName } from '../../domain/lifecycle/lanes.ts';
import { withRetry } from '../../util/retry.ts';
import type { JobQueue } from '../../domain/ports/job-queue.ts';

const SQS_MAX_BATCH_BYTES = 256 * 1024;
/** Sends of a batch's refused entries: five in all, pauses drawn below 100, 200, 400 and 800 ms. */
const SEND_RETRY = { attempts: 5, baseDelayMs: 100, maxDelayMs: 800 } as const;

/** SQS-backed JobQueue; URLs come from FLANTS_*_QUEUE_URL or GetQueueUrl by the stage's names. */
export function createJobQueue(sqs: SQSClient, cfg: Config): JobQueue {
  const cache = new Map<QueueName, Promise<string>>();
  const visibility = new Map<QueueName, Promise<number>>();

  const url = (name: QueueName): Promise<string> => {
    const known = cfg.queueUrls[name];
    if (known) return Promise.resolve(known);
    let p = cache.get(name);
    if (!p) {
      const parsed = parseQueueName(name);
      if (!parsed) return Promise.reject(new FlantsError('QUEUE_NOT_FOUND', `${name} is not a FLAnts queue`));
      const names = parsed.lane === 'fresh' ? cfg.freshQueueNames[parsed.role] : cfg.queueNames[parsed.role];
      const queueName = parsed.dlq ? names.dlq : names.queue;
      p = sqs.send(new GetQueueUrlCommand({ QueueName: queueName })).then(
        (r) => {
          if (!r.QueueUrl) throw new FlantsError('QUEUE_NOT_FOUND', `queue ${queueName} has no URL`);
          return r.QueueUrl;
        },
        (err: unknown) => {
          cache.delete(name);
          throw new FlantsError(
            'QUEUE_NOT_FOUND',
            `cannot find queue ${queueName} (run "npx flants setup" locally, or deploy): ${(err as Error).message}`,
            { cause: err },
          );
        },
      );
      cache.set(name, p);
    }
    return p;
  };

  async function sendBatch(
    queueUrl: string,
    entries: Array<{ Id: string; MessageBody: string; DelaySeconds?: number }>,
  ): Promise<void> {
    let pending = entries;
    // Only what SQS refused through no fault of ours is sent again (a failed call is the SDK's to retry).
    await withRetry(
      async (attempt) => {
        const res = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
        const failed = new Set((res.Failed ?? []).map((f) => f.Id));
        const senderFault = (res.Failed ?? []).find((f) => f.SenderFault);
        if (senderFault)
          throw new FlantsError(
            'QUEUE_SEND_REFUSED',
            `SQS refused a message: ${senderFault.Code} ${senderFault.Message ?? ''}`,
          );
        pending = pending.filter((e) => failed.has(e.Id));
        if (pending.length > 0)
          throw new FlantsError(
            'QUEUE_SEND_FAILED',
            `SQS did not accept ${pending.length} messages after ${attempt} attempts`,
            { retryable: true },
          );
      },
      { ...SEND_RETRY, retryable: (err) => err instanceof FlantsError && err.code === 'QUEUE_SEND_FAILED' },
    );
  }

  return {
    url,
    async sendAll(name, bodies, opts = {}) {
      if (bodies.length === 0) return;
      const queueUrl = await url(name);
      const delay = opts.delaySeconds
        ? { DelaySeconds: Math.min(900, Math.max(0, Math.round(opts.delaySeconds))) }
        : {};
      const batches: Array<Array<{ Id: string; MessageBody: string; DelaySeconds?: number }>> = [];
      let batch: Array<{ Id: string; MessageBody: string; DelaySeconds?: number }> = [];
      let bytes = 0;
      for (const body of bodies) {
        const text = JSON.stringify(body);
        const size = Buffer.byteLength(text);
        if (batch.length === 10 || (batch.length > 0 && bytes + size > SQS_MAX_BATCH_BYTES)) {
          batches.push(batch);
          batch = [];
          bytes = 0;
        }
        batch.push({ Id: `m${batch.length}`, MessageBody: text, ...delay });
        bytes += size;
      }
      if (batch.length) batches.push(batch);
      // A few batches in flight at once: a class with thousands of chunks enqueues in seconds.
      const inFlight = 8;
      for (let i = 0; i < batches.length; i += inFlight) {
        await Promise.all(batches.slice(i, i + inFlight).map((b) => sendBatch(queueUrl, b)));
      }
    },
    async sendRaw(name, body, attributes = {}) {
      const MessageAttributes = Object.fromEntries(
        Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v.slice(0, 1024) || '-' }]),
      );
      await sqs.send(
        new SendMessageCommand({ QueueUrl: await url(name), MessageBody: body || '(empty)', MessageAttributes }),
      );
    },
    async extendVisibility(name, receiptHandle, seconds) {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: await url(name),
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    },
    visibilityTimeout(name) {
      let p = visibility.get(name);
      if (!p) {
        p = url(name)
          .then((u) => sqs.send(new GetQueueAttributesCommand({ QueueUrl: u, AttributeNames: ['VisibilityTimeout'] })))
          .then((r) => Number(r.Attributes?.VisibilityTimeout ?? 30));
        p.catch(() => visibility.delete(name));
        visibility.set(name, p);
      }
      return p;
    },
    async oldestSentAt(name) {
      // Only a local endpoint is asked: fauxqs inspects a queue without receiving from it. Anything else
      // (AWS, another emulator) answers undefined, and the dashboard points at CloudWatch instead.
      const endpoint = cfg.aws.endpoints.sqs;
      const parsed = parseQueueName(name);
      if (!endpoint || !parsed) return undefined;
      const names = parsed.lane === 'fresh' ? cfg.freshQueueNames[parsed.role] : cfg.queueNames[parsed.role];
      try {
        const res = await fetch(new URL(`/_fauxqs/queues/${parsed.dlq ? names.dlq : names.queue}`, endpoint), {
          signal: AbortSignal.timeout(2_000),
        });
        if (!res.ok) return undefined;
        return oldestOfInspection(await res.json());
      } catch {
        return undefined;
      }
    },
    async depth(name) {
      const res = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: await url(name),
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const a = res.Attributes ?? {};
      return {
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      };
    },
  };
}

/** When the oldest message of a fauxqs queue inspection was sent (null: none); undefined when it is not one. */
export function oldestOfInspection(body: unknown): number | null | undefined {
  const m = (body as { messages?: { ready?: unknown; delayed?: unknown; inflight?: unknown } } | null)?.messages;
  if (!m || !Array.isArray(m.ready) || !Array.isArray(m.delayed) || !Array.isArray(m.inflight)) return undefined;
  const sent = [
    ...(m.ready as Array<{ sentTimestamp?: unknown }>),
    ...(m.delayed as Array<{ sentTimestamp?: unknown }>),
    ...(m.inflight as Array<{ message?: { sentTimestamp?: unknown } }>).map((e) => e.message ?? {}),
  ]
    .map((x) => x.sentTimestamp)
    .filter((t): t is number => typeof t === 'number');
  // A reduce, not Math.min(...sent): a backlog holds more messages than a call has arguments.
  return sent.length === 0 ? null : sent.reduce((a, b) => Math.min(a, b));
}
