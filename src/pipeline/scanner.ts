import { createHash } from 'node:crypto';
import type { Config } from '../config.ts';
import { mapLimit } from '../util/concurrency.ts';
import { PoisonMessageError } from '../errors.ts';
import type { CrawlJob, ScanRequest } from '../jobs/schemas.ts';
import { MESSAGE_VERSION } from '../jobs/schemas.ts';
import type { Logger } from '../log.ts';
import { classIdOf, type Catalog, type IdPhase } from '../store/catalog.ts';
import type { ClassRecord, Ledger } from '../store/ledger.ts';
import { newScanId, type JobQueue } from '../store/queue.ts';
import { judgeClass, type ReadyClass, type SkipReason } from './class-rules.ts';

export interface ScannerDeps {
  cfg: Config;
  catalog: Catalog;
  ledger: Ledger;
  queue: JobQueue;
  log: Logger;
  now?: () => Date;
}

/** What one scan request did; logged, and kept per page in the ledger. */
export interface ScanSummary {
  /** True when another message had already taken this page (a duplicate continuation): nothing was done. */
  duplicate?: boolean;
  scanned: number;
  enqueued: string[];
  alreadyComplete: number;
  inProgress: number;
  failed: number;
  skipped: Partial<Record<SkipReason, number>>;
  skippedClasses: Array<{ classId: string; reason: SkipReason; detail?: string }>;
  /** True when the scan sent itself the next page. */
  continued: boolean;
}

/** A class in progress this long without news is presumed stuck and crawled again (resuming, not recounting). */
const STALE_AFTER_MS = 2 * 60 * 60 * 1000;

function emptySummary(): ScanSummary {
  return { scanned: 0, enqueued: [], alreadyComplete: 0, inProgress: 0, failed: 0, skipped: {}, skippedClasses: [], continued: false };
}

type Decision = 'enqueue' | 'complete' | 'in-progress' | 'failed';

function decide(record: ClassRecord | undefined, force: boolean, explicit: boolean, now: Date): Decision {
  if (!record || force) return 'enqueue';
  if (record.status === 'COMPLETE') return 'complete';
  // Asked for by name: a FAILED class is crawled again, which resends only its unfinished chunks.
  if (explicit) return 'enqueue';
  if (record.status === 'FAILED') return 'failed';
  const updated = Date.parse(record.updatedAt ?? '') || 0;
  return now.getTime() - updated > STALE_AFTER_MS ? 'enqueue' : 'in-progress';
}

async function enqueueReady(ready: ReadyClass[], force: boolean, explicit: boolean, deps: ScannerDeps, summary: ScanSummary): Promise<void> {
  if (ready.length === 0) return;
  const now = deps.now?.() ?? new Date();
  const records = await deps.ledger.getClasses(ready.map((c) => c.classId));
  const jobs: CrawlJob[] = [];
  for (const cls of ready) {
    const d = decide(records.get(cls.classId), force, explicit, now);
    if (d === 'complete') summary.alreadyComplete++;
    else if (d === 'in-progress') summary.inProgress++;
    else if (d === 'failed') summary.failed++;
    else {
      jobs.push({
        v: MESSAGE_VERSION,
        type: 'crawl',
        classId: cls.classId,
        manifestUrl: cls.manifestUrl,
        title: cls.title,
        endedAt: cls.endedAt,
        ...(force ? { force: true } : {}),
        requestedAt: now.toISOString(),
      });
    }
  }
  // Record PENDING before sending, so `flants status` never misses a class that has a job in flight.
  await mapLimit(jobs, 16, (job) => deps.ledger.markPending(job.classId, { title: job.title, manifestUrl: job.manifestUrl, endedAt: job.endedAt }));
  await deps.queue.sendAll('crawl', jobs);
  summary.enqueued.push(...jobs.map((j) => j.classId));
}

function skip(summary: ScanSummary, classId: string, reason: SkipReason, detail: string | undefined, log: Logger): void {
  summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1;
  summary.skippedClasses.push({ classId, reason, ...(detail ? { detail } : {}) });
  log.info('class skipped', { classId, reason, detail });
}

