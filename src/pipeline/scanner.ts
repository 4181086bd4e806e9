import { createHash } from 'node:crypto';
import type { Config } from '../config.ts';
import { mapLimit } from '../util/concurrency.ts';
import { PoisonMessageError } from '../errors.ts';
import type { CatalogScan, CrawlJob, RecheckScan, ScanRequest } from '../domain/jobs/schemas.ts';
import { crawlJob, scanRequest } from '../domain/jobs/envelopes.ts';
import type { Logger } from '../log.ts';
import { CLASS_SHARDS, type ClassRecord } from '../domain/ledger/records.ts';
import type { Ledger } from '../domain/ports/ledger.ts';
import type { Catalog, CatalogDocument } from '../domain/ports/catalog.ts';
import type { JobQueue } from '../domain/ports/job-queue.ts';
import { newPageToken, newScanId } from '../domain/jobs/ids.ts';
import { judgeClass, type ReadyClass, type SkipReason } from '../domain/planning/class-rules.ts';
import { queueOf, scanLane } from '../domain/lifecycle/lanes.ts';
import type { Lane } from '../domain/vocabulary.ts';

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
  /**
   * `full`: the catalog by `_id`; `incremental`: only documents changed or ended since the
   * watermark (less the overlap); `class`: one class by name.
   */
  kind?: 'full' | 'incremental' | 'class' | 'recheck';
  /** For an incremental page: the instant it read changes from. */
  since?: string;
  /** True when this (last) page moved the watermark to the scan's start. */
  watermarkAdvanced?: boolean;
  scanned: number;
  enqueued: string[];
  alreadyComplete: number;
  inProgress: number;
  failed: number;
  skipped: Partial<Record<SkipReason, number>>;
  skippedClasses: Array<{ classId: string; reason: SkipReason; detail?: string }>;
  /** True when the scan sent itself the next page. */
  continued: boolean;
  /** Classes of `enqueued` sent in the fresh lane. */
  fresh?: string[];
}

/** A class in progress this long without news is presumed stuck and crawled again (resuming, not recounting). */
const STALE_AFTER_MS = 2 * 60 * 60 * 1000;

