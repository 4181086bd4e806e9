import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { ZodType } from 'zod';
import type { Lane, QueueRole } from '../domain/vocabulary.ts';
import { laneOfQueue, queueOf } from '../domain/lifecycle/lanes.ts';
import { DeadLetterError, describeError } from '../errors.ts';
import { parseMessage } from '../domain/jobs/schemas.ts';
import type { Logger } from '../log.ts';
import type { JobQueue, QueueName } from '../domain/ports/job-queue.ts';
import type { PipelineEvents } from './events.ts';
import { mapLimit } from '../util/concurrency.ts';

export interface BatchContext {
  receiveCount: number;
  messageId: string;
  /** The invocation's logger with this message's id (and receive count) on every line. */
  log: Logger;
  signal?: AbortSignal;
  /** The lane of the queue the message came from: what it sends onwards goes to the same lane. */
  lane: Lane;
}

export interface BatchOptions<T> {
  role: QueueRole;
  schema: ZodType<T>;
  /** Messages of one batch handled at once. */
  concurrency: number;
  queue: JobQueue;
  /** Where each failed delivery is announced (metrics count them). */
  events?: PipelineEvents;
  log: Logger;
  /**
   * Handles one message: resolves on success, throws a DeadLetterError for a job no retry can fix
   * (it goes to the DLQ at once), and throws anything else for a failure SQS should retry.
   */
  handle(message: T, ctx: BatchContext): Promise<void>;
  /**
   * The one place a failed delivery reaches the ledger: `final` on the last delivery before the DLQ
   * (or for a DeadLetterError), otherwise a note that SQS will try again.
   */
  recordFailure?(message: T, err: unknown, final: boolean): Promise<void>;
  /** Runs before the last delivery is handled, so a crash, timeout or OOM on it still leaves a record. */
  beforeFinalAttempt?(message: T): Promise<void>;
  maxReceiveCount: number;
  /** Seconds a failed delivery stays invisible, by delivery (1st, 2nd, ...): retries in minutes, not hours. */
  retryBackoffSeconds?: readonly number[];
  signal?: AbortSignal;
  /**
   * While a message is being handled, extend its visibility every `everySeconds` to
   * `visibilitySeconds`, so a slow copy does not reappear for another worker mid-flight.
   */
  heartbeat?: { everySeconds: number; visibilitySeconds: number };
}

/**
 * Runs one SQS batch and reports only the failed messages (`batchItemFailures`). It alone decides
 * what a failure means: a dead-letter error goes straight to the DLQ with its reason (never failing
 * the rest of the batch), anything else is retried after a backoff, and the ledger hears of each
 * failure through `recordFailure`, finally on the last delivery.
 */
export async function processBatch<T>(event: SQSEvent, opts: BatchOptions<T>): Promise<SQSBatchResponse> {
  const failures: string[] = [];
  announceLaneWait(event, opts);
  await mapLimit(event.Records, opts.concurrency, async (record: SQSRecord) => {
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1) || 1;
    const final = receiveCount >= opts.maxReceiveCount;
    // The queue this record came from (its event source mapping's ARN): its visibility, heartbeat and
    // DLQ are that queue's, so a retry stays in its lane and a fresh job never falls into the bulk lane.
    const lane = laneOfQueue(record.eventSourceARN);
    const own = queueOf(opts.role, lane);
    const log = opts.log.child({ messageId: record.messageId, receiveCount, ...(lane === 'fresh' ? { lane } : {}) });
    let message: T | undefined;
    const beat =
      opts.heartbeat && record.receiptHandle ? startHeartbeat(opts, own, record.receiptHandle, log) : undefined;
    try {
      message = parseMessage(opts.schema, record.body, opts.role);
      if (final && opts.beforeFinalAttempt) {
        const m = message;
        await opts
          .beforeFinalAttempt(m)
          .catch((e: unknown) =>
            log.error('could not record the last delivery before it ran', { error: describeError(e) }),
          );
      }
      await opts.handle(message, {
        receiveCount,
        messageId: record.messageId,
        log,
        lane,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      beat?.stop();
      const reason = describeError(err);
      if (err instanceof DeadLetterError) {
        if (message !== undefined) await record_(opts, message, err, true, log);
        try {
          await opts.queue.sendRaw(`${own}-dlq`, err.redriveBody ?? record.body, {
            'flants-error': err.message,
            'flants-code': err.code,
            'flants-source-message-id': record.messageId,
          });
          log.error('message moved to DLQ', { reason: err.message, code: err.code });
        } catch (dlqErr) {
          // Could not move it: leave it to SQS, whose redrive policy moves it after its last receive.
          log.error('message could not be moved to DLQ', { reason: err.message, error: describeError(dlqErr) });
          failures.push(record.messageId);
        }
        return;
      }
      if (final) log.error('message failed on its last delivery', { reason });
      else log.warn('message failed; SQS will deliver it again', { reason });
      failures.push(record.messageId);
      if (message !== undefined) await record_(opts, message, err, final, log);
      const backoff = opts.retryBackoffSeconds?.[Math.min(receiveCount, opts.retryBackoffSeconds.length) - 1];
      if (!final && backoff !== undefined && record.receiptHandle) {
        // Lambda leaves a reported failure invisible for the rest of the visibility timeout (an hour for
        // transfer); this brings the next delivery forward to the backoff.
        await opts.queue
          .extendVisibility(own, record.receiptHandle, backoff)
          .catch((e: unknown) => log.warn('could not set retry backoff', { error: describeError(e) }));
      }
    } finally {
      beat?.stop();
    }
  });
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}

/**
 * How long this batch's messages waited, per lane (now − SentTimestamp, the longest): the metric that
 * shows a fresh lane staying minutes old while the bulk lane is hours deep.
 */
function announceLaneWait<T>(event: SQSEvent, opts: BatchOptions<T>): void {
  if (!opts.events) return;
  const now = Date.now();
  const longest = new Map<Lane, number>();
  for (const r of event.Records) {
    const sent = Number(r.attributes?.SentTimestamp);
    if (!Number.isFinite(sent) || sent <= 0) continue;
    const lane = laneOfQueue(r.eventSourceARN);
    longest.set(lane, Math.max(longest.get(lane) ?? 0, (now - sent) / 1000));
  }
  for (const [lane, waitSeconds] of longest) opts.events.emit('laneWait', { stage: opts.role, lane, waitSeconds });
}

async function record_<T>(opts: BatchOptions<T>, message: T, err: unknown, final: boolean, log: Logger): Promise<void> {
  opts.events?.emit('deliveryFailed', { stage: opts.role, final });
  if (!opts.recordFailure) return;
  await opts.recordFailure(message, err, final).catch((e: unknown) =>
    log.error(final ? 'could not record final failure' : 'could not note failed attempt', {
      error: describeError(e),
    }),
  );
}

function startHeartbeat<T>(
  opts: BatchOptions<T>,
  own: QueueName,
  receiptHandle: string,
  log: Logger,
): { stop(): void } {
  const { everySeconds, visibilitySeconds } = opts.heartbeat!;
  const timer = setInterval(() => {
    opts.queue
      .extendVisibility(own, receiptHandle, visibilitySeconds)
      .catch((err: unknown) => log.warn('could not extend visibility', { error: describeError(err) }));
  }, everySeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