/** The delivery a scan request came in: its SQS message id makes pages idempotent. */
export interface ScanDelivery {
  messageId?: string;
}

/** Handles one scan request: validates classes from the catalog and sends a crawl job for each ready one. */
export async function runScan(req: ScanRequest, deps: ScannerDeps, delivery: ScanDelivery = {}): Promise<ScanSummary> {
  const summary = emptySummary();
  const { cfg, log } = deps;
  if (req.mode === 'class') {
    const doc = await deps.catalog.get(req.classId);
    if (!doc) throw new PoisonMessageError(`unknown class ${req.classId}: no document with that _id in ${cfg.mongo.collection}`);
    summary.scanned = 1;
    const verdict = judgeClass(doc, cfg.mongo.fields, cfg.originAllowedHosts);
    if (!verdict.ok) skip(summary, verdict.classId, verdict.reason, verdict.detail, log);
    else await enqueueReady([verdict.cls], req.force ?? false, true, deps, summary);
    await recordPage(deps, `manual-${req.classId}`, 'class', summary);
    log.info('scan finished', { mode: 'class', ...summarize(summary) });
    return summary;
  }

  const phase: IdPhase = req.phase ?? 'objectId';
  // The cron rule sends a fixed body; the first page names the scan (from its message, so a redelivery
  // of the first page is the same scan) and every continuation carries the name.
  const scanId = req.scanId ?? (delivery.messageId ? createHash('sha256').update(delivery.messageId).digest('hex').slice(0, 8) : newScanId());
  const pageKey = `${phase}:${req.after ?? 'start'}`;
  const claim = delivery.messageId ? await deps.ledger.claimScanPage(scanId, pageKey, delivery.messageId) : 'claimed';
  if (claim !== 'claimed') {
    // `taken`: a second continuation of this page (its sender ran twice); `done`: this message already
    // finished the page and sent its continuation. Either way, sending another would fork the scan.
    log.info('scan page already handled', { scanId, page: pageKey, claim });
    return { ...summary, duplicate: true };
  }
  const docs = await deps.catalog.page(phase, req.after, cfg.scan.pageSize);
  summary.scanned = docs.length;
  const ready: ReadyClass[] = [];
  for (const doc of docs) {
    const verdict = judgeClass(doc, cfg.mongo.fields, cfg.originAllowedHosts);
    if (verdict.ok) ready.push(verdict.cls);
    else skip(summary, verdict.classId, verdict.reason, verdict.detail, log);
  }
  await enqueueReady(ready, req.force ?? false, false, deps, summary);

  // Continue with the next page (or the string-id phase) as a new request: no invocation runs long.
  const last = docs.at(-1);
  let next: ScanRequest | undefined;
  if (docs.length >= cfg.scan.pageSize && last) {
    next = { ...req, scanId, phase, after: classIdOf(last._id)! };
  } else if (phase === 'objectId') {
    const { after: _after, ...rest } = req;
    next = { ...rest, scanId, phase: 'string' };
  }
  // The page's record is written before the continuation is sent: a page that cannot be recorded
  // continues nothing, and its redeliveries own the page, so the scan never forks.
  summary.continued = next !== undefined;
  await recordPage(deps, scanId, pageKey, summary);
  if (next) await deps.queue.sendAll('scan', [next]);
  if (delivery.messageId) await deps.ledger.finishScanPage(scanId, pageKey);
  log.info('scan page finished', { mode: 'catalog', phase, after: req.after, scanId, ...summarize(summary) });
  return summary;
}

async function recordPage(deps: ScannerDeps, scanId: string, page: string, s: ScanSummary): Promise<void> {
  await deps.ledger.recordScanPage({
    scanId,
    page,
    at: (deps.now?.() ?? new Date()).toISOString(),
    scanned: s.scanned,
    enqueued: s.enqueued,
    skipped: s.skippedClasses,
  });
}

function summarize(s: ScanSummary): Record<string, unknown> {
  return { scanned: s.scanned, enqueued: s.enqueued.length, alreadyComplete: s.alreadyComplete, inProgress: s.inProgress, failed: s.failed, skipped: s.skipped, continued: s.continued };
}
