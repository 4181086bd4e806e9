import type { Config } from '../config.ts';
import { QUEUE_ROLES } from '../domain/vocabulary.ts';
import { queueOf } from '../domain/lifecycle/lanes.ts';
import { formatSeconds } from '../views/freshness.ts';
import { describeLaneFreshness, laneFreshness, type LaneFreshness } from '../views/lane-freshness.ts';
import type { ClassRecord } from '../domain/ledger/records.ts';
import type { JobQueue } from '../domain/ports/job-queue.ts';
import { describeError } from '../errors.ts';
import { describeAsOf, type QueueAges } from '../domain/lifecycle/queue-age.ts';

/** One stage's lane as `flants status` shows it: messages pending, and how long the oldest has waited. */
export interface LaneStatus {
  queue: string;
  lane: 'fresh' | 'bulk';
  visible?: number;
  inFlight?: number;
  delayed?: number;
  /** Seconds since the oldest message was sent; absent where neither the endpoint nor a metric can say. */
  oldestSeconds?: number;
  /** How long ago `oldestSeconds` was measured, where it is a metric's figure (CloudWatch, minutes late). */
  asOfSeconds?: number;
  error?: string;
}

/**
 * Both lanes of every stage, fresh first; a queue that cannot be read says why. The age of the oldest
 * message is the endpoint's live reading where it has one, else `ages`' figure as of when it was measured.
 */
export async function readLanes(
  queue: Pick<JobQueue, 'depth' | 'oldestSentAt'>,
  now = Date.now(),
  ages?: QueueAges,
): Promise<LaneStatus[]> {
  const names = QUEUE_ROLES.flatMap((role) => (['fresh', 'bulk'] as const).map((lane) => queueOf(role, lane)));
  const measured = ages?.oldest(names).catch(() => undefined);
  return Promise.all(
    QUEUE_ROLES.flatMap((role) =>
      (['fresh', 'bulk'] as const).map(async (lane): Promise<LaneStatus> => {
        const name = queueOf(role, lane);
        try {
          const [d, sent, m] = await Promise.all([
            queue.depth(name),
            queue.oldestSentAt?.(name).catch(() => undefined),
            measured?.then((all) => all?.get(name)),
          ]);
          if (sent === undefined && m) {
            const oldest = m.sentAt === null ? 0 : Math.max(0, (m.asOf - m.sentAt) / 1000);
            return { queue: name, lane, ...d, oldestSeconds: oldest, asOfSeconds: Math.max(0, (now - m.asOf) / 1000) };
          }
          const oldest = typeof sent === 'number' ? Math.max(0, (now - sent) / 1000) : sent === null ? 0 : undefined;
          return { queue: name, lane, ...d, ...(oldest === undefined ? {} : { oldestSeconds: oldest }) };
        } catch (err) {
          return { queue: name, lane, error: describeError(err) };
        }
      }),
    ),
  );
}

/** The lines `flants status` prints about the lanes and about freshness, fresh work apart from the backfill. */
export function describeLanes(lanes: readonly LaneStatus[], split: LaneFreshness): string[] {
  const cells = lanes.map((l) =>
    l.error
      ? `${l.queue} ? (${l.error})`
      : `${l.queue} ${l.visible ?? 0}${l.inFlight ? ` (+${l.inFlight} in flight)` : ''}${l.delayed ? ` (+${l.delayed} delayed)` : ''}${
          l.oldestSeconds
            ? `, oldest ${formatSeconds(l.oldestSeconds)}${describeAsOf(l.asOfSeconds, formatSeconds)}`
            : ''
        }`,
  );
  return [`lanes: ${cells.join(' · ')}`, ...describeLaneFreshness(split)];
}

/** What status adds about lanes: their depths and freshness apart (text lines and JSON). */
export async function laneStatus(
  queue: Pick<JobQueue, 'depth' | 'oldestSentAt'>,
  records: readonly ClassRecord[],
  cfg: Pick<Config, 'fresh'>,
  now = new Date(),
  ages?: QueueAges,
): Promise<{ lanes: LaneStatus[]; laneFreshness: LaneFreshness; lines: string[] }> {
  const lanes = await readLanes(queue, now.getTime(), ages);
  const split = laneFreshness(records, now, cfg.fresh.withinHours);
  return { lanes, laneFreshness: split, lines: describeLanes(lanes, split) };
}
