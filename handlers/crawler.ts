import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { CrawlJobSchema } from '../src/jobs/schemas.ts';
import { processBatch } from '../src/pipeline/batch.ts';
import { crawlOrFailFast, recordCrawlFailure } from '../src/pipeline/crawler.ts';
import { sharedDeps } from '../src/pipeline/deps.ts';

/** Crawl queue → crawler: playlists → class record + transfer jobs. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const deps = sharedDeps();
  const log = deps.log.child({ fn: 'crawler' });
  const visibility = await deps.queue.visibilityTimeout('crawl');
  return processBatch(event, {
    role: 'crawl',
    schema: CrawlJobSchema,
    concurrency: 2,
    queue: deps.queue,
    log,
    maxReceiveCount: deps.cfg.maxReceiveCount,
    retryBackoffSeconds: deps.cfg.retryBackoffSeconds,
    heartbeat: { everySeconds: Math.max(1, Math.floor(visibility / 3)), visibilitySeconds: visibility },
    handle: async (job) => {
      await crawlOrFailFast(job, { ...deps, log: log.child({ classId: job.classId }) });
    },
    beforeFinalAttempt: (job) => recordCrawlFailure(job, undefined, true, deps.ledger),
    recordFailure: (job, err, final) => recordCrawlFailure(job, err, final, deps.ledger),
  });
}
