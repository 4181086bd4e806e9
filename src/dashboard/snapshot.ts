import { createHash } from 'node:crypto';
import { classNote, toClassView, type ClassBits, type VerifiedMark } from '../views/report.ts';
import { freshnessSummary, type FreshnessSummary } from '../views/freshness.ts';
import { describeClassAccount } from '../views/accounting.ts';
import { deadLetterAdvice } from './dlq-advice.ts';
import type { DeadLetterSample } from '../domain/jobs/dead-letter.ts';
import { freshnessHeadline } from './freshness-line.ts';
import { QUEUE_ROLES } from '../domain/vocabulary.ts';
import { allQueues } from '../domain/lifecycle/lanes.ts';
import { laneFreshness, type LaneFreshness } from '../views/lane-freshness.ts';
import { describeError } from '../errors.ts';
import type { ClassRecord, ClassStatus, GoneFiles } from '../domain/ledger/records.ts';
import type { ClassLedger } from '../domain/ports/ledger.ts';
import type { OriginHealthRow } from '../adapters/dynamodb/origin-health.ts';
import type { JobQueue, QueueName } from '../domain/ports/job-queue.ts';
import type { QueueAges } from '../domain/lifecycle/queue-age.ts';

/** Every class status, in the order the dashboard lists classes: what needs a look first. */
export const STATUS_ORDER: readonly ClassStatus[] = ['FAILED', 'TRANSFERRING', 'CRAWLING', 'PENDING', 'COMPLETE'];

/** Every queue the dashboard reports, work queues (each stage's fresh lane first) then their DLQs. */
export const DASHBOARD_QUEUES: readonly QueueName[] = [...allQueues(QUEUE_ROLES).work, ...allQueues(QUEUE_ROLES).dlqs];

/** One class as the dashboard shows it. */
export interface ClassRow {
  classId: string;
  title: string | undefined;
  status: ClassStatus;
  doneFiles: number;
  /** Unknown until the class is crawled. */
  totalFiles: number | undefined;
  doneBytes: number;
  failedFiles: number;
  /** What to read about the class (see classNote): its standing error, why it waits, or its failing retries. */
  lastError: string | undefined;
  updatedAt: string | undefined;
  /** Which chunks are done and failed (docs/ledger.md, "The bit field"); undefined before the first plan. */
  bits: ClassBits | undefined;
  /** Plan generation: the counters and bits belong to it (a new one starts from zero). */
  gen: number;
  /** Failed deliveries SQS retries; the class is not stuck but struggling. */
  failedAttempts: number;
  /** While set and in the future, the class waits on purpose (playlists still growing): not stuck. */
  waitUntil: string | undefined;
  /** First enqueued; with completedAt, the time from first enqueue to COMPLETE (shown beside freshness). */
  createdAt: string | undefined;
  completedAt: string | undefined;
  /** Seconds from the class's end (or the change that started its copy) to COMPLETE. */
  freshnessSeconds?: number | undefined;
  /** Files the origin no longer has whose verified copies the bucket keeps (absent when none). */
  goneAtOrigin?: GoneFiles | undefined;
  /** The last `flants verify` of the class (absent when never verified). */
  verified?: VerifiedMark | undefined;
  /** How done, failed and not-yet-counted files add up when a chunk failed (absent when none did). */
  fileAccount?: string | undefined;
}

/** One queue's depth, or why it could not be read. */
export interface QueueRow {
  name: QueueName;
  visible: number | undefined;
  inFlight: number | undefined;
  delayed: number | undefined;
  error: string | undefined;
  /** What an operator should do about this queue now (a DLQ holding messages), if anything. */
  advice: string | undefined;
  /**
   * When its oldest message was sent (null: empty), where the endpoint says (on AWS: CloudWatch's
   * ApproximateAgeOfOldestMessage). An instant, not an age: the page's ETag stays while nothing moves.
   */
  oldestSentAt?: string | null | undefined;
  /**
   * The instant `oldestSentAt` describes, where the figure is a metric's and not a live reading
   * (CloudWatch's, minutes late): the age shown is as of then, not extrapolated to now.
   */
  oldestAsOf?: string | undefined;
}

