// The job queues as the pipeline sees them: the port every queue implements (src/adapters/sqs is the SQS
// one, src/adapters/memory the one unit tests use; both pass test/contracts/job-queue.contract.ts), and
// the lane a sender writes into, a view of any of them.
import type { Lane, QueueName } from '../vocabulary.ts';
import { parseQueueName, queueOf } from '../lifecycle/lanes.ts';

/** A queue by role and lane, or its dead-letter queue (`crawl`, `crawl-fresh`, `crawl-fresh-dlq`). */
export type { QueueName };

/** What the pipeline needs of its queues: send jobs by queue name, move dead letters, keep a message invisible. */
export interface JobQueue {
  /** The queue's address (SQS: its URL); what an event's source names. */
  url(name: QueueName): Promise<string>;
  /**
   * Sends every body (as JSON), whatever their number and size, in as few requests as the queue allows;
   * throws if any is still unsent. `delaySeconds` (0–900) keeps them invisible that long.
   */
  sendAll(name: QueueName, bodies: readonly unknown[], opts?: { delaySeconds?: number }): Promise<void>;
  /** Moves a raw message body to a dead-letter queue with the reason as attributes (values cut at 1,024 characters). */
  sendRaw(name: QueueName, body: string, attributes?: Record<string, string>): Promise<void>;
  depth(name: QueueName): Promise<{ visible: number; inFlight: number; delayed: number }>;
  /** Sets a received message's visibility: keeps a long copy ours, or spaces out the retries of a failed one. */
  extendVisibility(name: QueueName, receiptHandle: string, seconds: number): Promise<void>;
  /** The queue's visibility timeout, in seconds (read once per process). */
  visibilityTimeout(name: QueueName): Promise<number>;
  /**
   * When the oldest message still in the queue was sent (epoch ms; null when empty), where the queue
   * can say without receiving (a receive would count against the message's deliveries); undefined where
   * it cannot (SQS itself publishes the age only as the CloudWatch metric ApproximateAgeOfOldestMessage).
   */
  oldestSentAt?(name: QueueName): Promise<number | null | undefined>;
}

/**
 * The queue as seen from one lane: a job sent to a stage by its plain name (`crawl`) goes to that
 * stage's queue in this lane (`crawl-fresh`); names that already say a lane or a DLQ are left alone.
 * The pipeline's senders keep writing `sendAll('transfer', …)`; the handler gives them the lane.
 */
export function inLane<Q extends Pick<JobQueue, 'sendAll'>>(queue: Q, lane: Lane): Q {
  if (lane === 'bulk') return queue;
  return {
    ...queue,
    sendAll: (name: QueueName, bodies: readonly unknown[], opts?: { delaySeconds?: number }) => {
      const parsed = parseQueueName(name);
      const target = parsed && !parsed.dlq && parsed.lane === 'bulk' ? queueOf(parsed.role, lane) : name;
      return queue.sendAll(target, bodies, opts);
    },
  };
}
