import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { PoisonMessageError } from '../../src/errors.ts';
import { CrawlJobSchema, type CrawlJob } from '../../src/domain/jobs/schemas.ts';
import { createLogger } from '../../src/log.ts';
import { processBatch } from '../../src/pipeline/batch.ts';
import { createPipelineEvents } from '../../src/pipeline/events.ts';
import type { JobQueue } from '../../src/domain/ports/job-queue.ts';

// One branch at a time, with an in-memory queue: the real-SQS proof is in test/e2e and test/faults.
function recordingQueue() {
  const dlq: Array<{ name: string; body: string; attributes: Record<string, string> | undefined }> = [];
  const queue: JobQueue = {
    url: async (n) => n,
    sendAll: async () => undefined,
    sendRaw: async (name, body, attributes) => void dlq.push({ name, body, attributes }),
    depth: async () => ({ visible: 0, inFlight: 0, delayed: 0 }),
    extendVisibility: async () => undefined,
    visibilityTimeout: async () => 30,
  };
  return { queue, dlq };
}

const job = (classId: string) => JSON.stringify({ v: 2, type: 'crawl', classId, manifestUrl: 'http://o/m.m3u8' });
const event = (...bodies: Array<[string, string, number?]>): SQSEvent => ({
  Records: bodies.map(([messageId, body, receives]) => ({
    messageId,
    body,
    attributes: { ApproximateReceiveCount: String(receives ?? 1) },
  })) as SQSEvent['Records'],
});