/** Everything one page shows, read at one moment. */
export interface DashboardSnapshot {
  stage: string;
  generatedAt: string;
  /** Classes per status, over the whole ledger (not only the listed rows). */
  counts: Record<ClassStatus, number>;
  totals: { classes: number; doneFiles: number; totalFiles: number; doneBytes: number; failedFiles: number };
  /** The listed classes, in STATUS_ORDER, most recently updated first within a status. */
  classes: ClassRow[];
  /** Classes that matched but come after this page. */
  omitted: number;
  /** Opaque cursor of the next page (`?cursor=`), or undefined on the last page. */
  next: string | undefined;
  /** The status filter applied to `classes`, if any. */
  filter: ClassStatus | undefined;
  queues: QueueRow[];
  /**
   * Changes whenever any class record (listed or not) or queue depth changes: status.json's ETag,
   * so a page polling with If-None-Match learns "nothing new" from its first page alone.
   */
  version: string;
  /** Median, p95 and worst freshness of the classes completed in the last 24 hours (over the whole ledger). */
  freshness?: FreshnessSummary;
  /** `freshness` as the page and `status --watch` print it. */
  freshnessText?: string;
  /** The same, apart: classes that were fresh work (ended shortly before they were enqueued) and the backfill's. */
  laneFreshness?: LaneFreshness;
  /** The origin's answers to the fleet over the last few minutes, per host (when the sources can read them). */
  origins?: OriginHealthRow[];
}

/** What a snapshot reads: the ledger's class records (and one class's failures) and the queues' depths. */
export interface DashboardSources {
  stage: string;
  ledger: Pick<ClassLedger, 'listClasses' | 'pageFailures'>;
  queue: Pick<JobQueue, 'depth' | 'oldestSentAt'>;
  /** Every queue's oldest message from a metric, in one read (on AWS: CloudWatch); used where `queue` cannot say. */
  ages?: QueueAges;
  /** The reasons of some dead-lettered messages (the CLI reads them; the deployed page only counts them). */
  deadLetters?: (name: QueueName, visible: number) => Promise<readonly DeadLetterSample[]>;
  /** FRESH_WITHIN_HOURS: what counts as fresh work when freshness is split (default 24). */
  freshWithinHours?: number;
  /** The origin's answers per host over the last minutes (src/adapters/dynamodb/origin-health.ts). */
  origins?: () => Promise<OriginHealthRow[]>;
}

export interface SnapshotOptions {
  /** Most class rows listed (the counts always cover every class). */
  limit?: number;
  /** List only rows after this cursor (from a previous page's `next`). */
  after?: PageCursor;
  status?: ClassStatus;
  now?: () => Date;
}

const n = (v: number | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * Maps a ledger record to a dashboard row: a projection of the one class view (`toClassView`), in the
 * names the page's JSON has always used; only what the page alone needs is read here.
 */
export function toClassRow(r: ClassRecord): ClassRow {
  const v = toClassView(r);
  return {
    classId: v.classId,
    title: v.title,
    status: v.status,
    doneFiles: v.doneFiles,
    // Unknown until the class is crawled (the view says 0; the page says "?").
    totalFiles: r.totalFiles,
    doneBytes: v.bytes,
    failedFiles: v.failedFiles,
    lastError: classNote(v),
    updatedAt: v.updatedAt,
    bits: v.bits ?? undefined,
    gen: v.gen,
    failedAttempts: v.failedAttempts,
    waitUntil: r.waiting ? r.waitUntil : undefined,
    createdAt: r.createdAt,
    completedAt: v.status === 'COMPLETE' ? v.completedAt : undefined,
    ...(v.freshnessSeconds === undefined ? {} : { freshnessSeconds: v.freshnessSeconds }),
    ...(v.goneAtOrigin.count > 0 ? { goneAtOrigin: v.goneAtOrigin } : {}),
    ...(v.verified ? { verified: v.verified } : {}),
    ...withAccount(describeClassAccount(v)),
  };
}

function withAccount(fileAccount: string | undefined): { fileAccount?: string } {
  return fileAccount === undefined ? {} : { fileAccount };
}

/** Seconds the oldest message of a queue row had waited when the snapshot was read; undefined when unknown or empty. */
export function oldestSeconds(
  q: Pick<QueueRow, 'oldestSentAt' | 'oldestAsOf'>,
  generatedAt: string,
): number | undefined {
  if (!q.oldestSentAt) return undefined;
  return Math.max(0, (Date.parse(q.oldestAsOf ?? generatedAt) - Date.parse(q.oldestSentAt)) / 1000);
}

/** How long before the page the queue's age figure was measured; undefined for a live reading. */
export function oldestAsOfSeconds(q: Pick<QueueRow, 'oldestAsOf'>, generatedAt: string): number | undefined {
  if (!q.oldestAsOf) return undefined;
  return Math.max(0, (Date.parse(generatedAt) - Date.parse(q.oldestAsOf)) / 1000);
}

/** What to do about a queue: a DLQ with messages, from why they are there when that could be read (dlq-advice.ts). */
export function queueAdvice(
  name: QueueName,
  visible: number | undefined,
  samples?: readonly DeadLetterSample[],
): string | undefined {
  return deadLetterAdvice(name, visible, samples);
}

/** Where a page ended: the sort key of its last row. */
export interface PageCursor {
  status: ClassStatus;
  updatedAt: string | undefined;
  classId: string;
}

/** Encodes the position after `row` as an opaque URL-safe cursor. */
export function encodeCursor(row: Pick<ClassRow, 'status' | 'updatedAt' | 'classId'>): string {
  return Buffer.from(JSON.stringify([row.status, row.updatedAt ?? '', row.classId])).toString('base64url');
}

/** Decodes a cursor from `encodeCursor`; undefined when it is not one. */
export function decodeCursor(text: string): PageCursor | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'string')) return undefined;
    const [status, updatedAt, classId] = v as [string, string, string];
    if (!STATUS_ORDER.includes(status as ClassStatus)) return undefined;
    return { status: status as ClassStatus, updatedAt: updatedAt || undefined, classId };
  } catch {
    return undefined;
  }
}

