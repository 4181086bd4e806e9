import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describeError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { HostCounters, OriginGate } from '../../domain/origin/gate.ts';

/**
 * The origin's answers as the fleet saw them, one ledger item per host and minute
 * (`pk=ORIGINS, sk=<minute>#<host>`, kept 2 days): every process adds its counts at most every
 * ORIGIN_REPORT_SECONDS (sooner after a throttle), and reads back in the same request what the
 * others added. That is how one process's 429s slow the others (docs/architecture.md).
 */
export const ORIGINS_PK = 'ORIGINS';

/** One host's answers over the minutes the dashboard shows. */
export interface OriginHealthRow {
  host: string;
  minutes: number;
  ok: number;
  throttled: number;
  distress: number;
  other: number;
  /** Mean milliseconds to an answer's headers (or the failure). */
  latencyMsMean: number | undefined;
  /** The last throttling answer (`HTTP 429`, …) and the minute it was counted in, if any. */
  lastThrottle: string | undefined;
  lastThrottleAt: string | undefined;
}

const minuteOf = (ms: number): string => new Date(Math.floor(ms / 60_000) * 60_000).toISOString().slice(0, 16);

/** Adds counters to the host's minute item; returns the fleet's throttled count of that minute. */
async function addCounters(
  ddb: DynamoDBDocumentClient,
  table: string,
  host: string,
  minute: string,
  c: HostCounters,
): Promise<number> {
  const res = await ddb.send(
    new UpdateCommand({
      TableName: table,
      Key: { pk: ORIGINS_PK, sk: `${minute}#${host}` },
      // Names for every attribute: several (host, other) are DynamoDB reserved words.
      UpdateExpression:
        'ADD #ok :ok, #th :th, #di :di, #ot :ot, #ls :ls SET #h = :h, #exp = :exp' +
        (c.lastThrottle ? ', #lt = :lt' : ''),
      ExpressionAttributeNames: {
        '#ok': 'ok',
        '#th': 'throttled',
        '#di': 'distress',
        '#ot': 'other',
        '#ls': 'latencyMsSum',
        '#h': 'host',
        '#exp': 'expiresAt',
        ...(c.lastThrottle ? { '#lt': 'lastThrottle' } : {}),
      },
      ExpressionAttributeValues: {
        ':ok': c.ok,
        ':th': c.throttled,
        ':di': c.distress,
        ':ot': c.other,
        ':ls': Math.round(c.latencyMsSum),
        ':h': host,
        ':exp': Math.floor(Date.now() / 1000) + 2 * 86_400,
        ...(c.lastThrottle ? { ':lt': c.lastThrottle } : {}),
      },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return Number(res.Attributes?.throttled ?? 0);
}

/**
 * Reports a process's origin answers to the ledger, at most every `everySeconds` (every 5 s
 * while the origin throttles), and tells the gate when other processes were throttled by a host
 * since its last report. Never throws: a report that fails is logged and its counts dropped.
 */
export class OriginHealthReporter {
  private last: number;
  /** Per host and minute: the fleet's throttled count as last read, and what this process added since. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly gate: OriginGate,
    private readonly everySeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.last = now();
    this.gate.onThrottle(() => {
      this.throttledSince = true;
    });
  }

  private throttledSince = false;

  /** Reports when it is time; called at the end of each batch. */
  async maybeReport(log: Logger): Promise<void> {
    const now = this.now();
    const due = Math.min(this.everySeconds * 1000, this.throttledSince ? 5_000 : Infinity);
    if (now - this.last < due) return;
    this.last = now;
    this.throttledSince = false;
    const minute = minuteOf(now);
    for (const [host, c] of this.gate.drain()) {
      try {
        const fleet = await addCounters(this.ddb, this.table, host, minute, c);
        const key = `${minute}#${host}`;
        const before = this.seen.get(key) ?? 0;
        this.seen.set(key, fleet);
        // Throttles others counted since this process last looked: the origin is struggling for them too.
        if (fleet - before - c.throttled > 0) this.gate.heardTrouble(host);
      } catch (err) {
        log.warn('could not report the origin answers to the ledger', { host, error: describeError(err) });
      }
    }
    if (this.seen.size > 256) this.seen.clear();
  }
}

/** The hosts' answers over the last `minutes` minutes (the current one included), busiest first. */
export async function recentOriginHealth(
  ddb: DynamoDBDocumentClient,
  table: string,
  minutes: number,
  nowMs: number = Date.now(),
): Promise<OriginHealthRow[]> {
  const from = minuteOf(nowMs - (minutes - 1) * 60_000);
  const rows = new Map<string, OriginHealthRow & { latencyMsSum: number }>();
  let start: Record<string, unknown> | undefined;
  do {
    const res = await ddb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND sk >= :from',
        ExpressionAttributeValues: { ':pk': ORIGINS_PK, ':from': from },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of res.Items ?? []) {
      const host = String(item.host ?? '');
      const r = rows.get(host) ?? {
        host,
        minutes,
        ok: 0,
        throttled: 0,
        distress: 0,
        other: 0,
        latencyMsMean: undefined,
        latencyMsSum: 0,
        lastThrottle: undefined,
        lastThrottleAt: undefined,
      };
      const n = (k: string) => Number(item[k] ?? 0) || 0;
      r.ok += n('ok');
      r.throttled += n('throttled');
      r.distress += n('distress');
      r.other += n('other');
      r.latencyMsSum += n('latencyMsSum');
      if (item.lastThrottle && n('throttled') > 0) {
        r.lastThrottle = String(item.lastThrottle);
        r.lastThrottleAt = String(item.sk).slice(0, 16);
      }
      rows.set(host, r);
    }
    start = res.LastEvaluatedKey;
  } while (start);
  return [...rows.values()]
    .map(({ latencyMsSum, ...r }) => {
      const answers = r.ok + r.throttled + r.distress + r.other;
      return { ...r, latencyMsMean: answers > 0 ? Math.round(latencyMsSum / answers) : undefined };
    })
    .sort((a, b) => b.ok + b.throttled - (a.ok + a.throttled) || a.host.localeCompare(b.host));
}
