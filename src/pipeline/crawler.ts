import type { Config } from '../config.ts';
import type { Lane } from '../domain/vocabulary.ts';
import { DeadLetterError, describeError, FlantsError, isRetryable } from '../errors.ts';
import { enumerateClass } from '../hls/enumerate.ts';
import { mpdRulesOf } from '../dash/hosts.ts';
import { judgeEndedAt } from '../domain/lifecycle/class-dates.ts';
import { classRoot } from '../hls/keys.ts';
import type { Origin } from '../domain/ports/origin.ts';
import { withPlaylistRetries } from './playlist-retries.ts';
import type { CrawlJob, TransferJob } from '../domain/jobs/schemas.ts';
import { transferJob } from '../domain/jobs/envelopes.ts';
import type { Logger } from '../log.ts';
import type { GoneFiles, LandedFile } from '../domain/ledger/records.ts';
import type { Ledger } from '../domain/ports/ledger.ts';
import { inLane, type JobQueue } from '../domain/ports/job-queue.ts';
import { crawlLane } from '../domain/lifecycle/lanes.ts';
import { chunkFiles, planIdOf } from '../domain/planning/chunking.ts';
import {
  admitCrawl,
  changedNote,
  decideGrowing,
  judgeCheck,
  listsRemoved,
  removedFiles,
} from '../domain/planning/crawl-decisions.ts';
import type { PipelineEvents } from './events.ts';
import { checkAgainstOrigin, type ChangeCheck } from './recheck.ts';

export interface CrawlerDeps {
  cfg: Config;
  /** Playlists are fetched; a change check also HEADs other files. */
  origin: Pick<Origin, 'fetchText' | 'head'>;
  ledger: Ledger;
  queue: JobQueue;
  log: Logger;
  /** Where retries and completions are announced (metrics and the lab listen). */
  events: PipelineEvents;
}

export interface CrawlResult {
  classId: string;
  /**
   * `waiting`: playlists may still grow; the class is crawled again later. For a change check
   * (`recheck` job): `unchanged`, or `not-checked` when the class is not COMPLETE (a copy under way
   * reads the origin as it is now; a FAILED class waits for its redrive).
   */
  outcome: 'planned' | 'already-complete' | 'waiting' | 'unchanged' | 'not-checked' | 'replan-spent';
  /** What a change check found, when the job was one. */
  check?: ChangeCheck;
  planId?: string;
  gen?: number;
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
  /** The clock the grace period for growing playlists is measured by. */
  now?: () => Date;
  /** The lane the job came in (its queue, already given as `deps.queue`); a change found may move it to fresh. */
  lane?: Lane;
}

/** Why a class stops re-planning: the playlist, what its origin does, and what to do about it. */
export function unstablePlaylistReason(job: CrawlJob, replan: NonNullable<CrawlJob['replan']>, max: number): string {
  // The query is left out: a signed token has no place in a failure record.
  const src = replan.src.split('?')[0];
  return (
    `playlist ${replan.key} (${src}) named other files than its plan after ${max} re-plans in a row (REPLAN_MAX=${max}): ` +
    `the origin serves it with URIs whose paths change on every request (a session id in a file name, such as ` +
    `chunklist_w123.m3u8), so no copy can hold to one version of it. Have the origin serve URIs that name the same ` +
    `files each time (a token in the query string is fine), or raise REPLAN_MAX if it was only settling after an ` +
    `update; then run "flants redrive --queue crawl" (or "flants enqueue ${job.classId}")`
  );
}

