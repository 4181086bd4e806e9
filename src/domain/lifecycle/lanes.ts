import type { FreshRules, Lane, QueueName, QueueRole, WorkQueueName } from '../vocabulary.ts';

/**
 * Fresh first, as pure rules (docs/architecture.md, "Fresh first"): which
 * lane a class travels, and which queue a message came from. No AWS, no clock of its own.
 */

/** The work queue of a stage in a lane. */
export function queueOf(role: QueueRole, lane: Lane): WorkQueueName {
  return lane === 'fresh' ? `${role}-fresh` : role;
}

/** The lane a queue (by FLAnts name, or its SQS name or ARN) belongs to: its name ends `-fresh` or `-fresh-dlq`. */
export function laneOfQueue(name: string | undefined): Lane {
  return /-fresh(-dlq)?$/.test(name ?? '') ? 'fresh' : 'bulk';
}

/** The stage and lane of a FLAnts queue name; undefined for a name that is none. */
export function parseQueueName(name: string): { role: QueueRole; lane: Lane; dlq: boolean } | undefined {
  const m = /^(scan|crawl|transfer)(-fresh)?(-dlq)?$/.exec(name);
  if (!m) return undefined;
  return { role: m[1] as QueueRole, lane: m[2] ? 'fresh' : 'bulk', dlq: Boolean(m[3]) };
}

/** Every queue of the stage, fresh lane first (status, the dashboard and idle checks read them all). */
export function allQueues(roles: readonly QueueRole[]): { work: WorkQueueName[]; dlqs: QueueName[] } {
  const work = roles.flatMap((r) => [queueOf(r, 'fresh'), queueOf(r, 'bulk')]);
  return { work, dlqs: work.map((q) => `${q}-dlq` as const) };
}

/**
 * Did the class end recently enough to be fresh: ended at most `withinHours` before `now` (and not
 * after it: an end in the future is no end, `judgeEndedAt`). 0 hours: no class is fresh by age.
 */
export function endedRecently(endedAt: string | undefined, now: Date, withinHours: number): boolean {
  if (withinHours <= 0 || endedAt === undefined) return false;
  const ended = Date.parse(endedAt);
  if (!Number.isFinite(ended)) return false;
  const age = now.getTime() - ended;
  return age >= 0 && age <= withinHours * 3_600_000;
}

/**
 * The lane the scanner sends a class's crawl in: fresh when it ended recently, or when it was
 * named by hand (`flants enqueue`) and FRESH_ENQUEUE is on; bulk otherwise (a backfill).
 */
export function scanLane(cls: { endedAt?: string | undefined; explicit: boolean }, now: Date, rules: FreshRules): Lane {
  if (cls.explicit && rules.enqueue) return 'fresh';
  return endedRecently(cls.endedAt, now, rules.withinHours) ? 'fresh' : 'bulk';
}

/**
 * The lane a crawl sends its transfers in: the lane it came in on (a class never leaves the fresh
 * lane once in it), or fresh when a change check found the class changed and FRESH_CHANGED is on.
 */
export function crawlLane(arrived: Lane, changeFound: boolean, rules: FreshRules): Lane {
  return arrived === 'fresh' || (changeFound && rules.changed) ? 'fresh' : 'bulk';
}

/** The lane a `flants enqueue <classId>` request is sent in. */
export function enqueueLane(rules: FreshRules): Lane {
  return rules.enqueue ? 'fresh' : 'bulk';
}

/**
 * Whether a COMPLETE class was fresh work rather than backfill, from its record alone: what its
 * freshness counts from (its end, or the change that started its copy) was at most `withinHours`
 * before it was first enqueued. A backfill's class ended long before it was first seen.
 */
export function wasFresh(
  r: { freshFrom?: string | undefined; createdAt?: string | undefined },
  withinHours: number,
): boolean {
  // Stryker disable next-line StringLiteral: any non-date stand-in parses to NaN as well
  const from = Date.parse(r.freshFrom ?? '');
  // Stryker disable next-line StringLiteral: any non-date stand-in parses to NaN as well
  const created = Date.parse(r.createdAt ?? '');
  if (!Number.isFinite(from) || !Number.isFinite(created)) return false;
  return created - from <= withinHours * 3_600_000;
}

/** A queue's standing, for the lane columns of status and the dashboard. */
export interface LaneDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

/** Messages waiting or being worked on in a queue (what "depth" means on the lane rows). */
export function pending(d: LaneDepth): number {
  return d.visible + d.inFlight + d.delayed;
}
