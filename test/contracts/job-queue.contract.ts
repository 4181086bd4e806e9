// The JobQueue contract: what the pipeline relies on of its queues when it sends (jobs in batches, delayed
// retries, dead letters with their reason, lanes), run against every implementation (the SQS adapter on
// the local server, the memory adapter the unit tests use).
import { describe, expect, it } from 'vitest';
import { inLane, type JobQueue, type QueueName } from '../../src/domain/ports/job-queue.ts';

/** A message as a receiver reads it. */
export interface Received {
  body: string;
  attributes: Record<string, string>;
}

export interface JobQueueHarness {
  queue: JobQueue;
  /** Receives (and removes) every message now visible in `name`: what a consumer would get. */
  receive(name: QueueName): Promise<Received[]>;
  close(): Promise<void>;
}

const sortedBodies = (r: Received[]) => r.map((m) => m.body).sort();

/**
 * Runs the contract against queues `make` opens. Each case uses queues no other case uses, so that
 * implementations whose queues outlive one `make` (a server's) never mix cases.
 */
export function describeJobQueueContract(name: string, make: () => Promise<JobQueueHarness>): void {
  describe(`JobQueue contract: ${name}`, () => {
    const withQueue = async (fn: (h: JobQueueHarness) => Promise<void>) => {
      const h = await make();
      try {
        await fn(h);
      } finally {
        await h.close();
      }
    };

    it('delivers every body once, as its JSON, to the queue named and no other', () =>
      withQueue(async ({ queue, receive }) => {
        const bodies = [{ v: 1, n: 1 }, { v: 1, n: 2, s: 'é ✓' }, 'plain', 42];
        await queue.sendAll('crawl', bodies);
        expect(sortedBodies(await receive('crawl'))).toEqual(bodies.map((b) => JSON.stringify(b)).sort());
        expect(await receive('crawl')).toEqual([]);
        expect(await receive('crawl-fresh')).toEqual([]);
      }));

    it('sends more bodies than one request carries, by count and by size, all of them', () =>
      withQueue(async ({ queue, receive }) => {
        const many = Array.from({ length: 25 }, (_, n) => ({ n }));
        await queue.sendAll('transfer', many);
        expect(sortedBodies(await receive('transfer'))).toEqual(many.map((b) => JSON.stringify(b)).sort());
        // Twelve bodies of 30 KiB: more than SQS's 256 KiB a request, fewer than its ten messages.
        const large = Array.from({ length: 12 }, (_, n) => ({ n, pad: 'x'.repeat(30 * 1024) }));
        await queue.sendAll('scan', large);
        expect(sortedBodies(await receive('scan'))).toEqual(large.map((b) => JSON.stringify(b)).sort());
      }));

    it('sends nothing for no bodies', () =>
      withQueue(async ({ queue, receive }) => {
        await queue.sendAll('crawl-fresh', []);
        expect(await receive('crawl-fresh')).toEqual([]);
      }));

    it('keeps delayed messages out of sight, and counts them as delayed', () =>
      withQueue(async ({ queue, receive }) => {
        await queue.sendAll('scan-fresh', [{ later: 1 }, { later: 2 }], { delaySeconds: 600 });
        expect(await receive('scan-fresh')).toEqual([]);
        expect(await queue.depth('scan-fresh')).toMatchObject({ visible: 0, delayed: 2 });
      }));

    it('counts what waits to be received', () =>
      withQueue(async ({ queue, receive }) => {
        await queue.sendAll('scan-dlq', [{ a: 1 }, { a: 2 }, { a: 3 }]);
        expect(await queue.depth('scan-dlq')).toMatchObject({ visible: 3, delayed: 0 });
        expect(await receive('scan-dlq')).toHaveLength(3);
      }));

    it('moves a raw body to a dead-letter queue with its reason as attributes, cut at 1,024 characters', () =>
      withQueue(async ({ queue, receive }) => {
        await queue.sendRaw('transfer-dlq', 'not json {', { reason: 'r'.repeat(2000), code: 'POISON_MESSAGE' });
        await queue.sendRaw('transfer-dlq', '', { reason: '' });
        const got = await receive('transfer-dlq');
        const raw = got.find((m) => m.body === 'not json {');
        expect(raw?.attributes).toEqual({ reason: 'r'.repeat(1024), code: 'POISON_MESSAGE' });
        expect(got.find((m) => m.body === '(empty)')?.attributes).toEqual({ reason: '-' });
        expect(got).toHaveLength(2);
      }));

    it('in the fresh lane, a job sent to a stage goes to that stage’s fresh queue; a DLQ stays itself', () =>
      withQueue(async ({ queue, receive }) => {
        const fresh = inLane(queue, 'fresh');
        await fresh.sendAll('transfer', [{ lane: 'fresh' }]);
        await fresh.sendAll('crawl-dlq', [{ lane: 'dlq' }]);
        expect(sortedBodies(await receive('transfer-fresh'))).toEqual([JSON.stringify({ lane: 'fresh' })]);
        expect(sortedBodies(await receive('crawl-dlq'))).toEqual([JSON.stringify({ lane: 'dlq' })]);
        expect(inLane(queue, 'bulk')).toBe(queue);
      }));

    it('names each queue by one address, and says how long a received message stays invisible', () =>
      withQueue(async ({ queue }) => {
        const url = await queue.url('crawl');
        expect(url).toBeTruthy();
        expect(await queue.url('crawl')).toBe(url);
        expect(await queue.url('crawl-fresh')).not.toBe(url);
        expect(await queue.visibilityTimeout('crawl')).toBeGreaterThan(0);
      }));
  });
}