/** Handles one crawl job: enumerates every file of the class, records the plan, sends transfer jobs. */
export async function runCrawl(job: CrawlJob, deps: CrawlerDeps, opts: CrawlOptions = {}): Promise<CrawlResult> {
  const { cfg, ledger, log } = deps;
  const now = opts.now ?? (() => new Date());
  if (job.replan) {
    const spent = await spendReplan(job, job.replan, deps, now);
    if (spent) return spent;
  }
  const existing = await ledger.getClass(job.classId);
  const admission = admitCrawl(job, existing);
  if (admission === 'not-checked') {
    log.info('change check skipped: the class is not COMPLETE', { classId: job.classId, status: existing?.status });
    return { classId: job.classId, outcome: 'not-checked' };
  }
  if (admission === 'already-complete') {
    log.info('class already complete, crawl skipped', { classId: job.classId });
    return { classId: job.classId, outcome: 'already-complete' };
  }
  // The files the current generation copied: a change check compares them with the origin, a new plan lists what it dropped.
  let landed: LandedFile[] | undefined;
  let changedAt: string | undefined;
  let check: ChangeCheck | undefined;
  /** Files the check found gone at the origin: kept (their copies are the generation's), listed on the class. */
  let gone: GoneFiles | undefined;
  if (admission === 'check' && existing?.gen) {
    ({ landed, check } = await askOrigin(job.classId, existing.gen, deps, opts.signal));
    const finding = judgeCheck(check);
    gone = finding.gone;
    if (finding.verdict === 'unchanged') {
      await ledger.markChecked(job.classId, existing.gen, finding.note, gone);
      return { classId: job.classId, outcome: 'unchanged', check };
    }
    if (finding.verdict === 'changed') changedAt = now().toISOString();
    // 'compare-plans': files copied before sources were recorded cannot be asked about: the crawl below compares plans instead.
  }
  // A catalog default (the epoch) or an end in the future is no end: the record says why it was not believed.
  const ended = judgeEndedAt(job.endedAt, now());
  const info = { title: job.title, manifestUrl: job.manifestUrl, endedAt: ended.endedAt };
  await ledger.markCrawling(job.classId, info);
  const { files, growing } = await enumerate(job, deps, opts.signal);

  const warnings: string[] = ended.warning ? [ended.warning] : [];
  const growth = decideGrowing(
    {
      growing,
      endedAt: ended.endedAt,
      endedWarning: ended.warning,
      waitingSince: existing?.waitingSince,
      requestedAt: job.requestedAt,
      graceSeconds: cfg.growing.graceSeconds,
    },
    now(),
  );
  if (growth.action === 'wait') {
    // The class may still be growing: wait, and look again soon, rather than copy half of it.
    const { until, since, reason } = growth;
    await ledger.markWaiting(job.classId, { ...info, reason, until, since });
    // A re-plan a transfer asked for is counted already: the crawl that follows is a plain one (its
    // request would be spent, and a class still TRANSFERRING would be left with no job at all).
    const { replan: _counted, ...again } = job;
    await deps.queue.sendAll('crawl', [again], { delaySeconds: Math.min(900, cfg.growing.recheckSeconds) });
    log.info('class waiting for growing playlists', { classId: job.classId, growing: growing.length, until });
    return { classId: job.classId, outcome: 'waiting' };
  }
  if (growth.warning) warnings.push(growth.warning);

  const planId = planIdOf(files, cfg.transfer.chunkFiles);
  const chunks = chunkFiles(files, cfg.transfer.chunkFiles);
  if (job.recheck && existing && !changedAt) {
    // The legacy comparison (see above): any difference in playlists or files shows in the plan id.
    if (planId === existing.planId) {
      await ledger.markChecked(job.classId, existing.gen ?? 0, 'unchanged: same plan', gone);
      return { classId: job.classId, outcome: 'unchanged', ...(check ? { check } : {}) };
    }
    changedAt = now().toISOString();
  }
  if (changedAt && existing?.gen) await ledger.markChecked(job.classId, existing.gen, changedNote(check?.changes));
  const forcedAt = job.force ? job.requestedAt : undefined;
  // Files an earlier generation copied that this plan no longer has: listed on the class, never deleted.
  let removed: string[] | undefined;
  if (existing?.gen && listsRemoved(existing, planId, Boolean(forcedAt || changedAt))) {
    landed ??= (await ledger.listChunks(job.classId, existing.gen)).flatMap((c) => c.files);
    removed = removedFiles(
      existing.removedFiles,
      landed.map((f) => f.key),
      files.map((f) => f.key),
    );
  }
  const plan = await ledger.recordPlan(job.classId, {
    planId,
    totalFiles: files.length,
    totalChunks: chunks.length,
    forcedAt,
    changedAt,
    ...(removed ? { removed } : {}),
    warnings,
    ...(job.replan ? { replan: true } : {}),
  });
  if (plan.outcome === 'complete') {
    log.info('class already complete, plan unchanged', { classId: job.classId, planId });
    return { classId: job.classId, outcome: 'already-complete', planId, gen: plan.gen };
  }
  if (removed?.length && plan.outcome === 'new')
    log.warn('files of an earlier generation are no longer in the plan; left in the bucket', {
      classId: job.classId,
      removed: removed.length,
      first: removed.slice(0, 5),
    });
  const jobs: TransferJob[] = [];
  chunks.forEach((chunk, i) => {
    if (plan.done.has(i)) return;
    jobs.push(
      transferJob({
        classId: job.classId,
        gen: plan.gen,
        planId,
        chunk: i,
        // Any generation after the first may find its files in the bucket already: compare before writing.
        ...(plan.gen > 1 ? { recopy: true } : {}),
        // The round this job belongs to: a changed playlist it finds asks for one re-plan of this round.
        ...(plan.replans ? { replans: plan.replans } : {}),
        files: chunk.map((f) => ({
          src: f.src,
          key: f.key,
          kind: f.kind,
          ...(f.sha256 ? { sha256: f.sha256, bytes: f.bytes } : {}),
          ...(f.refs ? { refs: f.refs } : {}),
          ...(f.base ? { base: f.base } : {}),
          ...(f.vars ? { vars: f.vars } : {}),
        })),
      }),
    );
  });
  // A change check's finding is news: its copy overtakes the backfill (FRESH_CHANGED).
  const lane = crawlLane(opts.lane ?? 'bulk', changedAt !== undefined, cfg.fresh);
  await (lane === (opts.lane ?? 'bulk') ? deps.queue : inLane(deps.queue, lane)).sendAll('transfer', jobs);
  if (plan.completed) {
    log.info('class complete', { classId: job.classId, planId, freshnessSeconds: plan.freshnessSeconds });
    deps.events.emit('classComplete', {
      classId: job.classId,
      gen: plan.gen,
      ...(plan.freshnessSeconds !== undefined ? { freshnessSeconds: plan.freshnessSeconds } : {}),
    });
  }
  log.info('class planned', {
    classId: job.classId,
    planId,
    gen: plan.gen,
    outcome: plan.outcome,
    files: files.length,
    chunks: chunks.length,
    sent: jobs.length,
  });
  return {
    classId: job.classId,
    outcome: 'planned',
    planId,
    gen: plan.gen,
    files: files.length,
    chunks: chunks.length,
    sent: jobs.length,
    completed: plan.completed,
    ...(check ? { check } : {}),
  };
}

