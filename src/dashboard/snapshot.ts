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
  /** Classes that matched but were left out to keep the page small. */
  omitted: number;
  /** The status filter applied to `classes`, if any. */
  filter: ClassStatus | undefined;
  queues: QueueRow[];
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
  };
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
  const matching = (opts.status ? rows.filter((r) => r.status === opts.status) : rows).sort(compareRows);
  return {
    stage: src.stage,
    generatedAt: (opts.now?.() ?? new Date()).toISOString(),
    counts,
    totals,
    classes: matching.slice(0, limit),
    omitted: Math.max(0, matching.length - limit),
    filter: opts.status,
    queues,
  };
}