describe('processBatch', () => {
  it('reports only failed messages and sends poison straight to the DLQ with its reason', async () => {
    const { queue, dlq } = recordingQueue();
    const finals: string[] = [];
    const notes: string[] = [];
    const res = await processBatch<CrawlJob>(
      event(
        ['ok', job('good')],
        ['bad-json', '{nope'],
        ['fails', job('flaky')],
        ['unknown', job('ghost')],
        ['last', job('flaky'), 3],
      ),
      {
        role: 'crawl',
        schema: CrawlJobSchema,
        concurrency: 2,
        queue,
        log: createLogger({}, 'silent'),
        maxReceiveCount: 3,
        handle: async (m) => {
          if (m.classId === 'ghost') throw new PoisonMessageError('unknown class ghost');
          if (m.classId === 'flaky') throw new Error('origin timed out');
        },
        recordFailure: async (m, err, final) =>
          void (final ? finals : notes).push(`${m.classId}: ${(err as Error).message}`),
      },
    );
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['fails', 'last']);
    expect(dlq.map((d) => [d.name, d.body, d.attributes?.['flants-error']])).toEqual(
      expect.arrayContaining([
        ['crawl-dlq', '{nope', 'crawl message is not JSON: "{nope"'],
        ['crawl-dlq', job('ghost'), 'unknown class ghost'],
      ]),
    );
    // The dead-lettered job is recorded as final before it moves; the retried one is noted, then final on its last delivery.
    expect(finals.sort()).toEqual(['flaky: origin timed out', 'ghost: unknown class ghost']);
    expect(notes).toEqual(['flaky: origin timed out']);
  });

  it('records the last delivery before running it, and spaces retries out by the backoff', async () => {
    const { queue } = recordingQueue();
    const visibility: Array<[string, number]> = [];
    queue.extendVisibility = async (_name, handle, seconds) => void visibility.push([handle, seconds]);
    const order: string[] = [];
    const events = createPipelineEvents();
    const failed: string[] = [];
    events.on('deliveryFailed', ({ stage, final }) => failed.push(`${stage}${final ? ' last' : ''}`));
    const ev = event(['a', job('first'), 1], ['b', job('second'), 2], ['c', job('last'), 3]);
    ev.Records.forEach((r) => (r.receiptHandle = `rh-${r.messageId}`));
    const res = await processBatch<CrawlJob>(ev, {
      role: 'crawl',
      schema: CrawlJobSchema,
      concurrency: 1,
      queue,
      log: createLogger({}, 'silent'),
      maxReceiveCount: 3,
      retryBackoffSeconds: [30, 300],
      events,
      beforeFinalAttempt: async (m) => void order.push(`before:${m.classId}`),
      handle: async (m) => {
        order.push(`handle:${m.classId}`);
        throw new Error('still broken');
      },
    });
    expect(res.batchItemFailures).toHaveLength(3);
    expect(order).toEqual(['handle:first', 'handle:second', 'before:last', 'handle:last']);
    // Every failed delivery is announced (metrics count them), the last one as such.
    expect(failed).toEqual(['crawl', 'crawl', 'crawl last']);
    // First failure visible again in 30 s, second in 300 s; the last goes to the DLQ by SQS's own policy.
    expect(visibility).toEqual([
      ['rh-a', 30],
      ['rh-b', 300],
    ]);
  });

  it('leaves a poison message to SQS if it cannot be moved to the DLQ', async () => {
    const { queue } = recordingQueue();
    queue.sendRaw = async () => {
      throw new Error('SQS down');
    };
    const res = await processBatch(event(['p', 'garbage']), {
      role: 'scan',
      schema: CrawlJobSchema,
      concurrency: 1,
      queue,
      log: createLogger({}, 'silent'),
      maxReceiveCount: 3,
      handle: async () => undefined,
    });
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'p' }]);
  });

  it('keeps a message in the lane it came from: its retry backoff, heartbeat and DLQ are its own queue, and the handler hears the lane', async () => {
    const { queue, dlq } = recordingQueue();
    const touched: string[] = [];
    queue.extendVisibility = async (name, handle) => void touched.push(`${name} ${handle}`);
    const lanes: string[] = [];
    const arn = (q: string) => `arn:aws:sqs:us-east-1:000000000000:flants-dev-${q}`;
    const ev: SQSEvent = {
      Records: [
        ['f-retry', job('fresh-flaky'), 'crawl-fresh'],
        ['f-poison', job('fresh-ghost'), 'crawl-fresh'],
        ['b-retry', job('bulk-flaky'), 'crawl'],
        ['b-poison', job('bulk-ghost'), 'crawl'],
      ].map(([messageId, body, q]) => ({
        messageId,
        body,
        receiptHandle: `h-${messageId}`,
        eventSourceARN: arn(q!),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now() - (q === 'crawl' ? 600_000 : 5_000)),
        },
      })) as SQSEvent['Records'],
    };
    const events = createPipelineEvents();
    const waits: Array<[string, number]> = [];
    events.on('laneWait', ({ lane, waitSeconds }) => void waits.push([lane, Math.round(waitSeconds / 10) * 10]));
    const res = await processBatch<CrawlJob>(ev, {
      role: 'crawl',
      schema: CrawlJobSchema,
      concurrency: 4,
      queue,
      events,
      log: createLogger({}, 'silent'),
      maxReceiveCount: 3,
      retryBackoffSeconds: [5],
      heartbeat: { everySeconds: 0.01, visibilitySeconds: 60 },
      handle: async (m, ctx) => {
        lanes.push(`${m.classId} ${ctx.lane}`);
        await new Promise((r) => setTimeout(r, 100));
        if (m.classId.endsWith('ghost')) throw new PoisonMessageError('unknown class');
        throw new Error('origin timed out');
      },
    });
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['b-retry', 'f-retry']);
    expect(lanes.sort()).toEqual(['bulk-flaky bulk', 'bulk-ghost bulk', 'fresh-flaky fresh', 'fresh-ghost fresh']);
    expect(dlq.map((d) => `${d.name} ${JSON.parse(d.body).classId}`).sort()).toEqual([
      'crawl-dlq bulk-ghost',
      'crawl-fresh-dlq fresh-ghost',
    ]);
    // How long each lane's messages waited, announced once per lane for the metrics.
    expect(waits.sort()).toEqual([
      ['bulk', 600],
      ['fresh', 10],
    ]);
    // Every visibility change (heartbeats and the retry backoff) was on the message's own queue.
    expect(new Set(touched)).toEqual(
      new Set(['crawl-fresh h-f-retry', 'crawl-fresh h-f-poison', 'crawl h-b-retry', 'crawl h-b-poison']),
    );
  });
});