/**
 * A crawl a transfer asked for when a playlist named other files than the plan: one re-plan per round,
 * a bounded run of them. Returns the result when this round's re-plan is spent already; throws when the
 * run of re-plans is over (the class is FAILED).
 */
async function spendReplan(
  job: CrawlJob,
  replan: NonNullable<CrawlJob['replan']>,
  { cfg, ledger, log }: CrawlerDeps,
  now: () => Date,
): Promise<CrawlResult | undefined> {
  const reason = unstablePlaylistReason(job, replan, cfg.replanMax);
  const asked = await ledger.requestReplan(job.classId, {
    gen: replan.gen,
    replans: replan.replans,
    max: cfg.replanMax,
    reason,
  });
  if (asked === 'stale') {
    log.info('re-plan already made for this round, or the class moved on', { classId: job.classId, ...replan });
    return { classId: job.classId, outcome: 'replan-spent' };
  }
  if (asked === 'failed') {
    const { replan: _spent, ...plain } = job;
    // The class is FAILED with the reason; the DLQ keeps a plain crawl of it, which a redrive runs from zero.
    throw new DeadLetterError('PLAYLIST_UNSTABLE', reason, undefined, {
      redriveAs: { ...plain, requestedAt: now().toISOString() },
    });
  }
  return undefined;
}