function emptySummary(): ScanSummary {
  return {
    scanned: 0,
    enqueued: [],
    alreadyComplete: 0,
    inProgress: 0,
    failed: 0,
    skipped: {},
    skippedClasses: [],
    continued: false,
  };
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

async function enqueueReady(
  ready: ReadyClass[],
  force: boolean,
  explicit: boolean,
  deps: ScannerDeps,
  summary: ScanSummary,
): Promise<void> {
  if (ready.length === 0) return;
  const now = deps.now?.() ?? new Date();
  const records = await deps.ledger.getClasses(ready.map((c) => c.classId));
  const jobs: CrawlJob[] = [];
  const lanes = new Map<string, Lane>();
  for (const cls of ready) {
    const d = decide(records.get(cls.classId), force, explicit, now);
    if (d === 'complete') summary.alreadyComplete++;
    else if (d === 'in-progress') summary.inProgress++;
    else if (d === 'failed') summary.failed++;
    else {
      jobs.push(
        crawlJob({
          classId: cls.classId,
          manifestUrl: cls.manifestUrl,
          title: cls.title,
          endedAt: cls.endedAt,
          ...(force ? { force: true } : {}),
          requestedAt: now.toISOString(),
        }),
      );
      lanes.set(cls.classId, scanLane({ endedAt: cls.endedAt, explicit }, now, deps.cfg.fresh));
    }
  }
  // Record PENDING before sending, so `flants status` never misses a class that has a job in flight.
  await mapLimit(jobs, 16, (job) =>
    deps.ledger.markPending(job.classId, { title: job.title, manifestUrl: job.manifestUrl, endedAt: job.endedAt }),
  );
  // Fresh first: classes that ended recently (or were named by hand) are sent first, in their own lane.
  const fresh = jobs.filter((j) => lanes.get(j.classId) === 'fresh');
  await deps.queue.sendAll(queueOf('crawl', 'fresh'), fresh);
  await deps.queue.sendAll(
    'crawl',
    jobs.filter((j) => lanes.get(j.classId) !== 'fresh'),
  );
  summary.enqueued.push(...jobs.map((j) => j.classId));
  if (fresh.length) summary.fresh = fresh.map((j) => j.classId);
}

function skip(
  summary: ScanSummary,
  classId: string,
  reason: SkipReason,
  detail: string | undefined,
  log: Logger,
): void {
  summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1;
  summary.skippedClasses.push({ classId, reason, ...(detail ? { detail } : {}) });
  log.info('class skipped', { classId, reason, detail });
}

/**
 * The delivery a scan request came in. A page is claimed by the token its message carries (kept
 * through a DLQ redrive, which changes the message id), else by this message id (the schedule's
 * fixed first message has no token).
 */
export interface ScanDelivery {
  messageId?: string;
  /** The lane the request came in: a scan's next page is sent in the same lane. */
  lane?: Lane;
}

/** Who claims a page: the message's token, else its id; none when run by hand (no claim). */
const holderOf = (req: { token?: string | undefined }, delivery: ScanDelivery): string | undefined =>
  req.token ?? delivery.messageId;

/** Handles one scan request: validates classes from the catalog and sends a crawl job for each ready one. */
export async function runScan(req: ScanRequest, deps: ScannerDeps, delivery: ScanDelivery = {}): Promise<ScanSummary> {
  const summary = emptySummary();
  const { cfg, log } = deps;
  if (req.mode === 'recheck') return runRecheck(req, deps, delivery);
  if (req.mode === 'class') {
    const doc = await deps.catalog.get(req.classId);
    if (!doc)
      throw new PoisonMessageError(
        `unknown class ${req.classId}: no document with that _id in ${cfg.mongo.collection}`,
      );
    summary.scanned = 1;
    summary.kind = 'class';
    const verdict = judgeClass(doc, cfg.mongo.fields, cfg.originAllowedHosts);
    if (!verdict.ok) skip(summary, verdict.classId, verdict.reason, verdict.detail, log);
    else await enqueueReady([verdict.cls], req.force ?? false, true, deps, summary);
    await recordPage(deps, `manual-${req.classId}`, 'class', summary);
    log.info('scan finished', { mode: 'class', ...summarize(summary) });
    return summary;
  }

  // The cron rule sends a fixed body; the first page names the scan (from its message, so a redelivery
  // of the first page is the same scan) and every continuation carries the name.
  const scanId =
    req.scanId ??
    (delivery.messageId ? createHash('sha256').update(delivery.messageId).digest('hex').slice(0, 8) : newScanId());
  const first =
    req.since === undefined && req.phase === undefined && req.after === undefined && req.cursor === undefined;
  // The first page's key does not depend on what it decides (full or incremental): its redeliveries are the same page.
  const pageKey = first
    ? 'start'
    : req.since !== undefined
      ? `${req.cursor?.field ?? cfg.scan.changeFields[0]}:${req.cursor?.at ?? 'start'}|${req.cursor?.id ?? ''}`
      : `${req.phase ?? deps.catalog.idKinds[0]}:${req.after ?? 'start'}`;
  const holder = holderOf(req, delivery);
  const claim = holder ? await deps.ledger.claimScanPage(scanId, pageKey, holder) : 'claimed';
  if (claim !== 'claimed') {
    // `taken`: a second continuation of this page (its sender ran twice); `done`: this message already
    // finished the page and sent its continuation. Either way, sending another would fork the scan.
    // (A redriven message is not "another": it carries the token it was claimed by.)
    log.info('scan page already handled', { scanId, page: pageKey, claim });
    return { ...summary, duplicate: true };
  }
  const now = deps.now?.() ?? new Date();
  // The watermark a scan sets is when it started: whatever changed after that, the next scan reads.
  const startedAt = req.startedAt ?? (first ? now.toISOString() : undefined);
  const fieldsKey = cfg.scan.changeFields.join(',');
  let since = req.since;
  if (first && !req.full) {
    const mark = await deps.ledger.getWatermark(fieldsKey);
    if (mark) since = new Date(Date.parse(mark) - cfg.scan.overlapSeconds * 1000).toISOString();
    else log.info('no scan has finished yet: this one reads the whole catalog', { scanId, changeFields: fieldsKey });
  }

  const page = since !== undefined ? await changedPage(req, since, deps) : await idPage(req, deps);
  summary.kind = since !== undefined ? 'incremental' : 'full';
  if (since !== undefined) summary.since = since;
  summary.scanned = page.docs.length;
  const ready: ReadyClass[] = [];
  for (const doc of page.docs) {
    const verdict = judgeClass(doc, cfg.mongo.fields, cfg.originAllowedHosts);
    if (verdict.ok) ready.push(verdict.cls);
    else skip(summary, verdict.classId, verdict.reason, verdict.detail, log);
  }
  await enqueueReady(ready, req.force ?? false, false, deps, summary);

  // Continue with the next page (or the next phase) as a new request: no invocation runs long.
  // Each continuation sent gets its own token: if this page is redone and sends another, only one runs.
  const next: ScanRequest | undefined = page.next && {
    ...page.next,
    scanId,
    ...(since !== undefined ? { since } : {}),
    ...(startedAt ? { startedAt } : {}),
    token: newPageToken(),
  };
  // The page's record is written before the continuation is sent: a page that cannot be recorded
  // continues nothing, and its redeliveries own the page, so the scan never forks.
  summary.continued = next !== undefined;
  await recordPage(deps, scanId, pageKey, summary);
  if (next) await deps.queue.sendAll(queueOf('scan', delivery.lane ?? 'bulk'), [next]);
  // The last page moves the watermark (before the page is marked finished: a failure redoes the page, not the scan).
  if (!next && startedAt) summary.watermarkAdvanced = await deps.ledger.advanceWatermark(fieldsKey, startedAt, scanId);
  if (holder) await deps.ledger.finishScanPage(scanId, pageKey);
  log.info('scan page finished', { mode: 'catalog', page: pageKey, scanId, ...summarize(summary) });
  return summary;
}

/** A page of documents and the request that reads the page after it (without scan id, since and start). */
interface CatalogPage {
  docs: CatalogDocument[];
  next: CatalogScan | undefined;
}

/** A page of the whole catalog by id: one id kind after the other, in the catalog's order (MongoDB: ObjectIds, then string ids). */
async function idPage(req: CatalogScan, deps: ScannerDeps): Promise<CatalogPage> {
  const kinds = deps.catalog.idKinds;
  const phase = req.phase ?? kinds[0]!;
  const docs = await deps.catalog.page(phase, req.after, deps.cfg.scan.pageSize);
  const last = docs.at(-1);
  const { since: _s, cursor: _c, ...base } = req;
  if (docs.length >= deps.cfg.scan.pageSize && last) return { docs, next: { ...base, phase, after: last.id } };
  const following = kinds[kinds.indexOf(phase) + 1];
  if (following !== undefined) {
    const { after: _after, ...rest } = base;
    return { docs, next: { ...rest, phase: following } };
  }
  return { docs, next: undefined };
}

/**
 * A page of the documents changed since `since`, by one change field at a time (each an index range
 * read on (field, _id)): only what changed is read, however large the catalog.
 */
async function changedPage(req: CatalogScan, since: string, deps: ScannerDeps): Promise<CatalogPage> {
  const { cfg } = deps;
  const fields = cfg.scan.changeFields;
  const field = req.cursor?.field ?? fields[0]!;
  const docField = cfg.mongo.fields[field];
  const c = req.cursor;
  // A cursor sent before `idKind` says `oid`: true for the catalog's first id kind, false for its second.
  const idKind = c?.idKind ?? deps.catalog.idKinds[c?.oid === false ? 1 : 0] ?? deps.catalog.idKinds[0]!;
  const after = c?.at !== undefined && c.id !== undefined ? { at: new Date(c.at), id: c.id, idKind } : undefined;
  const docs = await deps.catalog.changedPage(docField, new Date(since), after, cfg.scan.pageSize);
  const { phase: _p, after: _a, full: _f, ...base } = req;
  const last = docs.at(-1);
  if (docs.length >= cfg.scan.pageSize && last) {
    const at: unknown = last.fields[docField];
    if (!(at instanceof Date))
      throw new Error(`catalog field ${docField} of ${last.id} is not a date, yet matched a date range`);
    return {
      docs,
      next: {
        ...base,
        cursor: { field, at: at.toISOString(), id: last.id, idKind: last.idKind },
      },
    };
  }
  const following = fields[fields.indexOf(field) + 1];
  return { docs, next: following ? { ...base, cursor: { field: following } } : undefined };
}

/**
 * A change check request: sends a `recheck` crawl job for one COMPLETE class, or for every COMPLETE
 * class, a page of the ledger's class index at a time (shard by shard), continuing itself like a scan.
 */
async function runRecheck(req: RecheckScan, deps: ScannerDeps, delivery: ScanDelivery): Promise<ScanSummary> {
  const { cfg, log } = deps;
  const summary: ScanSummary = { ...emptySummary(), kind: 'recheck' };
  const requestedAt = (deps.now?.() ?? new Date()).toISOString();
  const job = (r: ClassRecord): CrawlJob =>
    crawlJob({
      classId: r.classId,
      manifestUrl: r.manifestUrl!,
      ...(r.title ? { title: r.title } : {}),
      ...(r.endedAt ? { endedAt: r.endedAt } : {}),
      recheck: true,
      requestedAt,
    });
  const sendChecks = async (records: ClassRecord[]) => {
    const jobs: CrawlJob[] = [];
    for (const r of records) {
      if (r.status !== 'COMPLETE') summary[r.status === 'FAILED' ? 'failed' : 'inProgress']++;
      else if (!r.manifestUrl) skip(summary, r.classId, 'missing manifestUrl', 'the ledger record has none', log);
      else jobs.push(job(r));
    }
    await deps.queue.sendAll('crawl', jobs);
    summary.enqueued.push(...jobs.map((j) => j.classId));
  };

  if (req.classId !== undefined) {
    const rec = await deps.ledger.getClass(req.classId);
    if (!rec)
      throw new PoisonMessageError(
        `cannot check class ${req.classId} for changes: it is not in the ledger (never copied)`,
      );
    summary.scanned = 1;
    await sendChecks([rec]);
    await recordPage(deps, `recheck-${req.classId}`, 'class', summary);
    log.info('change check requested', { classId: req.classId, sent: summary.enqueued.length, status: rec.status });
    return summary;
  }

  const scanId =
    req.scanId ??
    (delivery.messageId ? createHash('sha256').update(delivery.messageId).digest('hex').slice(0, 8) : newScanId());
  const shard = req.shard ?? 0;
  const pageKey = `recheck:${shard}:${req.after ?? 'start'}`;
  const holder = holderOf(req, delivery);
  const claim = holder ? await deps.ledger.claimScanPage(scanId, pageKey, holder) : 'claimed';
  if (claim !== 'claimed') {
    log.info('recheck page already handled', { scanId, page: pageKey, claim });
    return { ...summary, duplicate: true };
  }
  const page = await deps.ledger.pageCompleteClasses(shard, req.after, cfg.scan.pageSize);
  summary.scanned = page.records.length;
  await sendChecks(page.records);
  const next: RecheckScan | undefined =
    page.last !== undefined
      ? { ...req, scanId, shard, after: page.last, token: newPageToken() }
      : shard + 1 < CLASS_SHARDS
        ? scanRequest({ mode: 'recheck', scanId, shard: shard + 1, token: newPageToken() })
        : undefined;
  summary.continued = next !== undefined;
  await recordPage(deps, scanId, pageKey, summary);
  if (next) await deps.queue.sendAll(queueOf('scan', delivery.lane ?? 'bulk'), [next]);
  if (holder) await deps.ledger.finishScanPage(scanId, pageKey);
  log.info('recheck page finished', { scanId, page: pageKey, ...summarize(summary) });
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
  return {
    kind: s.kind,
    since: s.since,
    watermarkAdvanced: s.watermarkAdvanced,
    scanned: s.scanned,
    enqueued: s.enqueued.length,
    alreadyComplete: s.alreadyComplete,
    inProgress: s.inProgress,
    failed: s.failed,
    skipped: s.skipped,
    continued: s.continued,
  };
}