/** Orders rows as the dashboard lists them: by STATUS_ORDER, then most recently updated, then id. */
export function compareRows(
  a: Pick<ClassRow, 'status' | 'updatedAt' | 'classId'>,
  b: Pick<ClassRow, 'status' | 'updatedAt' | 'classId'>,
): number {
  const s = STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status);
  if (s !== 0) return s;
  const t = (b.updatedAt ?? '').localeCompare(a.updatedAt ?? '');
  return t !== 0 ? t : a.classId.localeCompare(b.classId);
}

/** Reads the ledger and every queue's depth; a queue that cannot be read is reported, not fatal. */
export async function collectSnapshot(src: DashboardSources, opts: SnapshotOptions = {}): Promise<DashboardSnapshot> {
  const limit = opts.limit ?? 500;
  const at = opts.now?.() ?? new Date();
  // One metric read for every queue, beside the depths; a failed read leaves the ages unknown ("—").
  const ages = src.ages?.oldest(DASHBOARD_QUEUES).catch(() => undefined);
  const [records, queues, origins] = await Promise.all([
    src.ledger.listClasses(),
    Promise.all(
      DASHBOARD_QUEUES.map(async (name): Promise<QueueRow> => {
        try {
          const [d, inspected, measured] = await Promise.all([
            src.queue.depth(name),
            src.queue.oldestSentAt?.(name).catch(() => undefined),
            ages?.then((m) => m?.get(name)),
          ]);
          const oldest = inspected !== undefined ? inspected : measured?.sentAt;
          const asOf = inspected === undefined && measured ? new Date(measured.asOf).toISOString() : undefined;
          const samples =
            src.deadLetters && name.endsWith('-dlq') && d.visible > 0
              ? await src.deadLetters(name, d.visible).catch(() => undefined)
              : undefined;
          return {
            name,
            visible: d.visible,
            inFlight: d.inFlight,
            delayed: d.delayed,
            error: undefined,
            advice: queueAdvice(name, d.visible, samples),
            ...(oldest === undefined ? {} : { oldestSentAt: oldest === null ? null : new Date(oldest).toISOString() }),
            ...(asOf ? { oldestAsOf: asOf } : {}),
          };
        } catch (err) {
          return {
            name,
            visible: undefined,
            inFlight: undefined,
            delayed: undefined,
            error: describeError(err),
            advice: undefined,
          };
        }
      }),
    ),
    // The origin's figures are an addition: a page without them is still the page.
    src.origins?.().catch(() => undefined),
  ]);
  const rows = records.map(toClassRow);
  const freshness = freshnessSummary(records, at);
  const counts = Object.fromEntries(STATUS_ORDER.map((s) => [s, 0])) as Record<ClassStatus, number>;
  const totals = { classes: rows.length, doneFiles: 0, totalFiles: 0, doneBytes: 0, failedFiles: 0 };
  for (const r of rows) {
    counts[r.status] = (counts[r.status] ?? 0) + 1;
    totals.doneFiles += r.doneFiles;
    totals.totalFiles += n(r.totalFiles);
    totals.doneBytes += r.doneBytes;
    totals.failedFiles += r.failedFiles;
  }
  const after = opts.after;
  const matching = (opts.status ? rows.filter((r) => r.status === opts.status) : rows)
    .sort(compareRows)
    // Keyset paging: rows that sort after the previous page's last row, whatever changed since.
    .filter((r) => !after || compareRows(r, { ...after, classId: after.classId }) > 0);
  const page = matching.slice(0, limit);
  return {
    stage: src.stage,
    generatedAt: at.toISOString(),
    counts,
    totals,
    classes: page,
    omitted: Math.max(0, matching.length - page.length),
    next: page.length > 0 && matching.length > page.length ? encodeCursor(page.at(-1)!) : undefined,
    filter: opts.status,
    queues,
    version: versionOf(rows, queues, origins),
    // The same instant as generatedAt: the page's ETag leaves that instant out, so nothing else may depend on the clock.
    freshness,
    freshnessText: freshnessHeadline(freshness),
    laneFreshness: laneFreshness(records, at, src.freshWithinHours ?? 24),
    ...(origins ? { origins } : {}),
  };
}