/** A change check: the files generation `gen` copied, asked about at the origin. */
async function askOrigin(
  classId: string,
  gen: number,
  { cfg, ledger, log, origin }: CrawlerDeps,
  signal: AbortSignal | undefined,
): Promise<{ landed: LandedFile[]; check: ChangeCheck }> {
  const landed = (await ledger.listChunks(classId, gen)).flatMap((c) => c.files);
  const check = await checkAgainstOrigin(landed, origin, {
    root: classRoot(cfg.destPrefix, classId),
    files: cfg.recheck.files,
    concurrency: cfg.recheck.concurrency,
    maxPlaylistBytes: cfg.hls.maxPlaylistBytes,
    dash: mpdRulesOf(cfg),
    retry: { attempts: cfg.transfer.retryAttempts, baseDelayMs: cfg.transfer.retryBaseDelayMs },
    ...(signal ? { signal } : {}),
  });
  log.info('change check', {
    classId,
    gen,
    changed: check.changed,
    checked: check.checked,
    unknown: check.unknown,
    requests: check.requests,
    changes: check.changes,
    gone: check.gone.length,
  });
  return { landed, check };
}

/** Every file of the class, and its playlists that may still grow. */
async function enumerate(
  job: CrawlJob,
  { cfg, origin: direct, events }: CrawlerDeps,
  signal: AbortSignal | undefined,
): ReturnType<typeof enumerateClass> {
  // Transient origin trouble is retried here; what still fails returns the job to its queue.
  const origin = withPlaylistRetries(direct, {
    attempts: cfg.transfer.retryAttempts,
    baseDelayMs: cfg.transfer.retryBaseDelayMs,
    onRetry: (url, error) => void events.emit('retry', { stage: 'crawl', src: url, error }),
  });
  return enumerateClass(job.manifestUrl, origin, {
    limits: cfg.hls,
    // Each class has its own key root: no file of another class can ever share a key with it.
    destPrefix: classRoot(cfg.destPrefix, job.classId),
    allowedHosts: cfg.originAllowedHosts,
    ...(signal ? { signal } : {}),
  });
}

/**
 * Runs a crawl; a failure no retry can fix (not a playlist, a disallowed host, a 404, a cap) is a
 * DeadLetterError: the batch records it on the class at once and sends the job to the DLQ for a
 * redrive after the fix.
 */
export async function crawlOrFailFast(job: CrawlJob, deps: CrawlerDeps, opts: CrawlOptions = {}): Promise<CrawlResult> {
  try {
    return await runCrawl(job, deps, opts);
  } catch (err) {
    if (isRetryable(err) || err instanceof DeadLetterError) throw err;
    throw new DeadLetterError(err instanceof FlantsError ? err.code : 'CRAWL_FAILED', describeError(err), err);
  }
}

/**
 * Tells the ledger about a failed crawl delivery: on the last one (or a dead-letter error) the class
 * is FAILED with the reason. With no error, the last delivery is starting and the record says it did
 * not finish, so a crash or timeout leaves the class FAILED instead of CRAWLING.
 */
export async function recordCrawlFailure(job: CrawlJob, err: unknown, final: boolean, ledger: Ledger): Promise<void> {
  if (!final) return;
  // Already recorded by the lifecycle's own decision (the re-plan limit), with its reason.
  if (err instanceof FlantsError && err.code === 'PLAYLIST_UNSTABLE') return;
  const reason =
    err === undefined
      ? 'the last crawl delivery did not finish (the function crashed or timed out)'
      : describeError(err);
  await ledger.failCrawl(job.classId, `crawl failed: ${reason}`, {
    provisional: err === undefined,
    info: {
      manifestUrl: job.manifestUrl,
      ...(job.title ? { title: job.title } : {}),
      ...(job.endedAt ? { endedAt: job.endedAt } : {}),
    },
  });
}
