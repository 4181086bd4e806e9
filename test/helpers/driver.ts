import { isRetryable } from '../../src/errors.ts';
import type { CrawlJob, TransferJob } from '../../src/domain/jobs/schemas.ts';
import { crawlJob } from '../../src/domain/jobs/envelopes.ts';
import { crawlOrFailFast, recordCrawlFailure, type CrawlerDeps } from '../../src/pipeline/crawler.ts';
import { recordTransferFailure, runTransfer } from '../../src/pipeline/transfer.ts';
import type { TransferDeps } from '../../src/pipeline/copy-file.ts';
import { parseQueueName } from '../../src/domain/lifecycle/lanes.ts';
import type { JobQueue, QueueName } from '../../src/domain/ports/job-queue.ts';

/** Deliveries of a job before it goes to its DLQ (serverless.yml's maxReceiveCount). */
const MAX_RECEIVES = 3;

/** What a run did: every handler outcome in order, and the jobs that went to a DLQ. */
export interface DriveResult {
  steps: number;
  outcomes: string[];
  deadLettered: Array<{ queue: 'crawl' | 'transfer'; job: CrawlJob | TransferJob; error: string }>;
}

/**
 * Runs the crawler's and the transfer's real functions over in-memory queues, the way SQS and the
 * batch would: each job delivered until it succeeds or its last delivery failed (then its failure
 * is recorded on the class, as the batch does, and it is dead-lettered). A run that has not
 * drained after `maxSteps` handler calls throws: a loop is a failure, never a hang.
 */
export class PipelineDriver {
  readonly crawls: CrawlJob[] = [];
  readonly transfers: TransferJob[] = [];

  constructor(
    readonly crawler: CrawlerDeps,
    readonly transfer: TransferDeps,
  ) {}

  /** A JobQueue whose sends land in this driver (everything else is the real queue's). */
  static queue(real: JobQueue, driver: () => PipelineDriver): JobQueue {
    return {
      ...real,
      sendAll: async (name: QueueName, bodies: readonly unknown[]) => {
        // Either lane: a change check sends its class's work to the fresh lane.
        const q = parseQueueName(name);
        if (q?.role === 'crawl' && !q.dlq) driver().crawls.push(...(bodies as CrawlJob[]));
        else if (q?.role === 'transfer' && !q.dlq) driver().transfers.push(...(bodies as TransferJob[]));
        else await real.sendAll(name, bodies);
      },
    };
  }

  /** Sends a crawl job as the scanner, `flants enqueue` or a change check would. */
  crawl(classId: string, manifestUrl: string, opts: { force?: boolean; recheck?: boolean } = {}): void {
    this.crawls.push(
      crawlJob({
        classId,
        manifestUrl,
        title: classId,
        requestedAt: new Date().toISOString(),
        ...(opts.force ? { force: true } : {}),
        ...(opts.recheck ? { recheck: true } : {}),
      }),
    );
  }

  async run(maxSteps = 200): Promise<DriveResult> {
    const out: DriveResult = { steps: 0, outcomes: [], deadLettered: [] };
    const step = () => {
      if (++out.steps > maxSteps)
        throw new Error(`the pipeline did not drain in ${maxSteps} steps: ${out.outcomes.slice(-10).join(', ')}`);
    };
    for (;;) {
      const crawl = this.crawls.shift();
      if (crawl) {
        for (let receive = 1; ; receive++) {
          step();
          try {
            const r = await crawlOrFailFast(crawl, this.crawler);
            out.outcomes.push(`crawl:${r.outcome}`);
            break;
          } catch (err) {
            const final = receive >= MAX_RECEIVES || !isRetryable(err);
            await recordCrawlFailure(crawl, err, final, this.crawler.ledger);
            if (final) {
              out.outcomes.push('crawl:dead-lettered');
              out.deadLettered.push({ queue: 'crawl', job: crawl, error: String(err) });
              break;
            }
          }
        }
        continue;
      }
      const job = this.transfers.shift();
      if (!job) return out;
      for (let receive = 1; ; receive++) {
        step();
        try {
          const r = await runTransfer(job, { receiveCount: receive }, this.transfer);
          out.outcomes.push(`transfer:${r.outcome}`);
          break;
        } catch (err) {
          const final = receive >= MAX_RECEIVES || !isRetryable(err);
          await recordTransferFailure(job, err, final, this.transfer.ledger);
          if (final) {
            out.outcomes.push('transfer:dead-lettered');
            out.deadLettered.push({ queue: 'transfer', job, error: String(err) });
            break;
          }
        }
      }
    }
  }
}