/** A short digest of every row and queue depth (not of the time they were read). */
function versionOf(
  rows: readonly ClassRow[],
  queues: readonly QueueRow[],
  origins?: readonly OriginHealthRow[],
): string {
  // One string, one update: thousands of small updates cost more than the hashing itself.
  const parts: string[] = [];
  // Every write of a class record sets updatedAt, so its bits need not be hashed as well.
  for (const r of rows)
    parts.push(`${r.classId}\0${r.status}\0${r.updatedAt ?? ''}\0${r.doneFiles}\0${r.failedFiles}\0${r.gen}`);
  for (const q of queues)
    parts.push(
      `${q.name}\0${q.visible ?? ''}\0${q.inFlight ?? ''}\0${q.delayed ?? ''}\0${q.error ?? ''}\0${q.oldestSentAt ?? ''}\0${q.oldestAsOf ?? ''}`,
    );
  for (const o of origins ?? []) parts.push(`${o.host}\0${o.ok}\0${o.throttled}\0${o.distress}\0${o.other}`);
  return createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 22);
}

/** One failed chunk as the page opens it: its files by key (sources stay out: they may carry tokens) and reasons. */
export interface FailedChunkView {
  chunk: number;
  at: string;
  /** Recorded when the last delivery began and not confirmed: the function may have crashed. */
  provisional: boolean;
  files: Array<{ key: string; reason: string }>;
  /** Files that failed but are not listed (the ledger's record was full, or the response was). */
  notListed: number;
}

/** A class's failed files with reasons: `status.json?class=<id>`. */
export interface ClassFailures {
  classId: string;
  failures: FailedChunkView[];
  /** Failed chunks after the listed ones, not read: the response was full (`flants report` lists them all). */
  more: boolean;
}

/** Characters of file listing one failures response carries: far below Lambda's 6 MB. */
const MAX_FAILURE_LISTING_CHARS = 1_000_000;

/** Failure items read per page: a class may have thousands of failed chunks. */
const FAILURE_PAGE = 50;

/** Reads the failed files of a class's current generation, page by page, until a response is full. */
export async function collectFailures(src: Pick<DashboardSources, 'ledger'>, classId: string): Promise<ClassFailures> {
  let budget = MAX_FAILURE_LISTING_CHARS;
  const failures: FailedChunkView[] = [];
  let after: number | undefined;
  do {
    const page = await src.ledger.pageFailures(classId, after, FAILURE_PAGE);
    for (const f of page.failures) {
      const files: FailedChunkView['files'] = [];
      for (const file of f.files) {
        budget -= file.key.length + file.reason.length + 32;
        if (budget < 0) break;
        files.push({ key: file.key, reason: file.reason });
      }
      failures.push({
        chunk: f.chunk,
        at: f.at,
        provisional: f.provisional,
        files,
        notListed: f.files.length - files.length + (f.truncated ?? 0),
      });
    }
    after = page.next;
  } while (after !== undefined && budget > 0);
  return { classId, failures, more: after !== undefined };
}
