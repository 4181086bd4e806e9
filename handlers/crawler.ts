import { CrawlJobSchema } from '../src/domain/jobs/schemas.ts';
import { processBatch } from '../src/pipeline/batch.ts';
import { crawlOrFailFast, recordCrawlFailure } from '../src/pipeline/crawler.ts';
import { deferral, throttleCause, throttledNote } from '../src/pipeline/deferral.ts';
import type { Deps } from '../src/wiring/deps.ts';
import { inLane } from '../src/domain/ports/job-queue.ts';
import {
  heartbeatFor,
  invocationDeadline,
  invocationLogger,
  lambdaEntry,
  type SqsHandler,
} from '../src/wiring/lambda.ts';

/**
 * When the crawl must stop, given the invocation's remaining time: 30 s, or a quarter of it if
 * that is more, is kept for recording the plan and sending transfer jobs, or for reporting a
 * failure instead of being killed mid-crawl with the class left CRAWLING.
 */
export function crawlDeadlineMs(remainingMs: number): number {
  return Math.max(1_000, Math.min(remainingMs - 30_000, remainingMs * 0.75));
}

/** Crawl queue → crawler: playlists → class record + transfer jobs. */
export function createHandler(deps: Deps): SqsHandler {
  const base = deps.log.child({ fn: 'crawler' });
  const first = { cold: true };
  return async (event, context) => {
    const log = invocationLogger(base, context, first);
    // bodyTimeout only measures silence: a trickling origin is stopped by this deadline instead.
    const deadline = invocationDeadline(context, crawlDeadlineMs);
    const visibility = await deps.queue.visibilityTimeout('crawl');
    try {
      return await processBatch(event, {
        role: 'crawl',
        schema: CrawlJobSchema,
        concurrency: 2,
        queue: deps.queue,
        events: deps.events,
        log,
        maxReceiveCount: deps.cfg.maxReceiveCount,
        retryBackoffSeconds: deps.cfg.retryBackoffSeconds,
        heartbeat: heartbeatFor(visibility),
        signal: deadline.signal,
        handle: async (job, ctx) => {
          // What the crawl sends onwards (transfers, a later crawl of a growing class, a deferral) stays in its lane.
          const queue = inLane(deps.queue, ctx.lane);
          try {
            await crawlOrFailFast(
              job,
              { ...deps, queue, log: ctx.log.child({ classId: job.classId }) },
              { lane: ctx.lane, ...(ctx.signal ? { signal: ctx.signal } : {}) },
            );
          } catch (err) {
            // The origin throttled the crawl: back to the queue with a delay, no delivery spent.
            const decided = deferral(
              [throttleCause(err)],
              job.deferrals ?? 0,
              ctx.receiveCount >= deps.cfg.maxReceiveCount,
            );
            if (!decided) throw err;
            await queue.sendAll('crawl', [{ ...job, deferrals: (job.deferrals ?? 0) + 1 }], {
              delaySeconds: decided.delaySeconds,
            });
            deps.events.emit('deferred', { stage: 'crawl', delaySeconds: decided.delaySeconds });
            ctx.log.warn('crawl deferred: the origin throttled it', {
              classId: job.classId,
              note: throttledNote(decided.cause, 1, decided.delaySeconds, (job.deferrals ?? 0) + 1),
            });
          }
        },
        beforeFinalAttempt: (job) => recordCrawlFailure(job, undefined, true, deps.ledger),
        recordFailure: (job, err, final) => recordCrawlFailure(job, err, final, deps.ledger),
      });
    } finally {
      deadline.clear();
      await deps.originHealth.maybeReport(log);
    }
  };
}

/** The Lambda handler: dependencies from the environment, once per container. */
export const handler = lambdaEntry(createHandler);
