import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { Config } from '../../config.ts';
import type { QueueName } from '../../domain/vocabulary.ts';
import { FlantsError } from '../../errors.ts';
import { parseQueueName } from '../../domain/lifecycle/lanes.ts';
import {
  AGE_PERIOD_SECONDS,
  AGE_WINDOW_MS,
  ageSource,
  latestAge,
  queryId,
  type QueueAge,
  type QueueAges,
} from '../../domain/lifecycle/queue-age.ts';

/** The SQS name of a FLAnts queue: the last segment of its configured URL, else the stage's name for it. */
export function sqsQueueName(
  cfg: Pick<Config, 'queueUrls' | 'queueNames' | 'freshQueueNames'>,
  name: QueueName,
): string {
  const known = cfg.queueUrls[name];
  if (known) return new URL(known).pathname.split('/').filter(Boolean).at(-1) ?? known;
  const parsed = parseQueueName(name);
  if (!parsed) throw new FlantsError('QUEUE_NOT_FOUND', `${name} is not a FLAnts queue`);
  const names = parsed.lane === 'fresh' ? cfg.freshQueueNames[parsed.role] : cfg.queueNames[parsed.role];
  return parsed.dlq ? names.dlq : names.queue;
}

/**
 * Queue ages from CloudWatch: one GetMetricData call for every queue asked, the Maximum of
 * AWS/SQS ApproximateAgeOfOldestMessage per minute over the last AGE_WINDOW_MS, newest first; each
 * queue's latest datapoint in that window is its figure (a queue without one is left out: unknown).
 */
export function createCloudWatchQueueAges(
  cw: Pick<CloudWatchClient, 'send'>,
  cfg: Pick<Config, 'queueUrls' | 'queueNames' | 'freshQueueNames'>,
  now: () => number = Date.now,
): QueueAges {
  return {
    async oldest(names) {
      const out = new Map<QueueName, QueueAge>();
      if (names.length === 0) return out;
      const at = now();
      // Whole minutes: CloudWatch aligns a 60 s period's datapoints to the minute anyway.
      const end = Math.ceil(at / 60_000) * 60_000;
      const res = await cw.send(
        new GetMetricDataCommand({
          StartTime: new Date(end - AGE_WINDOW_MS),
          EndTime: new Date(end),
          ScanBy: 'TimestampDescending',
          MetricDataQueries: names.map((name, i) => ({
            Id: queryId(i),
            ReturnData: true,
            MetricStat: {
              Metric: {
                Namespace: 'AWS/SQS',
                MetricName: 'ApproximateAgeOfOldestMessage',
                Dimensions: [{ Name: 'QueueName', Value: sqsQueueName(cfg, name) }],
              },
              Period: AGE_PERIOD_SECONDS,
              Stat: 'Maximum',
            },
          })),
        }),
      );
      // At most 12 queues × 15 points: far below one page (MaxDatapoints), so no NextToken to follow.
      for (const r of res.MetricDataResults ?? []) {
        const i = names.findIndex((_, j) => queryId(j) === r.Id);
        if (i < 0) continue;
        const age = latestAge(
          (r.Timestamps ?? []).map((t) => t.getTime()),
          r.Values ?? [],
          at,
        );
        if (age) out.set(names[i]!, age);
      }
      return out;
    },
  };
}

/**
 * The queue ages for this config where the queues are AWS's (or an endpoint serving CloudWatch is
 * configured); undefined for the local lab, whose queues are inspected directly (JobQueue.oldestSentAt).
 */
export function cloudWatchQueueAges(cfg: Config): { ages: QueueAges; destroy(): void } | undefined {
  const endpoint = cfg.aws.endpoints.cloudwatch;
  if (ageSource(cfg.aws.endpoints) !== 'cloudwatch') return undefined;
  const { credentials } = cfg.aws;
  const cw = new CloudWatchClient({
    ...(cfg.region ? { region: cfg.region } : {}),
    ...(credentials ? { credentials } : {}),
    ...(endpoint ? { endpoint } : {}),
  });
  return { ages: createCloudWatchQueueAges(cw, cfg), destroy: () => cw.destroy() };
}
