import { freshnessSummary, type FreshnessSummary } from '../pipeline/freshness.ts';
import { classNote } from '../pipeline/report.ts';
import { QUEUE_ROLES } from '../config.ts';
import { describeError } from '../errors.ts';
import type { ClassRecord, ClassStatus, Ledger } from '../store/ledger.ts';
import type { JobQueue, QueueName } from '../store/queue.ts';

/** Every class status, in the order the dashboard lists classes: what needs a look first. */
export const STATUS_ORDER: readonly ClassStatus[] = ['FAILED', 'TRANSFERRING', 'CRAWLING', 'PENDING', 'COMPLETE'];

/** Every queue the dashboard reports, work queues then their DLQs. */
export const DASHBOARD_QUEUES: readonly QueueName[] = [...QUEUE_ROLES, ...QUEUE_ROLES.map((r) => `${r}-dlq` as const)];

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
  /** Seconds from the class's end (or the change that started its copy) to COMPLETE. */
  freshnessSeconds?: number | undefined;
}

/** One queue's depth, or why it could not be read. */
export interface QueueRow {
  name: QueueName;
  visible: number | undefined;
  inFlight: number | undefined;
  delayed: number | undefined;
  error: string | undefined;
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
  /** Median, p95 and worst freshness of the classes completed in the last 24 hours (over the whole ledger). */
  freshness?: FreshnessSummary;
}

/** What a snapshot reads: the ledger's class records and the queues' depths. */
export interface DashboardSources {
  stage: string;
  ledger: Pick<Ledger, 'listClasses'>;
  queue: Pick<JobQueue, 'depth'>;
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

/** Maps a ledger record to a row; counters a record does not have yet are zero. */
export function toClassRow(r: ClassRecord): ClassRow {
  return {
    classId: r.classId,
    title: r.title,
    status: r.status,
    doneFiles: n(r.doneFiles),
    totalFiles: r.totalFiles,
    doneBytes: n(r.doneBytes),
    failedFiles: n(r.failedFiles),
    lastError: classNote(r),
    updatedAt: r.updatedAt,
    ...(r.freshnessSeconds === undefined ? {} : { freshnessSeconds: r.freshnessSeconds }),
  };
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
export function compareRows(a: ClassRow, b: ClassRow): number {
  const s = STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status);
  if (s !== 0) return s;
  const t = (b.updatedAt ?? '').localeCompare(a.updatedAt ?? '');
  return t !== 0 ? t : a.classId.localeCompare(b.classId);
}

/** Reads the ledger and every queue's depth; a queue that cannot be read is reported, not fatal. */
export async function collectSnapshot(src: DashboardSources, opts: SnapshotOptions = {}): Promise<DashboardSnapshot> {
  const limit = opts.limit ?? 500;
  const [records, queues] = await Promise.all([
    src.ledger.listClasses(),
    Promise.all(
      DASHBOARD_QUEUES.map(async (name): Promise<QueueRow> => {
        try {
          const d = await src.queue.depth(name);
          return { name, visible: d.visible, inFlight: d.inFlight, delayed: d.delayed, error: undefined };
        } catch (err) {
          return { name, visible: undefined, inFlight: undefined, delayed: undefined, error: describeError(err) };
        }
      }),
    ),
  ]);
  const rows = records.map(toClassRow);
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
    .filter((r) => !after || compareRows(r, { ...after, title: undefined, doneFiles: 0, totalFiles: undefined, doneBytes: 0, failedFiles: 0, lastError: undefined }) > 0);
  const page = matching.slice(0, limit);
  return {
    stage: src.stage,
    generatedAt: (opts.now?.() ?? new Date()).toISOString(),
    counts,
    totals,
    classes: page,
    omitted: Math.max(0, matching.length - page.length),
    next: page.length > 0 && matching.length > page.length ? encodeCursor(page.at(-1)!) : undefined,
    filter: opts.status,
    queues,
    freshness: freshnessSummary(records, opts.now?.() ?? new Date()),
  };
}
