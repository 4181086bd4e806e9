import type { Config } from '../config.ts';
import { describeError, isRetryable, PoisonMessageError } from '../errors.ts';
import { planClass } from '../hls/enumerate.ts';
import { classRoot } from '../hls/keys.ts';
import type { PlaylistFetcher } from '../hls/types.ts';
import { withPlaylistRetries } from '../origin/retrying.ts';
import { MESSAGE_VERSION, type CrawlJob, type TransferJob } from '../jobs/schemas.ts';
import type { Logger } from '../log.ts';
import type { Ledger } from '../store/ledger.ts';
import type { JobQueue } from '../store/queue.ts';
import { chunkFiles, planIdOf } from './chunking.ts';

export interface CrawlerDeps {
  cfg: Config;
  origin: PlaylistFetcher;
  ledger: Ledger;
  queue: JobQueue;
  log: Logger;
  onClassComplete?: (classId: string) => void;
  onRetry?: (file: { key: string; src: string }, err: unknown) => void;
}

export interface CrawlResult {
  classId: string;
  outcome: 'planned' | 'already-complete';
  planId?: string;
  files?: number;
  chunks?: number;
  /** Transfer jobs sent (chunks of this plan not yet done). */
  sent?: number;
  completed?: boolean;
}

/** Per-delivery options of a crawl. */
export interface CrawlOptions {
  /** Aborts the crawl at its deadline (the handler derives it from the Lambda's remaining time). */
  signal?: AbortSignal;
}

/** Handles one crawl job: enumerates every file of the class, records the plan, sends transfer jobs. */
export async function runCrawl(job: CrawlJob, deps: CrawlerDeps, opts: CrawlOptions = {}): Promise<CrawlResult> {
  const { cfg, ledger, log } = deps;
  const existing = await ledger.getClass(job.classId);
  if (existing?.status === 'COMPLETE' && !job.force) {
    log.info('class already complete, crawl skipped', { classId: job.classId });
    return { classId: job.classId, outcome: 'already-complete' };
  }
  await ledger.markCrawling(job.classId, { title: job.title, manifestUrl: job.manifestUrl });
  // Transient origin trouble is retried here; what still fails returns the job to its queue.
  const origin = withPlaylistRetries(deps.origin, {
    attempts: cfg.transfer.retryAttempts,
    baseDelayMs: cfg.transfer.retryBaseDelayMs,
    onRetry: (url, err) => deps.onRetry?.({ key: '', src: url }, err),
  });
  const files = await planClass(job.manifestUrl, origin, {
    limits: cfg.hls,
    // Each class has its own key root: no file of another class can ever share a key with it.
    destPrefix: classRoot(cfg.destPrefix, job.classId),
    allowedHosts: cfg.originAllowedHosts,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  // A forced copy is a new generation; a redelivered forced job carries the same requestedAt.
  const planId = planIdOf(files, job.force ? `force:${job.requestedAt ?? ''}` : '');
  const chunks = chunkFiles(files, cfg.transfer.chunkFiles);
  const done = await ledger.recordPlan(job.classId, { planId, totalFiles: files.length, totalChunks: chunks.length });
  const jobs: TransferJob[] = [];
  chunks.forEach((chunk, i) => {
    if (done.has(i)) return;
    jobs.push({ v: MESSAGE_VERSION, type: 'transfer', classId: job.classId, planId, chunk: i, files: chunk.map((f) => ({ src: f.src, key: f.key, kind: f.kind })) });
  });
  await deps.queue.sendAll('transfer', jobs);
  // Every chunk already done (a crash after the last chunk, before COMPLETE): finish it here.
  const completed = jobs.length === 0 ? await ledger.tryComplete(job.classId, planId) : false;
  if (completed) {
    log.info('class complete', { classId: job.classId, planId });
    deps.onClassComplete?.(job.classId);
  }
  log.info('class planned', { classId: job.classId, planId, files: files.length, chunks: chunks.length, sent: jobs.length });
  return { classId: job.classId, outcome: 'planned', planId, files: files.length, chunks: chunks.length, sent: jobs.length, completed };
}

/**
 * Runs a crawl; a failure no retry can fix (not a playlist, a disallowed host, a 404, a cap)
 * fails the class at once with its reason and sends the job to the DLQ for a redrive after the fix.
 */
export async function crawlOrFailFast(job: CrawlJob, deps: CrawlerDeps, opts: CrawlOptions = {}): Promise<CrawlResult> {
  try {
    return await runCrawl(job, deps, opts);
  } catch (err) {
    if (isRetryable(err) || err instanceof PoisonMessageError) throw err;
    const reason = describeError(err);
    await deps.ledger.failClass(job.classId, `crawl failed: ${reason}`);
    throw new PoisonMessageError(`class ${job.classId} cannot be crawled: ${reason}`, err);
  }
}
