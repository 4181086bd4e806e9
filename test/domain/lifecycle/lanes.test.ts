import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import {
  allQueues,
  crawlLane,
  endedRecently,
  enqueueLane,
  laneOfQueue,
  parseQueueName,
  pending,
  queueOf,
  scanLane,
  wasFresh,
} from '../../../src/domain/lifecycle/lanes.ts';

const now = new Date('2026-12-07T12:00:00.000Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000).toISOString();
const rules = { withinHours: 24, changed: true, enqueue: true };

describe('lanes: which queue', () => {
  it('names a stage queue per lane, and reads the lane back from a name, an SQS name or an ARN', () => {
    expect(queueOf('crawl', 'bulk')).toBe('crawl');
    expect(queueOf('crawl', 'fresh')).toBe('crawl-fresh');
    expect(laneOfQueue('transfer-fresh')).toBe('fresh');
    expect(laneOfQueue('transfer-fresh-dlq')).toBe('fresh');
    expect(laneOfQueue('arn:aws:sqs:us-east-1:000000000000:flants-dev-transfer-fresh')).toBe('fresh');
    expect(laneOfQueue('arn:aws:sqs:us-east-1:000000000000:flants-dev-transfer')).toBe('bulk');
    expect(laneOfQueue('flants-fresh-transfer')).toBe('bulk');
    expect(laneOfQueue('transfer-freshness')).toBe('bulk');
    expect(laneOfQueue('')).toBe('bulk');
    expect(laneOfQueue(undefined)).toBe('bulk');
  });

  it('parses every FLAnts queue name and refuses others', () => {
    expect(parseQueueName('scan')).toEqual({ role: 'scan', lane: 'bulk', dlq: false });
    expect(parseQueueName('scan-dlq')).toEqual({ role: 'scan', lane: 'bulk', dlq: true });
    expect(parseQueueName('crawl-fresh')).toEqual({ role: 'crawl', lane: 'fresh', dlq: false });
    expect(parseQueueName('transfer-fresh-dlq')).toEqual({ role: 'transfer', lane: 'fresh', dlq: true });
    expect(parseQueueName('transfer-dlq-fresh')).toBeUndefined();
    expect(parseQueueName('xtransfer')).toBeUndefined();
    expect(parseQueueName('transfer-freshx')).toBeUndefined();
  });

  it('lists every queue, the fresh lane first', () => {
    expect(allQueues(['scan', 'crawl'])).toEqual({
      work: ['scan-fresh', 'scan', 'crawl-fresh', 'crawl'],
      dlqs: ['scan-fresh-dlq', 'scan-dlq', 'crawl-fresh-dlq', 'crawl-dlq'],
    });
  });

  it('counts visible, in-flight and delayed messages as pending', () => {
    expect(pending({ visible: 1, inFlight: 2, delayed: 4 })).toBe(7);
  });
});

describe('lanes: what is fresh', () => {
  it('a class that ended within the window, at its edge inclusive; not before it, not in the future, not with 0 hours', () => {
    expect(endedRecently(hoursAgo(1), now, 24)).toBe(true);
    expect(endedRecently(hoursAgo(24), now, 24)).toBe(true);
    expect(endedRecently(new Date(now.getTime() - 24 * 3_600_000 - 1).toISOString(), now, 24)).toBe(false);
    expect(endedRecently(now.toISOString(), now, 24)).toBe(true);
    expect(endedRecently(new Date(now.getTime() + 1).toISOString(), now, 24)).toBe(false);
    expect(endedRecently(hoursAgo(1), now, 0)).toBe(false);
    // 0 hours turns age off entirely: not even a class that ended this very millisecond is fresh.
    expect(endedRecently(now.toISOString(), now, 0)).toBe(false);
    expect(endedRecently(undefined, now, 24)).toBe(false);
    expect(endedRecently('not a date', now, 24)).toBe(false);
  });

  it('the scanner sends recent ends and classes named by hand fresh, the rest (a backfill) bulk', () => {
    expect(scanLane({ endedAt: hoursAgo(2), explicit: false }, now, rules)).toBe('fresh');
    expect(scanLane({ endedAt: hoursAgo(200), explicit: false }, now, rules)).toBe('bulk');
    expect(scanLane({ endedAt: hoursAgo(200), explicit: true }, now, rules)).toBe('fresh');
    expect(scanLane({ endedAt: hoursAgo(200), explicit: true }, now, { ...rules, enqueue: false })).toBe('bulk');
    expect(scanLane({ endedAt: hoursAgo(2), explicit: true }, now, { ...rules, enqueue: false })).toBe('fresh');
    expect(scanLane({ endedAt: hoursAgo(2), explicit: false }, now, { ...rules, withinHours: 0 })).toBe('bulk');
  });

  it('a crawl keeps its lane; a change found moves bulk work to fresh only with FRESH_CHANGED', () => {
    expect(crawlLane('fresh', false, rules)).toBe('fresh');
    expect(crawlLane('fresh', false, { ...rules, changed: false })).toBe('fresh');
    expect(crawlLane('bulk', false, rules)).toBe('bulk');
    expect(crawlLane('bulk', true, rules)).toBe('fresh');
    expect(crawlLane('bulk', true, { ...rules, changed: false })).toBe('bulk');
  });

  it('flants enqueue uses the fresh lane unless FRESH_ENQUEUE is off', () => {
    expect(enqueueLane(rules)).toBe('fresh');
    expect(enqueueLane({ ...rules, enqueue: false })).toBe('bulk');
  });

  it('a completed class was fresh work when it ended at most the window before it was first enqueued', () => {
    expect(wasFresh({ freshFrom: hoursAgo(25), createdAt: hoursAgo(1) }, 24)).toBe(true);
    expect(wasFresh({ freshFrom: hoursAgo(25.001), createdAt: hoursAgo(1) }, 24)).toBe(false);
    expect(wasFresh({ freshFrom: hoursAgo(1), createdAt: hoursAgo(2) }, 24)).toBe(true);
    expect(wasFresh({ freshFrom: hoursAgo(1), createdAt: hoursAgo(2) }, 0)).toBe(true);
    expect(wasFresh({ freshFrom: hoursAgo(3), createdAt: hoursAgo(2) }, 0)).toBe(false);
    expect(wasFresh({ createdAt: hoursAgo(2) }, 24)).toBe(false);
    expect(wasFresh({ freshFrom: hoursAgo(2) }, 24)).toBe(false);
  });
});

describe('lanes: settings', () => {
  it('FRESH_WITHIN_HOURS (default 24), FRESH_CHANGED and FRESH_ENQUEUE (default on), validated by name', () => {
    expect(loadConfig({}).fresh).toEqual({ withinHours: 24, changed: true, enqueue: true });
    expect(loadConfig({ FRESH_WITHIN_HOURS: '0', FRESH_CHANGED: 'no', FRESH_ENQUEUE: 'false' }).fresh).toEqual({
      withinHours: 0,
      changed: false,
      enqueue: false,
    });
    expect(() => loadConfig({ FRESH_WITHIN_HOURS: '-1' })).toThrow(/FRESH_WITHIN_HOURS/);
    expect(() => loadConfig({ FRESH_WITHIN_HOURS: '9000' })).toThrow(/FRESH_WITHIN_HOURS/);
    expect(() => loadConfig({ FRESH_CHANGED: 'maybe' })).toThrow(/FRESH_CHANGED/);
    const c = loadConfig({ FLANTS_STAGE: 'prod', FLANTS_CRAWL_FRESH_QUEUE_URL: 'http://q/crawl-fresh' });
    expect(c.freshQueueNames.crawl).toEqual({ queue: 'flants-prod-crawl-fresh', dlq: 'flants-prod-crawl-fresh-dlq' });
    expect(c.queueUrls['crawl-fresh']).toBe('http://q/crawl-fresh');
  });
});
