import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { ZodType } from 'zod';
import type { QueueRole } from '../config.ts';
import { describeError, PoisonMessageError } from '../errors.ts';
import { parseMessage } from '../jobs/schemas.ts';
import type { Logger } from '../log.ts';
import type { JobQueue } from '../store/queue.ts';
import { mapLimit } from '../util/concurrency.ts';

export interface BatchContext {
  receiveCount: number;
  messageId: string;
  signal?: AbortSignal;
}

export interface BatchOptions<T> {
  role: QueueRole;
  schema: ZodType<T>;
  /** Messages of one batch handled at once. */
  concurrency: number;
  queue: JobQueue;
  log: Logger;
  /** Handles one message; returns false (or throws) for a failure that SQS should retry. */
  handle(message: T, ctx: BatchContext): Promise<boolean>;
  /** Called when a message fails on its last delivery, before SQS moves it to the DLQ. */
  onFinalFailure?(message: T, reason: string): Promise<void>;
  maxReceiveCount: number;
  signal?: AbortSignal;
  /**
   * While a message is being handled, extend its visibility every `everySeconds` to
   * `visibilitySeconds`, so a slow copy does not reappear for another worker mid-flight.
   */
  heartbeat?: { everySeconds: number; visibilitySeconds: number };
}

/**
 * Runs one SQS batch and reports only the failed messages (`batchItemFailures`). A poison
 * message goes straight to the DLQ with its reason and never fails the rest of the batch.
 */
export async function processBatch<T>(event: SQSEvent, opts: BatchOptions<T>): Promise<SQSBatchResponse> {
  const failures: string[] = [];
  await mapLimit(event.Records, opts.concurrency, async (record: SQSRecord) => {
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1) || 1;
    const log = opts.log.child({ messageId: record.messageId, receiveCount });
    let message: T | undefined;
    const beat = opts.heartbeat && record.receiptHandle ? startHeartbeat(opts, record.receiptHandle, log) : undefined;
    try {
      message = parseMessage(opts.schema, record.body, opts.role);
      const ok = await opts.handle(message, { receiveCount, messageId: record.messageId, ...(opts.signal ? { signal: opts.signal } : {}) });
      if (!ok) failures.push(record.messageId);
    } catch (err) {
      if (err instanceof PoisonMessageError) {
        try {
          await opts.queue.sendRaw(`${opts.role}-dlq`, record.body, { 'flants-error': err.message, 'flants-code': err.code, 'flants-source-message-id': record.messageId });
          log.error('poison message moved to DLQ', { reason: err.message });
        } catch (dlqErr) {
          // Could not move it: leave it to SQS, whose redrive policy moves it after its last receive.
          log.error('poison message could not be moved to DLQ', { reason: err.message, error: describeError(dlqErr) });
          failures.push(record.messageId);
        }
        return;
      }
      const reason = describeError(err);
      log.warn('message failed', { reason });
      failures.push(record.messageId);
      if (message !== undefined && receiveCount >= opts.maxReceiveCount && opts.onFinalFailure) {
        await opts.onFinalFailure(message, reason).catch((e: unknown) => log.error('could not record final failure', { error: describeError(e) }));
      }
    } finally {
      beat?.stop();
    }
  });
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}

function startHeartbeat<T>(opts: BatchOptions<T>, receiptHandle: string, log: Logger): { stop(): void } {
  const { everySeconds, visibilitySeconds } = opts.heartbeat!;
  const timer = setInterval(() => {
    opts.queue.extendVisibility(opts.role, receiptHandle, visibilitySeconds).catch((err: unknown) => log.warn('could not extend visibility', { error: describeError(err) }));
  }, everySeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
