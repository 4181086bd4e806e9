import { describe, expect, it } from 'vitest';
import {
  AGE_PERIOD_SECONDS,
  AGE_WINDOW_MS,
  ageSource,
  describeAsOf,
  latestAge,
  queryId,
} from '../../../src/domain/lifecycle/queue-age.ts';
import { formatSeconds } from '../../../src/views/freshness.ts';

const NOW = Date.parse('2026-12-07T14:00:30Z');
const MIN = 60_000;

describe('where a queue age is read (issue 25)', () => {
  it('AWS (no SQS endpoint) and an explicit CloudWatch endpoint ask CloudWatch; the local lab inspects its queues', () => {
    expect(ageSource({})).toBe('cloudwatch');
    expect(ageSource({ sqs: 'http://127.0.0.1:4566' })).toBe('inspect');
    expect(ageSource({ sqs: 'http://127.0.0.1:4566', cloudwatch: 'http://127.0.0.1:5000' })).toBe('cloudwatch');
    expect(ageSource({ cloudwatch: 'http://127.0.0.1:5000' })).toBe('cloudwatch');
  });

  it('names metric queries q0, q1, … (CloudWatch ids start with a lowercase letter)', () => {
    expect(queryId(0)).toBe('q0');
    expect(queryId(11)).toBe('q11');
  });
});

describe('the latest datapoint of ApproximateAgeOfOldestMessage', () => {
  it('the window is 15 minutes of 1-minute periods', () => {
    expect(AGE_WINDOW_MS).toBe(15 * MIN);
    expect(AGE_PERIOD_SECONDS).toBe(60);
  });

  it('no datapoints: unknown', () => {
    expect(latestAge([], [], NOW)).toBeUndefined();
  });

  it('takes the newest timestamp whatever the order, as of the end of its minute', () => {
    const t1 = NOW - 5 * MIN;
    const t2 = NOW - 3 * MIN;
    const age = latestAge([t1, t2, NOW - 4 * MIN], [100, 250, 999], NOW);
    expect(age).toEqual({ asOf: t2 + MIN, sentAt: t2 + MIN - 250_000 });
    expect(latestAge([t2, t1], [250, 100], NOW)).toEqual(age);
  });

  it('a figure never describes an instant after now (the current minute)', () => {
    const t = NOW - 10_000;
    expect(latestAge([t], [42], NOW)).toEqual({ asOf: NOW, sentAt: NOW - 42_000 });
  });

  it('0 is an empty queue', () => {
    expect(latestAge([NOW - 2 * MIN], [0], NOW)).toEqual({ asOf: NOW - MIN, sentAt: null });
  });

  it('a datapoint older than the window is stale: unknown; one exactly at its edge still counts', () => {
    expect(latestAge([NOW - AGE_WINDOW_MS - 1], [60], NOW)).toBeUndefined();
    expect(latestAge([NOW - AGE_WINDOW_MS], [60], NOW)).toEqual({
      asOf: NOW - AGE_WINDOW_MS + MIN,
      sentAt: NOW - AGE_WINDOW_MS,
    });
    // A stale point does not hide a recent one, nor does a recent one need the stale one.
    expect(latestAge([NOW - 20 * MIN, NOW - 2 * MIN], [900, 30], NOW)?.asOf).toBe(NOW - MIN);
  });

  it('honours a window and period given', () => {
    expect(latestAge([NOW - 3 * MIN], [5], NOW, 2 * MIN)).toBeUndefined();
    expect(latestAge([NOW - 3 * MIN], [5], NOW, 3 * MIN, 120)).toEqual({ asOf: NOW - MIN, sentAt: NOW - MIN - 5_000 });
  });

  it('skips values that are no age (negative, not finite) and unmatched timestamps', () => {
    expect(latestAge([NOW - MIN], [-1], NOW)).toBeUndefined();
    expect(latestAge([NOW - MIN], [Number.NaN], NOW)).toBeUndefined();
    expect(latestAge([Number.NaN], [3], NOW)).toBeUndefined();
    expect(latestAge([NOW - 2 * MIN, NOW - MIN], [7], NOW)).toEqual({ asOf: NOW - MIN, sentAt: NOW - MIN - 7_000 });
    expect(latestAge([NOW - 3 * MIN, NOW - 2 * MIN], [-1, 9], NOW)?.sentAt).toBe(NOW - MIN - 9_000);
  });
});

describe('how old the figure is', () => {
  it('says "as of … ago" for a metric figure, nothing for a live reading', () => {
    expect(describeAsOf(undefined, formatSeconds)).toBe('');
    expect(describeAsOf(0, formatSeconds)).toBe(' (as of 0.0 s ago)');
    expect(describeAsOf(240, formatSeconds)).toBe(' (as of 4.0 min ago)');
  });
});
