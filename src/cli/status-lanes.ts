import { QUEUE_ROLES, type Config } from '../config.ts';
import { queueOf } from '../lifecycle/lanes.ts';
import { formatSeconds } from '../pipeline/freshness.ts';
import { describeLaneFreshness, laneFreshness, type LaneFreshness } from '../pipeline/lane-freshness.ts';
import type { ClassRecord } from '../store/ledger.ts';
import type { JobQueue } from '../store/queue.ts';
import { describeError } from '../errors.ts';

/** One stage's lane as `flants status` shows it: messages pending, and how long the oldest has waited. */
export interface LaneStatus {
  queue: string;
  lane: 'fresh' | 'bulk';
  visible?: number;
  inFlight?: number;
  delayed?: number;
  /** Seconds since the oldest message was sent; absent where the endpoint cannot say (AWS: CloudWatch). */
  oldestSeconds?: number;
  error?: string;
}

/** Both lanes of every stage, fresh first; a queue that cannot be read says why. */
export async function readLanes(
  queue: Pick<JobQueue, 'depth' | 'oldestSentAt'>,
  now = Date.now(),
): Promise<LaneStatus[]> {
  return Promise.all(
    QUEUE_ROLES.flatMap((role) =>
      (['fresh', 'bulk'] as const).map(async (lane): Promise<LaneStatus> => {
        const name = queueOf(role, lane);
        try {
          const [d, sent] = await Promise.all([queue.depth(name), queue.oldestSentAt?.(name).catch(() => undefined)]);
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
          l.oldestSeconds ? `, oldest ${formatSeconds(l.oldestSeconds)}` : ''
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
): Promise<{ lanes: LaneStatus[]; laneFreshness: LaneFreshness; lines: string[] }> {
  const lanes = await readLanes(queue, now.getTime());
  const split = laneFreshness(records, now, cfg.fresh.withinHours);
  return { lanes, laneFreshness: split, lines: describeLanes(lanes, split) };
}
