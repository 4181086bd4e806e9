import type { QueueName } from '../vocabulary.ts';

/**
 * The age of a queue's oldest message as a metric reports it (issue 25), as pure rules: SQS tells a
 * queue's age only through CloudWatch (AWS/SQS ApproximateAgeOfOldestMessage, 1-minute periods,
 * published minutes late), so every figure carries the instant it describes. No AWS, no clock.
 */

/** A queue's oldest message as of an instant: when it was sent (epoch ms; null: the queue was empty). */
export interface QueueAge {
  sentAt: number | null;
  /** The instant the figure describes (epoch ms): the end of the metric's period, never later than now. */
  asOf: number;
}

/** Reads the oldest message of several queues at once (one metric request for the whole stage). */
export interface QueueAges {
  oldest(names: readonly QueueName[]): Promise<Map<QueueName, QueueAge>>;
}

/** The metric's period: SQS publishes its queue metrics per minute. */
export const AGE_PERIOD_SECONDS = 60;
/**
 * How far back a figure is still shown: SQS metrics arrive a few minutes late, and a queue that has
 * been idle stops publishing (or publishes rarely); an older figure says nothing about the queue now.
 */
export const AGE_WINDOW_MS = 15 * 60_000;

/** Where a queue's age can be read: an emulator that inspects queues (fauxqs), CloudWatch, or nowhere. */
export type AgeSource = 'inspect' | 'cloudwatch';

/**
 * An explicit CloudWatch endpoint (AWS_ENDPOINT_URL_CLOUDWATCH: an emulator that serves CloudWatch) is
 * asked; otherwise a configured SQS endpoint is the local lab, whose queues are inspected; without one
 * the queues are AWS's, whose age only CloudWatch tells.
 */
export function ageSource(endpoints: { sqs?: string | undefined; cloudwatch?: string | undefined }): AgeSource {
  if (endpoints.cloudwatch) return 'cloudwatch';
  return endpoints.sqs ? 'inspect' : 'cloudwatch';
}

/** The metric query id of the i-th queue (ids start with a lowercase letter; names may hold dashes). */
export function queryId(i: number): string {
  return `q${i}`;
}

/**
 * The latest usable datapoint of one queue's series: the newest timestamp (the period's start) no
 * older than `windowMs` before `now`, as a QueueAge. The metric's value is the age in seconds; 0 is an
 * empty queue. A figure describes the end of its period (capped at now), not the instant it was read.
 */
export function latestAge(
  timestamps: readonly number[],
  values: readonly number[],
  now: number,
  windowMs = AGE_WINDOW_MS,
  periodSeconds = AGE_PERIOD_SECONDS,
): QueueAge | undefined {
  let best = -1;
  timestamps.forEach((t, i) => {
    // A timestamp without a value is no datapoint (NaN is skipped like any value that is no age).
    const v = values[i] ?? Number.NaN;
    if (!Number.isFinite(t) || !Number.isFinite(v) || v < 0) return;
    if (now - t > windowMs) return;
    if (best < 0 || t > timestamps[best]!) best = i;
  });
  if (best < 0) return undefined;
  const asOf = Math.min(timestamps[best]! + periodSeconds * 1000, now);
  const age = values[best]!;
  return { sentAt: age === 0 ? null : asOf - age * 1000, asOf };
}

/** " (as of 4.0 min ago)": how old a metric's figure is; nothing for a live reading (no `asOf`). */
export function describeAsOf(asOfSecondsAgo: number | undefined, format: (s: number) => string): string {
  if (asOfSecondsAgo === undefined) return '';
  return ` (as of ${format(asOfSecondsAgo)} ago)`;
}
